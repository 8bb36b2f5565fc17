"""The API server itself refuses malformed resources (CRD schema and CEL rules)."""

from __future__ import annotations

import pytest
from kubernetes.client.exceptions import ApiException
from scenario import Shop

pytestmark = pytest.mark.e2e


def rejected(shop: Shop, name: str, **spec: object) -> str:
    with pytest.raises(ApiException) as info:
        shop.mrb(name, **spec)
    assert info.value.status == 422
    return str(info.value.body)


def test_exactly_one_rollback_source(shop: Shop) -> None:
    body = rejected(
        shop, "two-sources", migration="20251113000001_x",
        rollback={"sql": "select 1", "configMapRef": {"name": "a", "key": "b"}},
    )  # fmt: skip
    assert "exactly one of configMapRef, sql or generateFrom" in body


def test_exactly_one_of_migration_or_target_version(shop: Shop) -> None:
    body = rejected(shop, "no-target", rollback={"sql": "select 1"})
    assert "exactly one of migration or targetVersion" in body


def test_bad_enum_and_pattern_are_rejected(shop: Shop) -> None:
    body = rejected(
        shop, "bad-enum", migration="not a migration", rollback={"sql": "select 1"},
        onFailure="explode",
    )  # fmt: skip
    assert "spec.migration" in body
    assert "spec.onFailure" in body


def test_an_empty_selector_cannot_stop_the_whole_namespace(shop: Shop) -> None:
    for selector in ({}, {"matchLabels": {}}):
        body = rejected(
            shop, "everything", migration="20251113000001_timeline_social_features",
            rollback={"sql": "select 1"}, workloads=[{"kind": "Deployment", "selector": selector}],
        )  # fmt: skip
        assert "spec.workloads[0].selector" in body


def test_spec_is_immutable_once_started(shop: Shop) -> None:
    shop.mrb(
        "started", migration="20251113000001_timeline_social_features",
        rollback={"sql": "-- MANUAL: wait here\nSELECT 1;"},
    )  # fmt: skip
    # It waits for approval (a MANUAL item): changing the spec is still allowed there...
    shop.wait_phase("started", "AwaitingApproval")
    shop.custom.patch_namespaced_custom_object(
        "rollback.migrations.dev", "v1alpha1", shop.namespace, "migrationrollbacks", "started",
        {"spec": {"job": {"timeoutSeconds": 600}}},
    )  # fmt: skip
    # ...but not once it has gone past that point.
    shop.custom.patch_namespaced_custom_object_status(
        "rollback.migrations.dev", "v1alpha1", shop.namespace, "migrationrollbacks", "started",
        {"status": {"phase": "ScalingDown"}},
    )  # fmt: skip
    with pytest.raises(ApiException) as info:
        shop.custom.patch_namespaced_custom_object(
            "rollback.migrations.dev", "v1alpha1", shop.namespace, "migrationrollbacks",
            "started", {"spec": {"dryRun": True}},
        )  # fmt: skip
    assert "immutable" in str(info.value.body)
    shop.delete("started")
