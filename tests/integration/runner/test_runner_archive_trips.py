"""The archive's round trips: the count rides with the move, and the reads that only depend on
what an earlier trip found go in one trip together, whatever the table holds. The verifier
archives every dropped table of every rollback it proves, so each trip counts (issue #17)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from psycopg._pipeline_base import BasePipeline
from runner_support import lock_held

from migration_rollback.runner.archive import archive_tables
from migration_rollback.runner.archive_columns import copy_columns
from migration_rollback.runner.archive_count import counted_after
from migration_rollback.runner.plan import PlannedStatement, plan_statement
from migration_rollback.sql import parse_script

pytestmark = pytest.mark.integration

SCHEMA = """
create type mood as enum ('ok', 'sad');
create table target (id int primary key);
create table busy (id serial primary key, t int references target, m mood default 'ok',
                   note text, n int check (n > 0));
create function touch() returns trigger language plpgsql as $$ begin return new; end $$;
create trigger busy_touch before insert on busy for each row execute function touch();
create policy busy_read on busy for select using (true);
create table plain (id int primary key, note text);
insert into busy (note, n) values ('a', 1), ('b', 2);
insert into plain values (1, 'a');
"""
WHEN = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(database_url, autocommit=True) as setup:
        setup.execute(SCHEMA)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("BEGIN")
        yield conn
        conn.execute("ROLLBACK")


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The client's waits for the server: outside a pipeline, and for a pipeline's results."""
    count = [0]
    wait, fetch = psycopg.Connection.wait, BasePipeline._fetch_gen

    def counting_wait(self: psycopg.Connection[Any], *args: Any, **kwargs: Any) -> Any:
        count[0] += self._pipeline is None
        return wait(self, *args, **kwargs)

    def counting_fetch(self: BasePipeline, *, flush: bool) -> Any:
        count[0] += bool(self.result_queue)
        return fetch(self, flush=flush)

    monkeypatch.setattr(psycopg.Connection, "wait", counting_wait)
    monkeypatch.setattr(BasePipeline, "_fetch_gen", counting_fetch)
    return count


def _planned(rollback: str) -> PlannedStatement:
    statement = parse_script(rollback, "rollback.sql").statements[0]
    return plan_statement(1, "20261201000000", statement, purge=False)


@pytest.mark.parametrize(
    ("rollback", "most"),
    [
        # the probe; the detach's reads; the move with the detach and the count; the enum
        # column as text, with what still depends on the table
        ("DROP TABLE busy;", 4),
        ("DROP TABLE plain;", 3),  # nothing to make inert: what depends on it rides the move
    ],
)
def test_archiving_a_table_takes_a_trip_per_stage_not_per_tie(
    conn: psycopg.Connection[Any], trips: list[int], rollback: str, most: int
) -> None:
    outcome = archive_tables(conn, _planned(rollback), WHEN)

    assert trips[0] <= most
    assert [a.rows for a in outcome.archived] == [2 if "busy" in rollback else 1]


@pytest.mark.parametrize(
    ("rollback", "most"),
    [
        ("ALTER TABLE plain DROP COLUMN note;", 2),  # its reads; the copy with its comment
        ("ALTER TABLE busy DROP COLUMN m;", 4),  # and the enum's reads and its change to text
    ],
)
def test_copying_a_column_takes_two_trips_unless_its_type_must_go(
    conn: psycopg.Connection[Any], trips: list[int], rollback: str, most: int
) -> None:
    outcome = copy_columns(conn, _planned(rollback), WHEN)

    assert trips[0] <= most
    assert len(outcome.archived) == 1
    assert outcome.archived[0].rows in (1, 2)


# The verifier's session (it prepares nothing itself) sends each trip as one message
# (runner/trip.py); `execute`'s sends it as a pipeline: a cancel is told apart alike on both.
SESSIONS = pytest.mark.parametrize("batched", [True, False], ids=["one message", "pipeline"])


@SESSIONS
def test_what_goes_before_the_count_keeps_its_results_when_the_count_is_cancelled(
    database_url: str, batched: bool
) -> None:
    with lock_held(database_url, "counted_child") as conn:  # the count waits
        conn.prepare_threshold = None if batched else conn.prepare_threshold
        row = conn.execute("SELECT 'counted'::regclass::oid").fetchone()
        assert row is not None
        table = psycopg.sql.Identifier("public", "counted")

        rows, before = counted_after(
            conn, int(row[0]), table, lambda sent: sent.execute("SELECT 42")
        )

        assert rows is None  # never analysed: no estimate either
        assert before.fetchone() == (42,)
        assert conn.execute("SELECT 1").fetchone() == (1,)  # not aborted


@SESSIONS
def test_a_cancelled_statement_before_the_count_is_not_taken_for_the_count(
    database_url: str, batched: bool
) -> None:
    with lock_held(database_url, "locked") as conn:
        conn.prepare_threshold = None if batched else conn.prepare_threshold
        row = conn.execute("SELECT 'counted'::regclass::oid").fetchone()
        assert row is not None
        table = psycopg.sql.Identifier("public", "counted")

        with pytest.raises(psycopg.errors.QueryCanceled):
            counted_after(conn, int(row[0]), table, lambda sent: sent.execute("LOCK TABLE locked"))
