"""The API server itself refuses malformed resources (CRD schema and CEL rules), each refusal
naming the field (the 422's `details.causes[].field`) and saying why."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from kubernetes.client.exceptions import ApiException
from scenario import SOCIAL, Shop, wait_for

from migration_rollback import api

pytestmark = pytest.mark.e2e


def rejected(shop: Shop, name: str, **spec: object) -> str:
    with pytest.raises(ApiException) as info:
        shop.mrb(name, **spec)
    assert info.value.status == 422
    return str(info.value.body)


def causes(call: Callable[[], object]) -> dict[str, str]:
    """The field path -> message of each cause of the 422 the call must meet."""
    with pytest.raises(ApiException) as info:
        call()
    assert info.value.status == 422, info.value.body
    details = json.loads(info.value.body)["details"]
    return {str(c.get("field")): str(c.get("message")) for c in details["causes"]}


def refused(shop: Shop, name: str, **spec: object) -> dict[str, str]:
    return causes(lambda: shop.mrb(name, migration=SOCIAL, rollback={"sql": "select 1"}, **spec))


def test_at_least_one_workload_is_required(shop: Shop) -> None:
    # An empty list once ran a destructive rollback with the app serving ("downtime 2.8s").
    empty = refused(shop, "no-workloads", workloads=[])
    assert "should have at least 1 items" in empty["spec.workloads"], empty
    absent = refused(shop, "workloads-left-out", workloads=None)
    assert "Required value" in absent["spec.workloads"], absent


def test_a_workload_name_cannot_be_empty(shop: Shop) -> None:
    found = refused(shop, "empty-name", workloads=[{"kind": "Deployment", "name": ""}])
    assert "at least 1 chars long" in found["spec.workloads[0].name"], found


def test_a_name_too_long_for_its_labels_is_refused(shop: Shop) -> None:
    # Job and ConfigMap labels carry the name, and a label value stops at 63 characters.
    found = refused(shop, "x" * 64)
    assert "at most 63 characters" in found["metadata.name"], found
    shop.mrb("y" * 63, validate_only=True, migration=SOCIAL, rollback={"sql": "select 1"})


def test_exactly_one_rollback_source(shop: Shop) -> None:
    body = rejected(
        shop, "two-sources", migration="20251113000001_x",
        rollback={"sql": "select 1", "configMapRef": {"name": "a", "key": "b"}},
    )  # fmt: skip
    assert "exactly one of configMapRef, sql, generateFrom or migrationsFrom" in body


def test_exactly_one_of_migration_or_target_version(shop: Shop) -> None:
    body = rejected(shop, "no-target", rollback={"sql": "select 1"})
    assert "exactly one of migration or targetVersion" in body
    both = causes(
        lambda: shop.mrb(
            "both-targets", migration=SOCIAL, targetVersion="20251101000001",
            rollback={"migrationsFrom": {"configMapRef": {"name": "dir"}}},
        )
    )  # fmt: skip
    assert "exactly one of migration or targetVersion" in both["spec.targetVersion"], both


def test_a_target_version_and_the_migrations_directory_go_together(shop: Shop) -> None:
    one_file = causes(
        lambda: shop.mrb("set-from-one-file", targetVersion="1", rollback={"sql": "select 1"})
    )
    assert "targetVersion needs rollback.migrationsFrom" in one_file["spec.rollback.migrationsFrom"]
    directory = {"migrationsFrom": {"configMapRef": {"name": "dir"}}}
    no_target = causes(lambda: shop.mrb("directory-for-one", migration=SOCIAL, rollback=directory))
    assert "migrationsFrom needs targetVersion" in no_target["spec.rollback.migrationsFrom"]
    shop.mrb("set-ok", validate_only=True, targetVersion="1", rollback=directory)


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
    # The operator validates the changed spec again; it must be done before the phase is moved
    # on below, or its own status write could put the phase back.
    wait_for(
        "the changed spec validated again",
        lambda: (
            (obj := shop.get("started"))["status"].get("observedGeneration")
            == obj["metadata"]["generation"]
            and obj["status"].get("phase") == "AwaitingApproval"
        ),
    )
    # ...but not once it has gone past that point.
    shop.custom.patch_namespaced_custom_object_status(
        "rollback.migrations.dev", "v1alpha1", shop.namespace, "migrationrollbacks", "started",
        {"status": {"phase": "ScalingDown"}},
    )  # fmt: skip
    found = causes(
        lambda: shop.custom.patch_namespaced_custom_object(
            api.GROUP, api.VERSION, shop.namespace, api.PLURAL, "started",
            {"spec": {"dryRun": True, "job": {"timeoutSeconds": 700}}},
        )
    )  # fmt: skip
    # Refused at `spec`, naming the fields that changed and the phase it was in.
    assert list(found) == ["spec"], found
    message = found["spec"]
    assert message.startswith("Forbidden: spec is immutable once the rollback has started"), found
    assert "(phase ScalingDown)" in message
    assert "spec.dryRun" in message
    assert "spec.job" in message
    assert "spec.migration" not in message
    shop.delete("started")
