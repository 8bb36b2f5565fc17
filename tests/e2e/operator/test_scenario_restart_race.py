"""The operator killed between recording the rollback Job and its create, made to happen on
purpose: the rollback resumes and Succeeds, with one Job, the app back at its replicas.

CI at 68f62a4 met it by chance (crash-resume in ScalingDown): the record sent before the
create already said the create was accepted (status.jobCreated), so the restarted operator
found "created" and no Job, and left the app down. Here the kill lands at the exact step: the
operator is killed with the Job running at the gate, and what status and the cluster hold is
made what a kill at that step leaves (no record of the create, and, before the create, no Job
either). No sleeps: each wait is for the state it needs.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client
from scenario import GATED, SOCIAL, OperatorProcess, Shop, wait_for

from migration_rollback import api
from migration_rollback.kube.jobs import LABEL_PURPOSE

pytestmark = pytest.mark.e2e
ROLLBACK = f"-- ROLLBACK: {SOCIAL}\nDROP INDEX IF EXISTS public.idx_timeline_comments_event;\n"


def test_killed_while_its_create_hangs_resumes_and_succeeds(
    shop: Shop, operator: OperatorProcess
) -> None:
    """The race itself: an admission webhook that never answers holds the rollback Job's
    create in the API server, the operator is killed there (jobName recorded, the create
    sent, not answered), the webhook goes (the hung create is refused). Nothing of the Job
    exists and nothing says its create was accepted: the restarted operator creates it."""
    name = "race-hung"
    with hung_rollback_jobs(shop) as hole:
        shop.mrb(name, migration=SOCIAL, rollback={"sql": ROLLBACK}, backup={"mode": "none"})
        status = wait_for(f"{name}'s create held by the webhook", lambda: held(shop, name, hole))
        operator.kill()
    job = str(status["jobName"])
    recorded = shop.get(name)["status"].get("jobCreated")  # the rehearsal's, if any
    wait_for("the hung create refused", lambda: not job_left(shop, job), timeout=60)
    operator.start()
    assert recorded != job, "the create was recorded as accepted before it was answered"
    succeeded_once(shop, operator, name, job)


@contextlib.contextmanager
def hung_rollback_jobs(shop: Shop) -> Iterator[list[socket.socket]]:
    """A validating webhook for the shop's rollback Jobs whose server accepts connections
    and never answers (the connections, listed, show a call arrived); at the end the webhook
    is deleted and the connections closed: a create it still holds is refused."""
    listener = socket.create_server(("127.0.0.1", 0))
    held_open: list[socket.socket] = []

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                held_open.append(listener.accept()[0])

    threading.Thread(target=accept, daemon=True).start()
    name = f"e2e-hang-{shop.namespace}"[:63]
    admission = client.AdmissionregistrationV1Api(shop.k8s)
    admission.create_validating_webhook_configuration(
        {
            "metadata": {"name": name},
            "webhooks": [
                {
                    "name": "hang.e2e.migrations.dev",
                    "clientConfig": {"url": f"https://127.0.0.1:{listener.getsockname()[1]}/"},
                    "rules": [{"apiGroups": ["batch"], "apiVersions": ["v1"],
                               "operations": ["CREATE"], "resources": ["jobs"]}],
                    "objectSelector": {"matchLabels": {LABEL_PURPOSE: "rollback"}},
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": shop.namespace}
                    },
                    "failurePolicy": "Fail",
                    "sideEffects": "None",
                    "admissionReviewVersions": ["v1"],
                    "timeoutSeconds": 30,
                }
            ],
        }
    )  # fmt: skip
    try:
        yield held_open
    finally:
        admission.delete_validating_webhook_configuration(name)
        listener.close()
        for conn in held_open:
            conn.close()


def held(shop: Shop, name: str, hole: list[socket.socket]) -> dict[str, Any] | None:
    """Status once the rollback Job's create is being held: recorded, sent, not answered."""
    status = shop.get(name).get("status") or {}
    job = status.get("jobName") or ""
    recorded = status.get("phase") == "RollingBack" and "-rollback-" in job
    return status if recorded and hole and not job_left(shop, job) else None


def test_killed_after_the_create_before_its_record_resumes_once(
    shop: Shop, operator: OperatorProcess
) -> None:
    """The create went through, its record did not: the restarted operator reads the Job by
    name, records it, and waits on it; no second Job."""
    name = "race-created"
    job = killed_with_job_at_the_gate(shop, operator, name)
    try:
        unrecord_create(shop, name)
        operator.start()
        wait_for(
            "the restarted operator to record the Job it found",
            lambda: (shop.get(name).get("status") or {}).get("jobCreated") == job,
            timeout=60,
        )
        assert shop.phase(name) == "RollingBack"
    finally:
        shop.open_gate()
    succeeded_once(shop, operator, name, job)


def test_killed_between_the_record_and_the_create_resumes_and_creates_it(
    shop: Shop, operator: OperatorProcess
) -> None:
    """jobName recorded, the create never sent: no Job, no pod of it, no record of a create.
    Nothing shows it ever was, so the restarted operator creates it (not "disappeared")."""
    name = "race-recorded"
    job = killed_with_job_at_the_gate(shop, operator, name)
    try:
        # Its pod waits at the gate inside the rollback's transaction: killed, nothing applied.
        batch = client.BatchV1Api(shop.k8s)
        batch.delete_namespaced_job(
            job, shop.namespace, propagation_policy="Foreground", grace_period_seconds=0
        )
        wait_for("the Job and its pods gone", lambda: not job_left(shop, job), timeout=90)
        unrecord_create(shop, name)
        operator.start()
        wait_for("the Job created again", lambda: job_left(shop, job), timeout=60)
        assert shop.phase(name) == "RollingBack"
    finally:
        shop.open_gate()
    succeeded_once(shop, operator, name, job)


def killed_with_job_at_the_gate(shop: Shop, operator: OperatorProcess, name: str) -> str:
    """The operator SIGKILLed once the rollback Job is created and recorded (its runner waits
    at the gate): the Job's name."""
    shop.close_gate()
    shop.mrb(name, migration=SOCIAL, rollback={"sql": GATED}, backup={"mode": "none"})
    status = wait_for(
        f"{name}'s rollback Job recorded as created", lambda: created(shop, name), 180
    )
    operator.kill()
    return str(status["jobName"])


def created(shop: Shop, name: str) -> dict[str, Any] | None:
    status = shop.get(name).get("status") or {}
    job = status.get("jobName") or ""
    return status if "-rollback-" in job and status.get("jobCreated") == job else None


def unrecord_create(shop: Shop, name: str) -> None:
    """What a kill before the patch recording the create leaves in status."""
    shop.custom.patch_namespaced_custom_object_status(
        api.GROUP, api.VERSION, shop.namespace, api.PLURAL, name,
        {"status": {"jobCreated": None}},
    )  # fmt: skip
    assert "jobCreated" not in (shop.get(name).get("status") or {})


def job_left(shop: Shop, job: str) -> bool:
    """The Job, or a pod of it, is there."""
    jobs = client.BatchV1Api(shop.k8s).list_namespaced_job(shop.namespace).items
    pods = shop.core.list_namespaced_pod(shop.namespace, label_selector=f"job-name={job}").items
    return any(j.metadata.name == job for j in jobs) or bool(pods)


def succeeded_once(shop: Shop, operator: OperatorProcess, name: str, job: str) -> None:
    done = shop.wait_phase(name, "Succeeded", "Failed", timeout=180)["status"]
    assert done["phase"] == "Succeeded", done.get("message")
    assert shop.replicas() == 3
    assert not shop.table_exists("public.idx_timeline_comments_event")
    jobs = client.BatchV1Api(shop.k8s).list_namespaced_job(shop.namespace).items
    assert [j.metadata.name for j in jobs if "-rollback-" in j.metadata.name] == [job]
    operator.wait_metrics(
        "the app-down gauge to clear once the app is back",
        [("migration_rollback_app_down_seconds", "")],
        lambda now: not now[("migration_rollback_app_down_seconds", "")],
    )
