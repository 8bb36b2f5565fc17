"""Spec values the operator or its Job cannot use are refused by the API server itself, each
naming its field (migration_rollback.limits is the one source of the CRD's limits and the
operator's); and a request the API server refuses for good mid-flow ends the rollback with the
app restored, instead of a phase retried every minute with maintenance on."""

from __future__ import annotations

import pytest
from scenario import SOCIAL, Shop, wait_for
from test_scenario_crd_rules import refused

pytestmark = pytest.mark.e2e

BIG = 9223372036854775807
CHECK = {"name": "h", "url": "http://127.0.0.1:9/"}
INDEX = "public.idx_timeline_comments_event"

# field path -> the spec fields the CRD accepted before (/work/advE op_stuck_specs.py and the
# review's timeout cases)
REFUSED: dict[str, dict[str, object]] = {
    "spec.job.serviceAccountName": {"job": {"serviceAccountName": "Not_Valid!"}},
    "spec.maintenance.configMap.key": {"maintenance": {"configMap": {"name": "f", "key": "a/b c"}}},
    "spec.maintenance.http.url": {"maintenance": {"http": {"url": "http://[::1"}}},
    "spec.healthChecks[0].timeoutSeconds": {"healthChecks": [{**CHECK, "timeoutSeconds": BIG}]},
    "spec.healthChecks[0].periodSeconds": {"healthChecks": [{**CHECK, "periodSeconds": BIG}]},
    "spec.job.statementTimeout": {"job": {"statementTimeout": "25h"}},
    "spec.job.lockTimeout": {"job": {"lockTimeout": "1500m"}},
    "spec.job.timeoutSeconds": {"job": {"timeoutSeconds": BIG}},
    "spec.backup.maxAge": {"backup": {"mode": "requireRecent", "maxAge": "8785h"}},
}


def test_values_past_the_operators_limits_are_refused_with_their_field(shop: Shop) -> None:
    for path, fields in REFUSED.items():
        found = refused(shop, "past-limits", **fields)
        assert path in found, (path, found)
    long_lock = refused(shop, "long-lock", job={"lockTimeout": "99999999999999m"})
    assert "spec.job.lockTimeout" in long_lock, long_lock
    # At the limits: accepted (the API server's dry run).
    shop.mrb(
        "at-limits",
        validate_only=True,
        migration=SOCIAL,
        rollback={"sql": "select 1"},
        job={"statementTimeout": "24h", "lockTimeout": "1440m", "timeoutSeconds": 172800},
        healthChecks=[{**CHECK, "periodSeconds": 300, "timeoutSeconds": 60}],
    )


def test_a_maintenance_switch_refused_for_good_ends_the_rollback(shop: Shop) -> None:
    """An immutable ConfigMap: every patch of it is a 422. Once retried every 60 s in
    ScalingDown; now MaintenanceFailed at once, the app never stopped, the message naming
    the field."""
    shop.core.create_namespaced_config_map(
        shop.namespace,
        {"metadata": {"name": "flags"}, "data": {"maintenance": "false"}, "immutable": True},
    )
    shop.mrb(
        "undo-immutable",
        migration=SOCIAL,
        rollback={"sql": f"-- ROLLBACK: {SOCIAL}\nDROP INDEX IF EXISTS public.x;\n"},
        maintenance={"configMap": {"name": "flags", "key": "maintenance"}},
    )
    status = shop.wait_phase("undo-immutable", "Failed", "Succeeded", timeout=180)["status"]
    assert status["phase"] == "Failed", status.get("message")
    assert status["reason"] == "MaintenanceFailed"
    assert "spec.maintenance.configMap" in status["message"]
    assert "422" in status["message"]
    assert shop.replicas() == 3
    wait_for("3 ready pods", lambda: shop.ready_replicas() == 3)


def test_inline_sql_with_a_nul_byte_is_refused_as_the_cli_refuses_a_file(shop: Shop) -> None:
    shop.mrb("undo-nul", migration=SOCIAL, rollback={"sql": f"-- ROLLBACK: {SOCIAL}\n\x00"})
    status = shop.wait_phase("undo-nul", "Failed", "Succeeded", "AwaitingApproval")["status"]
    assert (status["phase"], status["reason"]) == ("Failed", "InvalidRollbackSQL")
    assert status["message"].startswith("spec.rollback.sql: line 2: NUL byte"), status["message"]
    assert "sqlConfigMap" not in status  # nothing created, nothing run
    assert shop.replicas() == 3


def test_a_typo_in_a_safety_field_is_refused_not_dropped(shop: Shop) -> None:
    """`dryrun: true` (for dryRun) from a client without strict field validation: once pruned
    by the API server, and the real rollback ran. Now kept, and refused by its path before
    anything is touched."""
    shop.mrb(
        "undo-typo",
        migration=SOCIAL,
        rollback={"sql": f"-- ROLLBACK: {SOCIAL}\nDROP INDEX IF EXISTS {INDEX};\n"},
        dryrun=True,
    )
    status = shop.wait_phase("undo-typo", "Failed", "Succeeded", "AwaitingApproval")["status"]
    assert (status["phase"], status["reason"]) == ("Failed", "InvalidSpec"), status
    assert "spec.dryrun: unknown field (did you mean dryRun?)" in status["message"]
    assert shop.sql(f"SELECT to_regclass('{INDEX}') IS NOT NULL")[0][0]
    assert shop.replicas() == 3
    assert shop.endpoints.maintenance_calls() == []
