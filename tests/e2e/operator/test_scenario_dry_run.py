"""`dryRun: true` rehearses everything while the app serves, and changes nothing."""

from __future__ import annotations

import pytest
from scenario import SOCIAL, Shop, gated, wait_for

pytestmark = pytest.mark.e2e


def test_dry_run_reports_and_changes_nothing(shop: Shop) -> None:
    sql = (
        "-- ROLLBACK: 20251113000001_timeline_social_features\n"
        'DROP POLICY IF EXISTS "Likes are public" ON public.timeline_likes;\n'
        "DROP INDEX IF EXISTS public.idx_timeline_likes_event;\n"
    )
    shop.mrb(
        "rehearse",
        migration="20251113000001_timeline_social_features",
        rollback={"sql": sql},
        dryRun=True,
    )
    done = shop.wait_phase("rehearse", "Succeeded", "Failed", timeout=120)
    status = done["status"]
    assert status["phase"] == "Succeeded", status.get("message")
    assert status["reason"] == "DryRunSucceeded"
    assert shop.condition("rehearse", "Ready")["status"] == "True"
    # Nothing changed: the index is there, the history row is there, the app never stopped.
    assert shop.sql("SELECT to_regclass('public.idx_timeline_likes_event') IS NOT NULL")[0][0]
    assert "20251113000001" in shop.history()
    assert shop.replicas() == 3
    assert "originalReplicas" not in status
    assert shop.endpoints.maintenance_calls() == []
    assert status["result"]["dry_run"] is True
    assert any(
        i.get("object", "").endswith("idx_timeline_likes_event") for i in status.get("impact", [])
    )


def test_a_finished_dry_run_frees_the_database_at_once(shop: Shop) -> None:
    """During an incident the real rollback follows the rehearsal at once: it must not wait
    for the dry run's Lease to run out (600 s)."""
    quick = f"-- ROLLBACK: {SOCIAL}\nDROP INDEX IF EXISTS public.idx_timeline_comments_event;\n"
    shop.close_gate()
    shop.mrb(
        "rehearse-first", migration=SOCIAL, rollback={"sql": gated(rehearsal=True)}, dryRun=True
    )
    try:
        # The Lease is held while the rehearsal runs (it waits at the gate)...
        wait_for("the dry run to take the database's Lease", shop.database_lease, timeout=120)
    finally:
        shop.open_gate()
    status = shop.wait_phase("rehearse-first", "Succeeded", "Failed", timeout=120)["status"]
    assert status["reason"] == "DryRunSucceeded", status.get("message")
    # ...and released before the phase says Succeeded.
    assert shop.database_lease() is None
    assert "databaseLock" not in status
    shop.mrb("then-for-real", migration=SOCIAL, rollback={"sql": quick}, backup={"mode": "none"})
    done = shop.wait_phase("then-for-real", "Succeeded", "Failed", timeout=180)["status"]
    assert done["reason"] == "RollbackSucceeded", done.get("message")
    assert "WaitingForDatabase" not in shop.events("then-for-real")
    assert shop.database_lease() is None
    assert not shop.table_exists("public.idx_timeline_comments_event")
