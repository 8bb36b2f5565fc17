"""The rollback Job's pod can never start (its database Secret was deleted after the rehearsal
read it): the app comes back at once, not after `spec.job.timeoutSeconds` at zero replicas."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from kubernetes import client
from scenario import SOCIAL, Shop, gated, wait_for

from migration_rollback.kube.jobs import LABEL_PURPOSE
from migration_rollback.lifecycle.durations import parse_timestamp

pytestmark = pytest.mark.e2e


def rehearsal_running(shop: Shop) -> bool:
    """The dry run's container has started: it read the Secret into its environment."""
    pods = shop.core.list_namespaced_pod(shop.namespace, label_selector=f"{LABEL_PURPOSE}=dryrun")
    return any(
        s.state is not None and s.state.running is not None
        for p in pods.items
        for s in (p.status.container_statuses or [])
    )


def test_a_secret_deleted_before_the_rollback_job_starts_restores_the_app(shop: Shop) -> None:
    shop.close_gate()
    shop.mrb("undo-nosecret", migration=SOCIAL, rollback={"sql": gated(rehearsal=True)})
    try:
        wait_for("the rehearsal to run", lambda: rehearsal_running(shop), timeout=120)
        shop.core.delete_namespaced_secret("shop-db", shop.namespace)
    finally:
        shop.open_gate()
    shop.wait_phase("undo-nosecret", "RollingBack", "Restoring", "Failed", timeout=120)
    started = time.monotonic()
    status = shop.wait_phase("undo-nosecret", "Failed", "Succeeded", timeout=120)["status"]
    # Well within the Job's 900 s deadline: the pod's waiting reason ended it.
    assert time.monotonic() - started < 60
    assert status["reason"] == "JobNotStarted", status.get("message")
    assert status["failure"]["reason"] == "JobNotStarted"
    message = status["message"]
    assert "CreateContainerConfigError" in message, message
    assert "shop-db" in message, message
    assert "restored" in message
    assert "database is unchanged" in message
    password = urlsplit(shop.database_url).password
    assert shop.database_url not in str(status)
    assert not password or password not in str(status)
    assert status["databaseChanged"] is False
    down = parse_timestamp(status["finishedAt"]) - parse_timestamp(status["downtimeStartedAt"])
    print(f"downtime with a pod that cannot start: {down.total_seconds():.1f} s")
    # The database was never touched, the app is back, maintenance went on and off.
    assert shop.table_exists("public.idx_timeline_comments_event")
    assert "20251113000001" in shop.history()
    assert shop.replicas() == 3
    wait_for("3 ready pods", lambda: shop.ready_replicas() == 3)
    assert shop.endpoints.maintenance_calls() == ['{"enabled":true}', '{"enabled":false}']
    shop.wait_events("undo-nosecret", "JobNotStarted", "RollbackFailed")
    # The Job is gone: its pod cannot start behind the restored app once the Secret is back.
    wait_for("the rollback Job to be deleted", lambda: job_gone(shop, status["jobName"]), 60)


def job_gone(shop: Shop, name: str) -> bool:
    try:
        job = client.BatchV1Api(shop.k8s).read_namespaced_job(name, shop.namespace)
    except client.exceptions.ApiException as exc:
        return exc.status == 404
    return job.metadata.deletion_timestamp is not None
