"""The rollback Job's pod can never start (its database Secret was deleted after the rehearsal
read it): the app comes back at once, not after `spec.job.timeoutSeconds` at zero replicas."""

from __future__ import annotations

import threading
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
from kubernetes import client, watch
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


def test_a_secret_deleted_before_the_rollback_job_starts_restores_the_app(
    shop: Shop, request: pytest.FixtureRequest
) -> None:
    shop.close_gate()
    shop.mrb("undo-nosecret", migration=SOCIAL, rollback={"sql": gated(rehearsal=True)})
    try:
        wait_for("the rehearsal to run", lambda: rehearsal_running(shop), timeout=120)
        pods = PodEvents(shop)  # from before the rollback Job exists
        request.addfinalizer(pods.release)  # a failed check must not keep the namespace
        shop.core.delete_namespaced_secret("shop-db", shop.namespace)
    finally:
        shop.open_gate()
    # The rollback Job's pod is held terminating (a finalizer, added as it appears): the Job is
    # deleted, and the app stays down until the pod is gone.
    held = wait_for("the rollback Job deleted, its pod held", lambda: stopped_but_held(shop), 120)
    assert held["phase"] == "RollingBack", held.get("message")
    assert "failure" not in held
    assert held["jobStopped"]["job"] == held["jobName"]
    assert shop.replicas() == 0
    pods.release()
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
    # No app pod was created while a pod of the rollback Job existed (in the watch's order):
    # had the Secret come back, that pod could have run the rollback beside the app.
    wait_for("the watch to see the 3 app pods added", lambda: pods.app_pods_added >= 3)
    pods.stop()
    assert pods.rollback_pods_seen == 1, pods.events
    assert not pods.overlaps, pods.events
    assert not [e for e in pods.events if e[0] == "ERROR"], pods.events
    # The Job is gone: its pod cannot start behind the restored app once the Secret is back.
    wait_for("the rollback Job to be deleted", lambda: job_gone(shop, status["jobName"]), 60)


def stopped_but_held(shop: Shop) -> dict[str, Any] | None:
    """The status once the operator deleted the Job and its pod is terminating (not gone)."""
    status = shop.get("undo-nosecret").get("status") or {}
    selector = f"{LABEL_PURPOSE}=rollback"
    pods = shop.core.list_namespaced_pod(shop.namespace, label_selector=selector).items
    terminating = any(p.metadata.deletion_timestamp for p in pods)
    return status if status.get("jobStopped") and terminating else None


def job_gone(shop: Shop, name: str) -> bool:
    try:
        job = client.BatchV1Api(shop.k8s).read_namespaced_job(name, shop.namespace)
    except client.exceptions.ApiException as exc:
        return exc.status == 404
    return job.metadata.deletion_timestamp is not None


class PodEvents:
    """The namespace's pod events in the API server's order (a watch from a list's version,
    resumed where it broke), checked as they come: an app pod added while a rollback pod is
    not yet deleted. The rollback pod gets a finalizer as it appears (before its kubelet
    reports it blocked), so it stays terminating until `release`."""

    HOLD = "e2e.rollback.migrations.dev/hold"

    def __init__(self, shop: Shop) -> None:
        self.shop, self.events = shop, list[tuple[str, str]]()
        self.live: set[str] = set()
        self.rollback_pods_seen, self.app_pods_added = 0, 0
        self.overlaps: list[str] = []
        self.stopped = False
        version = shop.core.list_namespaced_pod(shop.namespace).metadata.resource_version
        self.watch = watch.Watch()
        self.thread = threading.Thread(target=self.run, args=(version,), daemon=True)
        self.thread.start()

    def run(self, version: str) -> None:
        while not self.stopped:
            try:
                version = self.stream(version)
            except Exception as exc:  # a watch the API server ended: resume from its version
                if "prematurely" not in str(exc):
                    self.events.append(("ERROR", str(exc)))
                    return

    def stream(self, version: str) -> str:
        stream = self.watch.stream(
            self.shop.core.list_namespaced_pod, self.shop.namespace, resource_version=version
        )
        for event in stream:
            self.record(event["type"], event["object"])
            version = event["object"].metadata.resource_version
        return version

    def record(self, kind: str, pod: Any) -> None:
        name, labels = pod.metadata.name, pod.metadata.labels or {}
        self.events.append((kind, name))
        if labels.get(LABEL_PURPOSE) == "rollback":
            if kind == "ADDED":
                self.rollback_pods_seen += 1
                self.hold(name)
            if kind == "DELETED":  # gone, not just terminating
                self.live.discard(name)
            else:
                self.live.add(name)
        elif labels.get("app") == "shop-web" and kind == "ADDED":
            self.app_pods_added += 1
            if self.live:
                self.overlaps.append(f"{name} added while {sorted(self.live)} existed")

    def hold(self, name: str) -> None:
        patch = {"metadata": {"finalizers": [self.HOLD]}}
        self.shop.core.patch_namespaced_pod(name, self.shop.namespace, patch)

    def release(self) -> None:
        for name in sorted(self.live):
            patch = {"metadata": {"finalizers": None}}
            try:
                self.shop.core.patch_namespaced_pod(name, self.shop.namespace, patch)
            except client.exceptions.ApiException as exc:
                if exc.status != 404:
                    raise

    def stop(self) -> None:
        self.stopped = True
        self.watch.stop()
