"""How the verifier meets its throwaway shadow server, on a real one.

Every psycopg that pyproject allows runs a statement on a shadow connection: up to 3.3.4
`Connection.wait` takes (gen, interval), later ones add a timeout; the override in room.py must
pass on what it is given (here psycopg's own wait is narrowed to the older signature). And the
server runs no parallel query, whose shared memory would fill /dev/shm, not the scratch
directory."""

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


def test_the_throwaway_shadow_runs_no_parallel_query() -> None:
    # A parallel query's shared memory is in /dev/shm whatever the scratch directory: a full
    # /dev/shm would be blamed on the directory named. The shadow needs no parallel speed.
    with shadow_database(None) as db, db.connect() as conn:
        for setting in ("max_parallel_workers_per_gather", "max_parallel_maintenance_workers"):
            assert conn.execute(f"show {setting}").fetchone() == ("0",)
