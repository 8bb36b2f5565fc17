"""Deleting the resource while the app is down brings the app back before it goes."""

from __future__ import annotations

import pytest
from kubernetes.client.exceptions import ApiException
from scenario import GATED, SOCIAL, Shop, wait_for

from migration_rollback import api

pytestmark = pytest.mark.e2e


def gone(shop: Shop, name: str) -> bool:
    try:
        shop.get(name)
    except ApiException as exc:
        return exc.status == 404
    return False


def test_delete_mid_flow_restores_the_app(shop: Shop) -> None:
    # The real run waits at the gate: the resource is deleted mid-flow, however slow the
    # machine, not within a guess at how long the rollback takes.
    shop.close_gate()
    shop.mrb("undo-slow", migration=SOCIAL, rollback={"sql": GATED}, backup={"mode": "none"})
    try:
        shop.wait_phase("undo-slow", "RollingBack", timeout=180)
        assert shop.replicas() == 0
        shop.delete("undo-slow")
        wait_for("the resource to be gone", lambda: gone(shop, "undo-slow"), timeout=60)
    finally:
        shop.open_gate()  # the stopped Job's session, if it is still there, ends too
    assert shop.replicas() == 3
    assert shop.endpoints.maintenance_calls()[-1] == '{"enabled":false}'


def test_a_resource_whose_workload_is_gone_can_still_be_deleted(shop: Shop) -> None:
    """Deleting a namespace removes the Deployment, the maintenance ConfigMap and the
    resource in no set order: the finalizer's restore must not fail forever on a Deployment
    or a ConfigMap that is already gone."""
    flag = {"configMap": {"name": "shop-flags", "key": "maintenance"}}  # never created
    shop.mrb(
        "undo-orphan",
        migration=SOCIAL,
        rollback={"sql": "-- MANUAL: wait here\nSELECT 1;"},
        maintenance=flag,
    )
    shop.wait_phase("undo-orphan", "AwaitingApproval")
    # What a rollback that stopped the app keeps in its status (a Failed one left down, too).
    shop.custom.patch_namespaced_custom_object_status(
        api.GROUP, api.VERSION, shop.namespace, api.PLURAL, "undo-orphan",
        {"status": {"originalReplicas": {"shop-web": 3}, "maintenanceEnabled": True}},
    )  # fmt: skip
    shop.apps.delete_namespaced_deployment("shop-web", shop.namespace)
    wait_for("the Deployment to be gone", lambda: not deployments(shop))
    shop.delete("undo-orphan")
    # A failed finalizer is tried again after 60 s, and fails again: this would time out.
    wait_for("the resource to be gone", lambda: gone(shop, "undo-orphan"), timeout=50)


def deployments(shop: Shop) -> list[str]:
    return [d.metadata.name for d in shop.apps.list_namespaced_deployment(shop.namespace).items]
