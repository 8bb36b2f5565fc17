"""The rollback fails during the downtime: the app comes back, the database is unchanged."""

from __future__ import annotations

import pytest
from scenario import OperatorProcess, Shop, wait_for

from migration_rollback import api

pytestmark = pytest.mark.e2e
IN_PROGRESS = [("migration_rollback_in_progress", "")]

# Passes the rehearsal (whose audit row is still open while it runs) and fails the real run
# (when the rehearsal's audit row is finished): a failure only the downtime run meets.
FAIL_AFTER_REHEARSAL = """-- ROLLBACK: 20251113000001_timeline_social_features
DROP INDEX IF EXISTS public.idx_timeline_comments_event;
DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM migration_rollback.audit_log WHERE dry_run AND finished_at IS NOT NULL)
  THEN RAISE EXCEPTION 'injected failure after the rehearsal'; END IF;
END $$;
"""


def test_sql_failure_restores_the_app(shop: Shop) -> None:
    shop.mrb(
        "undo-broken",
        migration="20251113000001_timeline_social_features",
        rollback={"sql": FAIL_AFTER_REHEARSAL},
    )
    done = shop.wait_phase("undo-broken", "Failed", "Succeeded", timeout=180)
    status = done["status"]
    assert status["phase"] == "Failed"
    assert status["reason"] == "SQLError"
    assert "injected failure" in status["message"]
    assert "restored" in status["message"]
    # Nothing half-applied: the first statement was rolled back with the second.
    assert shop.sql("SELECT to_regclass('public.idx_timeline_comments_event') IS NOT NULL")[0][0]
    assert "20251113000001" in shop.history()
    # The app is back, exactly, and maintenance is off.
    assert shop.replicas() == 3
    wait_for("3 ready pods", lambda: shop.ready_replicas() == 3)
    assert shop.endpoints.maintenance_calls() == ['{"enabled":true}', '{"enabled":false}']
    assert shop.condition("undo-broken", "Failed")["status"] == "True"
    assert shop.condition("undo-broken", "Stalled")["status"] == "True"
    assert shop.condition("undo-broken", "Ready")["status"] == "False"


def test_failed_rehearsal_never_touches_the_app(shop: Shop) -> None:
    shop.mrb(
        "undo-typo",
        migration="20251113000001_timeline_social_features",
        rollback={"sql": "DROP TABLE public.no_such_table;"},
        allowDataLoss=True,
        backup={"mode": "none"},
    )
    done = shop.wait_phase("undo-typo", "Failed", "Succeeded", "AwaitingApproval", timeout=120)
    status = done["status"]
    # Dropping a table needs approval first; approve it and watch the rehearsal fail.
    if status["phase"] == "AwaitingApproval":
        shop.annotate("undo-typo", {"rollback.migrations.dev/approved-sha256": status["sqlSha256"]})
        status = shop.wait_phase("undo-typo", "Failed", "Succeeded", timeout=120)["status"]
    assert status["phase"] == "Failed"
    assert shop.replicas() == 3
    assert "originalReplicas" not in status
    assert shop.endpoints.maintenance_calls() == []


def test_a_restore_that_fails_stops_there_and_says_so(
    shop: Shop, operator: OperatorProcess
) -> None:
    # Maintenance goes on, then the endpoint breaks: turning it off after the failure fails.
    shop.endpoints.maintenance_responses = [204] + [503] * 50
    shop.mrb(
        "undo-stuck",
        migration="20251113000001_timeline_social_features",
        rollback={"sql": FAIL_AFTER_REHEARSAL},
    )
    done = shop.wait_phase("undo-stuck", "Failed", "Succeeded", timeout=180)
    status = done["status"]
    assert status["phase"] == "Failed"
    assert status["reason"] == "SQLError", "the first failure stays the reason"
    assert "injected failure" in status["message"]
    assert "restoring the application failed" in status["message"]
    assert status["failure"]["reason"] == "SQLError"
    shop.wait_events("undo-stuck", "HeldForHuman")
    # It stopped: its daemon returned (a loop of restore attempts would keep it running and
    # this wait would fail), and nothing else calls the endpoint until the resource goes.
    operator.wait_metrics(
        "the rollback's daemon to return", IN_PROGRESS, lambda now: not any(now.values())
    )
    calls = len(shop.endpoints.maintenance_calls())
    assert shop.phase("undo-stuck") == "Failed"
    # A human mends the endpoint and deletes the resource: maintenance goes off on its way out,
    # and no finalizer is left failing (and logging) behind this test, through the next ones.
    shop.endpoints.maintenance_responses = []
    shop.delete("undo-stuck")
    wait_for("the resource to be gone", lambda: "undo-stuck" not in names(shop), timeout=60)
    # Only the finalizer called since: maintenance off (again, if kopf retried it).
    assert set(shop.endpoints.maintenance_calls()[calls:]) == {'{"enabled":false}'}


def names(shop: Shop) -> list[str]:
    listed = shop.custom.list_namespaced_custom_object(
        api.GROUP, api.VERSION, shop.namespace, api.PLURAL
    )
    return [item["metadata"]["name"] for item in listed["items"]]
