"""The scale-down on the real control plane, with the operator deleting the rest of a
ReplicaSet's pods once its controller has begun: a pod that lingers in Terminating holds the
rollback Job back, and no app pod is created in the window (a pod deleted under a ReplicaSet
whose controller has not seen the zero would be replaced).

Checked on the namespace's pod events in the API server's order (one watch): no app pod added
between the first app pod's deletion and the rollback Job's pod, and none live when it comes.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from kubernetes import client, watch
from scenario import SOCIAL, Shop, wait_for

from migration_rollback.kube.jobs import LABEL_PURPOSE

pytestmark = pytest.mark.e2e

HOLD = "e2e.rollback.migrations.dev/linger"
SQL = f"-- ROLLBACK: {SOCIAL}\nDROP INDEX IF EXISTS public.idx_timeline_comments_event;\n"


class PodOrder:
    """App pods added after the first app pod began deleting and before the rollback's pod;
    the app pods live (not yet DELETED) when the rollback's pod was added."""

    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        self.live: set[str] = set()
        self.deleting_seen = False
        self.added_in_window: list[str] = []
        self.live_at_rollback: list[str] | None = None
        self.errors: list[str] = []
        self.watch = watch.Watch()
        version = shop.core.list_namespaced_pod(shop.namespace).metadata.resource_version
        self.thread = threading.Thread(target=self.run, args=(version,), daemon=True)
        self.thread.start()

    def run(self, version: str) -> None:
        while self.live_at_rollback is None:
            try:
                stream = self.watch.stream(
                    self.shop.core.list_namespaced_pod,
                    self.shop.namespace,
                    resource_version=version,
                )
                for event in stream:
                    self.record(event["type"], event["object"])
                    version = event["object"].metadata.resource_version
            except Exception as exc:  # a watch the API server ended: resume from its version
                if "prematurely" not in str(exc):
                    self.errors.append(str(exc))
                    return

    def record(self, kind: str, pod: Any) -> None:
        name, labels = pod.metadata.name, pod.metadata.labels or {}
        if labels.get(LABEL_PURPOSE) == "rollback" and kind == "ADDED":
            if self.live_at_rollback is None:
                self.live_at_rollback = sorted(self.live)
                self.watch.stop()
            return
        if labels.get("app") != "shop-web":
            return
        if kind == "DELETED":
            self.live.discard(name)
            return
        if kind == "ADDED" and self.deleting_seen:
            self.added_in_window.append(name)
        self.live.add(name)
        self.deleting_seen |= pod.metadata.deletion_timestamp is not None


def release(shop: Shop, name: str) -> None:
    try:
        shop.core.patch_namespaced_pod(name, shop.namespace, {"metadata": {"finalizers": None}})
    except client.exceptions.ApiException as exc:
        if exc.status != 404:
            raise


def test_a_lingering_pod_holds_the_job_and_no_pod_replaces_a_deleted_one(
    shop: Shop, request: pytest.FixtureRequest
) -> None:
    pods = shop.core.list_namespaced_pod(shop.namespace, label_selector="app=shop-web").items
    held = sorted(p.metadata.name for p in pods)[0]
    shop.core.patch_namespaced_pod(held, shop.namespace, {"metadata": {"finalizers": [HOLD]}})
    request.addfinalizer(lambda: release(shop, held))
    order = PodOrder(shop)

    shop.mrb("undo-lingering", migration=SOCIAL, rollback={"sql": SQL}, backup={"mode": "none"})
    wait_for(
        "every app pod gone but the lingering one, which is deleting",
        lambda: order.deleting_seen and order.live == {held},
    )
    # The window stays open on the one pod.
    replica_sets = shop.apps.list_namespaced_replica_set(
        shop.namespace, label_selector="app=shop-web"
    ).items
    assert [rs.spec.replicas for rs in replica_sets] == [0]
    assert shop.phase("undo-lingering") == "ScalingDown"
    jobs = client.BatchV1Api(shop.k8s).list_namespaced_job(
        shop.namespace, label_selector=f"{LABEL_PURPOSE}=rollback"
    )
    assert not jobs.items, "the rollback Job was created while an app pod was terminating"

    release(shop, held)
    done = shop.wait_phase("undo-lingering", "Succeeded", "Failed", timeout=120)
    assert done["status"]["phase"] == "Succeeded", done["status"].get("message")
    wait_for("the rollback pod's event", lambda: order.live_at_rollback is not None or None)
    assert not order.errors
    assert order.live_at_rollback == [], "an app pod existed when the rollback's pod was added"
    assert order.added_in_window == [], "a pod replaced one deleted in the window"
    assert shop.replicas() == 3
