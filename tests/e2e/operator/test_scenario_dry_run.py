"""`dryRun: true` rehearses everything while the app serves, and changes nothing."""

from __future__ import annotations

import pytest
from scenario import Shop

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
