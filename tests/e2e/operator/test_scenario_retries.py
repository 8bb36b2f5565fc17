"""A session in the way: the rehearsal names it (preflight), its Job times out on the lock
with nothing applied and is retried (TransientError) until the session is gone."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from scenario import SOCIAL, Shop, wait_for

pytestmark = pytest.mark.e2e

QUICK = f"-- ROLLBACK: {SOCIAL}\nDROP INDEX IF EXISTS public.idx_timeline_comments_event;\n"


def test_a_lock_timeout_is_retried_and_the_blocker_named(shop: Shop) -> None:
    with psycopg.connect(shop.database_url) as blocker:
        blocker.execute("SET application_name = 'stuck-report'")
        blocker.execute("SELECT count(*) FROM public.timeline_comments").fetchone()
        blocker.execute("SELECT pg_sleep(1.1)").fetchone()  # past the preflight's 1 s floor
        pid = blocker.info.backend_pid  # now idle in transaction, holding the table
        shop.mrb("rehearse-busy", migration=SOCIAL, rollback={"sql": QUICK}, dryRun=True)

        def retried() -> dict[str, Any] | None:
            status = shop.get("rehearse-busy").get("status") or {}
            return status if (status.get("attempts") or {}).get("dryrun", 1) >= 2 else None

        status = wait_for("the first rehearsal to be retried", retried, timeout=120)
        assert status["reason"] == "TransientError", status.get("message")
        assert "LOCK_TIMEOUT" in status["message"]
        named = [s for s in status.get("blockingSessions", []) if s["pid"] == pid]
        assert named, status.get("blockingSessions")
        assert named[0]["application"] == "stuck-report"
        assert named[0]["state"].startswith("idle in transaction")
        assert "query" not in named[0]
        blocker.rollback()  # the session goes away

    done = shop.wait_phase("rehearse-busy", "Succeeded", "Failed", timeout=120)["status"]
    assert done["reason"] == "DryRunSucceeded", done.get("message")
    assert done["attempts"]["dryrun"] >= 2
    shop.wait_events("rehearse-busy", "TransientError")
    assert shop.replicas() == 3
