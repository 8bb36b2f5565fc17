"""Every psycopg that pyproject allows runs a statement on a shadow connection: up to 3.3.4
`Connection.wait` takes (gen, interval), later ones add a timeout. The override in room.py
must pass on what it is given; here psycopg's own wait is narrowed to the older signature."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from migration_rollback.verify.shadow import shadow_database

pytestmark = pytest.mark.integration


def test_a_shadow_statement_runs_on_a_psycopg_whose_wait_has_no_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    newer = psycopg.Connection.wait

    def older(self: psycopg.Connection[Any], gen: Any, interval: float = 0.1) -> Any:
        return newer(self, gen, interval)

    monkeypatch.setattr(psycopg.Connection, "wait", older)
    with shadow_database(None) as db, db.connect() as conn:
        assert conn.execute("select 1").fetchone() == (1,)
