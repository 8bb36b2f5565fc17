"""Errors no retry fixes, made by the API server itself: a ValidatingAdmissionPolicy refuses a
request the operator sends (422), on every try.

In Validating (the SQL's ConfigMap refused) the rollback ends at once through the failure
policy: nothing was touched, the app is as it was. In RollingBack (the hold-down's scale to 0
refused, while the rollback Job waits at the gate) it is tried again, saying a human is needed
(status reason, Reconciling condition, a Warning Event each time), counted in status, the
database's Lease held and renewed; once the Job has ended it ends through the failure policy,
naming the refusal and the Job's end.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client
from scenario import GATED, SOCIAL, Shop, wait_for

from migration_rollback import api
from migration_rollback.kube.jobs import LABEL_MANAGED, LABEL_PURPOSE, MANAGED_BY

pytestmark = pytest.mark.e2e

GROUP, VERSION = "admissionregistration.k8s.io", "v1"
WAITING = "ErrorWaitingForJobNeedsHuman"
ROLLBACK = f"""-- ROLLBACK: {SOCIAL}
DROP INDEX IF EXISTS public.idx_timeline_comments_event;
"""
OUR_CONFIG_MAPS = {
    "resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"],
                       "resources": ["configmaps"]}],
    "objectSelector": {"matchLabels": {LABEL_MANAGED: MANAGED_BY}},
}  # fmt: skip
ROLLBACK_JOBS = {
    "resourceRules": [{"apiGroups": ["batch"], "apiVersions": ["v1"], "operations": ["CREATE"],
                       "resources": ["jobs"]}],
    "objectSelector": {"matchLabels": {LABEL_PURPOSE: "rollback"}},
}  # fmt: skip
SCALES = {
    "resourceRules": [{"apiGroups": ["apps"], "apiVersions": ["v1"],
                       "operations": ["CREATE", "UPDATE"],
                       "resources": ["deployments", "deployments/scale"]}],
}  # fmt: skip


@contextlib.contextmanager
def refusing(
    shop: Shop, what: str, match: dict[str, Any], rule: str, acts: Callable[[], bool]
) -> Iterator[None]:
    """A ValidatingAdmissionPolicy refusing what `rule` (CEL) rejects, in the shop's
    namespace, for the block's time; waited for until `acts` sees it refuse."""
    name = f"e2e-{what}-{shop.namespace}"[:63]
    policy = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name},
        "spec": {
            "matchConstraints": match,
            "failurePolicy": "Fail",
            "validations": [{"expression": rule, "message": f"e2e refuses {what}"}],
        },
    }
    binding = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": name},
        "spec": {
            "policyName": name,
            "validationActions": ["Deny"],
            "matchResources": {
                "namespaceSelector": {
                    "matchLabels": {"kubernetes.io/metadata.name": shop.namespace}
                }
            },
        },
    }
    custom = shop.custom
    try:
        custom.create_cluster_custom_object(GROUP, VERSION, "validatingadmissionpolicies", policy)
    except client.exceptions.ApiException as exc:
        if exc.status == 404:
            pytest.skip(f"this API server does not serve ValidatingAdmissionPolicy ({VERSION})")
        raise
    bindings = "validatingadmissionpolicybindings"
    custom.create_cluster_custom_object(GROUP, VERSION, bindings, binding)
    try:
        wait_for(f"the policy refusing {what} to act", acts)  # loaded through its watches
        yield
    finally:
        custom.delete_cluster_custom_object(GROUP, VERSION, bindings, name)
        custom.delete_cluster_custom_object(GROUP, VERSION, "validatingadmissionpolicies", name)


def refused(call: Callable[[], Any]) -> bool:
    try:
        call()
    except client.exceptions.ApiException as exc:
        return exc.status == 422
    return False


def config_map_refused(shop: Shop) -> bool:
    probe = {"metadata": {"generateName": "probe-", "labels": {LABEL_MANAGED: MANAGED_BY}}}
    return refused(
        lambda: shop.core.create_namespaced_config_map(shop.namespace, probe, dry_run="All")
    )


def rollback_job_refused(shop: Shop) -> bool:
    probe = {
        "metadata": {"generateName": "probe-", "labels": {LABEL_PURPOSE: "rollback"}},
        "spec": {
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "probe", "image": "unused.invalid/probe:1"}],
                }
            }
        },
    }
    return refused(
        lambda: client.BatchV1Api(shop.k8s).create_namespaced_job(
            shop.namespace, probe, dry_run="All"
        )
    )


def scale_to_zero_refused(shop: Shop) -> bool:
    """A Deployment at 0 created as a dry run (a scale of the app, already at 0, would change
    nothing: the API server admits no such update)."""
    labels = {"app": "probe"}
    probe = {
        "metadata": {"generateName": "probe-"},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "probe", "image": "unused.invalid/probe:1"}]},
            },
        },
    }
    return refused(
        lambda: shop.apps.create_namespaced_deployment(shop.namespace, probe, dry_run="All")
    )


def test_an_error_in_validating_ends_it_with_the_app_untouched(shop: Shop) -> None:
    with refusing(shop, "sql-configmaps", OUR_CONFIG_MAPS, "false",
                  lambda: config_map_refused(shop)):  # fmt: skip
        shop.mrb("undo-refused-cm", migration=SOCIAL, rollback={"sql": ROLLBACK})
        done = shop.wait_phase("undo-refused-cm", "Failed", "Succeeded", timeout=120)["status"]
    assert done["reason"] == "UnexpectedError", done.get("message")
    assert "(422)" in done["message"]
    assert "e2e refuses sql-configmaps" in done["message"]
    assert done.get("jobName") is None
    assert not done.get("originalReplicas")
    assert shop.replicas() == 3
    assert shop.endpoints.maintenance_calls() == []
    assert shop.database_lease() is None
    assert shop.table_exists("public.idx_timeline_comments_event")
    shop.wait_events("undo-refused-cm", "UnexpectedError")


def test_an_error_in_rolling_back_waits_for_the_job_then_ends(shop: Shop) -> None:
    shop.close_gate()
    shop.mrb("undo-refused-scale", migration=SOCIAL, rollback={"sql": GATED},
             backup={"mode": "none"})  # fmt: skip
    try:
        shop.wait_phase("undo-refused-scale", "RollingBack", timeout=180)
        # A Scale at 0 leaves replicas out (omitempty): a Scale without them is refused too.
        rule = "has(object.spec.replicas) && object.spec.replicas != 0"
        with refusing(shop, "scale-to-zero", SCALES, rule, lambda: scale_to_zero_refused(shop)):
            # Someone scales the app up: the hold-down's scale back to 0 is refused each turn.
            shop.apps.patch_namespaced_deployment_scale(
                "shop-web", shop.namespace, {"spec": {"replicas": 3}}
            )
            waiting = wait_for(
                "the refusal retried twice", lambda: retried(shop, 2, "undo-refused-scale"), 120
            )
            assert waiting["phase"] == "RollingBack"
            assert "A human is needed" in waiting["message"]
            assert "e2e refuses scale-to-zero" in waiting["message"]
            reconciling = shop.condition("undo-refused-scale", "Reconciling")
            assert (reconciling["status"], reconciling["reason"]) == ("True", WAITING)
            shop.wait_events("undo-refused-scale", WAITING)
            lease = shop.database_lease()
            assert lease is not None
            renewed = lease["spec"]["renew_time"]
            # Renewed every 60 s while the turns fail (it lasts 600 s): wait for the next one.
            wait_for("the Lease renewed", lambda: renewed_since(shop, renewed), 180)
            assert shop.phase("undo-refused-scale") == "RollingBack"
            shop.open_gate()  # the Job commits and ends: its fate is known
            done = shop.wait_phase("undo-refused-scale", "Failed", "Succeeded", timeout=180)
    finally:
        shop.open_gate()
    status = done["status"]
    assert status["reason"] == "UnexpectedError", status.get("message")
    assert "the rollback Job has ended" in status["message"]
    assert "e2e refuses scale-to-zero" in status["message"]
    assert status["databaseChanged"] is True  # it committed: held for a human, not restored
    # Held for a human, but not "left down": the app was scaled back up, the scale to 0 refused.
    assert "left down" not in status["message"]
    assert "it is not down, its workloads were last seen scaled up (shop-web=3" in status["message"]
    assert shop.replicas() == 3
    assert not shop.table_exists("public.idx_timeline_comments_event")
    assert shop.database_lease() is None
    shop.wait_events("undo-refused-scale", "HeldForHuman", "UnexpectedError")
    # A human takes over and deletes it: maintenance goes off on its way out (while the
    # endpoint is still there), no finalizer left failing behind this test.
    shop.delete("undo-refused-scale")
    wait_for("the resource to be gone", lambda: gone(shop, "undo-refused-scale"), timeout=60)
    assert shop.endpoints.maintenance_calls()[-1] == '{"enabled":false}'


def test_a_refused_rollback_job_was_never_created_so_the_app_is_restored(shop: Shop) -> None:
    """The create refused for what it says (422) and no pod of it: the Job provably never
    ran, so RollingBack does not wait on it with the app down: the failure policy restores."""
    with refusing(shop, "rollback-jobs", ROLLBACK_JOBS, "false",
                  lambda: rollback_job_refused(shop)):  # fmt: skip
        shop.mrb("undo-refused-job", migration=SOCIAL, rollback={"sql": ROLLBACK})
        done = shop.wait_phase("undo-refused-job", "Failed", "Succeeded", timeout=180)["status"]
    assert done["reason"] == "UnexpectedError", done.get("message")
    assert "the rollback Job was never created" in done["message"]
    assert "e2e refuses rollback-jobs" in done["message"]
    assert "restored" in done["message"]
    assert done["databaseChanged"] is False
    assert shop.table_exists("public.idx_timeline_comments_event")  # nothing ran
    assert shop.replicas() == 3
    assert shop.endpoints.maintenance_calls() == ['{"enabled":true}', '{"enabled":false}']
    assert shop.database_lease() is None


def test_a_job_deleted_with_its_pods_ends_the_wait(shop: Shop) -> None:
    """The advice of the wait, followed: the Job that may still commit is deleted with its
    pods (foreground) by a human; once none of them is left it commits no more, and the
    rollback ends through the failure policy (its result unknown: the database counts as
    changed, the app held), not waiting on a Job that is gone."""
    name = "undo-job-deleted"
    shop.close_gate()
    shop.mrb(name, migration=SOCIAL, rollback={"sql": GATED}, backup={"mode": "none"})
    try:
        shop.wait_phase(name, "RollingBack", timeout=180)
        rule = "has(object.spec.replicas) && object.spec.replicas != 0"
        with refusing(shop, "scale-to-zero", SCALES, rule, lambda: scale_to_zero_refused(shop)):
            shop.apps.patch_namespaced_deployment_scale(
                "shop-web", shop.namespace, {"spec": {"replicas": 3}}
            )
            waiting = wait_for("the refusal retried twice", lambda: retried(shop, 2, name), 120)
            assert "delete the Job and its pods" in waiting["message"]
            job = waiting["jobName"]
            client.BatchV1Api(shop.k8s).delete_namespaced_job(
                job, shop.namespace, propagation_policy="Foreground", grace_period_seconds=0
            )
            done = shop.wait_phase(name, "Failed", "Succeeded", timeout=180)
    finally:
        shop.open_gate()
    status = done["status"]
    assert status["reason"] == "UnexpectedError", status.get("message")
    assert "was deleted and no pod of it is left running" in status["message"]
    assert status["databaseChanged"] is True  # nothing said what it did: counted as changed
    assert not job_pods(shop, job)
    assert shop.database_lease() is None
    shop.wait_events(name, "HeldForHuman", "UnexpectedError")
    # Deleted while the maintenance endpoint is still there (its finalizer turns it off).
    shop.delete(name)
    wait_for("the resource to be gone", lambda: gone(shop, name), timeout=60)


def job_pods(shop: Shop, job: str) -> list[Any]:
    return list(
        client.CoreV1Api(shop.k8s)
        .list_namespaced_pod(shop.namespace, label_selector=f"job-name={job}")
        .items
    )


def retried(shop: Shop, times: int, name: str) -> dict[str, Any] | None:
    status = shop.get(name).get("status") or {}
    tries = (status.get("errorRetries") or {}).get("tries", 0)
    return status if status.get("reason") == WAITING and tries >= times else None


def gone(shop: Shop, name: str) -> bool:
    listed = shop.custom.list_namespaced_custom_object(
        api.GROUP, api.VERSION, shop.namespace, api.PLURAL
    )
    return name not in [item["metadata"]["name"] for item in listed["items"]]


def renewed_since(shop: Shop, before: Any) -> bool:
    lease = shop.database_lease()
    return lease is not None and lease["spec"]["renew_time"] != before
