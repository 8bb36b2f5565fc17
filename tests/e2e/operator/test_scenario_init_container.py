"""An admission policy adds an init container to the rollback Job's pod, as a secrets agent's
webhook would, and that init container fails: the runner's container only waits behind it
(PodInitializing) and never starts. The operator reads the init container's own state, deletes
the Job, restores the app at once (the database was never touched) and names the init
container and its cause in status and an Event.

And a policy that refuses the rollback Job's pod outright: the Job has no pod at all, only the
Job controller's FailedCreate Events say why. That too restores the app at once, naming the
refusal, instead of holding it at zero until the Job's deadline."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client
from scenario import SOCIAL, Shop, wait_for

from migration_rollback.kube.jobs import LABEL_PURPOSE

pytestmark = pytest.mark.e2e

GROUP, VERSION = "admissionregistration.k8s.io", "v1"
AGENT = "agent-init"
# What the Job would run, had its pod started: the index it drops is still there afterwards.
ROLLBACK = f"""-- ROLLBACK: {SOCIAL}
DROP INDEX IF EXISTS public.idx_timeline_comments_event;
"""
# Added to the rollback Job's pods only (the rehearsal's run as they are): an init container
# that fails (the test's job executor runs no image: without a command it ends in StartError,
# exit 128, as containerd's exec failure does). Its pod fails (restartPolicy Never).
ADD_AGENT = (
    "Object{spec: Object.spec{initContainers: [Object.spec.initContainers{"
    f'name: "{AGENT}", image: "unused.invalid/agent:1"}}]}}}}'
)


ROLLBACK_PODS = {
    "resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"],
                       "resources": ["pods"]}],
    "objectSelector": {"matchLabels": {LABEL_PURPOSE: "rollback"}},
}  # fmt: skip


@contextlib.contextmanager
def admission_policy(shop: Shop, kind: str, spec: dict[str, Any]) -> Iterator[None]:
    """A cluster admission policy (`kind`: MutatingAdmissionPolicy or
    ValidatingAdmissionPolicy) bound to the shop's namespace, for the block's time."""
    name = f"e2e-{kind.lower()[:8]}-{shop.namespace}"[:63]
    plural = f"{kind.lower()[:-1]}ies"  # ...policies
    policy = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": kind,
        "metadata": {"name": name},
        "spec": {"matchConstraints": ROLLBACK_PODS, "failurePolicy": "Fail", **spec},
    }
    binding = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": f"{kind}Binding",
        "metadata": {"name": name},
        "spec": {
            "policyName": name,
            "matchResources": {
                "namespaceSelector": {
                    "matchLabels": {"kubernetes.io/metadata.name": shop.namespace}
                }
            },
            **({"validationActions": ["Deny"]} if kind.startswith("Valid") else {}),
        },
    }
    custom = shop.custom
    try:
        custom.create_cluster_custom_object(GROUP, VERSION, plural, policy)
    except client.exceptions.ApiException as exc:
        if exc.status == 404:
            pytest.skip(f"this API server does not serve {kind} ({VERSION})")
        raise
    custom.create_cluster_custom_object(GROUP, VERSION, f"{kind.lower()}bindings", binding)
    try:
        # The API server loads policies and bindings through its own watches: a pod created
        # right after them may be admitted as if they were not there. Wait until they act.
        wait_for(f"the {kind} to act on pods", lambda: _acts(shop, kind))
        yield
    finally:
        custom.delete_cluster_custom_object(GROUP, VERSION, f"{kind.lower()}bindings", name)
        custom.delete_cluster_custom_object(GROUP, VERSION, plural, name)


def _acts(shop: Shop, kind: str) -> bool:
    """A rollback pod created as a dry run is refused (validating) or changed (mutating)."""
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"generateName": "policy-probe-", "labels": {LABEL_PURPOSE: "rollback"}},
        "spec": {"containers": [{"name": "probe", "image": "unused.invalid/probe:1"}]},
    }
    try:
        made = shop.core.create_namespaced_pod(shop.namespace, pod, dry_run="All")
    except client.exceptions.ApiException as exc:
        return kind.startswith("Valid") and exc.status in (400, 403, 422)
    return kind.startswith("Mutat") and bool(made.spec.init_containers)


def rollback_pod(shop: Shop) -> Any:
    pods = shop.core.list_namespaced_pod(shop.namespace, label_selector=f"{LABEL_PURPOSE}=rollback")
    return pods.items[0] if pods.items else None


def test_an_init_container_that_fails_is_named_and_the_app_restored(shop: Shop) -> None:
    mutation = {
        "reinvocationPolicy": "Never",
        "mutations": [
            {"patchType": "ApplyConfiguration", "applyConfiguration": {"expression": ADD_AGENT}}
        ],
    }
    with admission_policy(shop, "MutatingAdmissionPolicy", mutation):
        shop.mrb("undo-agent", migration=SOCIAL, rollback={"sql": ROLLBACK})
        status = restored(shop, "undo-agent")
    # Named, so the policy reached the pod (it lives a moment: the operator deletes it).
    # Its name, exit code and reason, nothing the container (not ours) or its runtime wrote.
    said = f"PodFailed in init container {AGENT}: exited 128 (StartError))"
    assert said in status["message"], status["message"]
    assert said in status["failure"]["message"]
    assert any(said in text for _, text in shop.event_texts("undo-agent"))


def test_a_refused_pod_is_named_and_the_app_restored(shop: Shop) -> None:
    refusal = {"validations": [{"expression": "false", "message": "no rollback pods here"}]}
    with admission_policy(shop, "ValidatingAdmissionPolicy", refusal):
        shop.mrb("undo-refused", migration=SOCIAL, rollback={"sql": ROLLBACK})
        status = restored(shop, "undo-refused")
    message = status["message"]
    assert "its pod never started (FailedCreate: " in message, message
    assert "denied request: no rollback pods here" in message, message
    assert "denied request" in status["failure"]["message"]
    assert rollback_pod(shop) is None  # there never was one


def restored(shop: Shop, name: str) -> dict[str, Any]:
    """The rollback failed before the database (JobNotStarted), the app back as it was."""
    status = dict(shop.wait_phase(name, "Failed", "Succeeded", timeout=120)["status"])
    assert status["reason"] == "JobNotStarted", status.get("message")
    assert "restored" in status["message"]
    assert status["databaseChanged"] is False
    # Never reached the database: the index the rollback drops is there, the app is back.
    assert shop.table_exists("public.idx_timeline_comments_event")
    assert SOCIAL.split("_")[0] in shop.history()
    assert shop.replicas() == 3
    wait_for("3 ready pods", lambda: shop.ready_replicas() == 3)
    assert shop.endpoints.maintenance_calls() == ['{"enabled":true}', '{"enabled":false}']
    shop.wait_events(name, "JobNotStarted", "RollbackFailed")
    return status
