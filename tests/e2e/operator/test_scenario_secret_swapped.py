"""The database Secret is pointed at another database between the rehearsal and the rollback
Job: the Job, which reads the Secret when its pod starts, must not run the rollback on a
database nobody rehearsed. It refuses before writing anything; the app is restored."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from scenario import SOCIAL, Shop, gated, shop_database, wait_for

pytestmark = pytest.mark.e2e

DROP_INDEX = f"-- ROLLBACK: {SOCIAL}\nDROP INDEX IF EXISTS public.idx_timeline_comments_event;\n"
INDEX = "SELECT to_regclass('public.idx_timeline_comments_event') IS NOT NULL"


@pytest.fixture
def other_database(pg_server: Any) -> Iterator[str]:
    """A second database with the same project (the rollback would succeed on it too)."""
    dbname, url, _ = shop_database(pg_server, "other")
    try:
        yield url
    finally:
        pg_server.drop_database(dbname)


def test_a_secret_swapped_after_the_rehearsal_runs_nothing(shop: Shop, other_database: str) -> None:
    def swap(body: str) -> None:  # maintenance goes on after the rehearsal, before the Job
        if "true" in body:
            encoded = base64.b64encode(other_database.encode()).decode()
            shop.core.patch_namespaced_secret("shop-db", shop.namespace, {"data": {"url": encoded}})

    shop.endpoints.on_maintenance = swap
    shop.mrb("undo-swapped", migration=SOCIAL, rollback={"sql": DROP_INDEX})
    status = shop.wait_phase("undo-swapped", "Failed", "Succeeded", timeout=180)["status"]

    assert status["phase"] == "Failed", status.get("message")
    assert status["reason"] == "PreconditionFailed"
    assert "not to the rehearsed" in status["message"]
    assert status["databaseIdentity"] in status["message"]
    # Neither database changed; the rollback's history row is in both.
    assert shop.sql(INDEX)[0][0]
    assert SOCIAL.partition("_")[0] in shop.history()
    rehearsed_url, shop.database_url = shop.database_url, other_database
    try:
        assert shop.sql(INDEX)[0][0]
        assert SOCIAL.partition("_")[0] in shop.history()
        assert not shop.table_exists("migration_rollback.audit_log")  # not even an audit row
    finally:
        shop.database_url = rehearsed_url
    # The app is back and maintenance is off.
    assert shop.replicas() == 3
    wait_for("3 ready pods", lambda: shop.ready_replicas() == 3)
    assert shop.endpoints.maintenance_calls() == ['{"enabled":true}', '{"enabled":false}']


def test_a_secret_swapped_during_the_rehearsal_stops_before_the_downtime(
    shop: Shop, other_database: str
) -> None:
    """The rehearsal read the Secret when its pod started; the Secret changes while it runs.
    The look before the downtime reads it again: nothing is touched, not even maintenance."""
    shop.close_gate()
    shop.mrb("undo-early", migration=SOCIAL, rollback={"sql": gated(rehearsal=True)})

    def rehearsing() -> bool:
        if not shop.table_exists("migration_rollback.audit_log"):
            return False
        query = "SELECT count(*) FROM migration_rollback.audit_log WHERE finished_at IS NULL"
        return bool(shop.sql(query)[0][0])

    wait_for("the rehearsal connected (its audit row open)", rehearsing, 120)
    encoded = base64.b64encode(other_database.encode()).decode()
    shop.core.patch_namespaced_secret("shop-db", shop.namespace, {"data": {"url": encoded}})
    shop.open_gate()
    status = shop.wait_phase("undo-early", "Failed", "Succeeded", timeout=180)["status"]

    assert (status["phase"], status["reason"]) == ("Failed", "PreconditionFailed"), status
    assert "Secret shop-db key url" in status["message"]
    assert "nothing was touched" in status["message"]
    assert shop.endpoints.maintenance_calls() == []
    assert "originalReplicas" not in status
    assert shop.replicas() == 3
