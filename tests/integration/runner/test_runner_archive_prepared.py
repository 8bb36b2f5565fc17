"""On a session that prepares nothing itself (the verifier's), the archive's reads are
prepared once and then EXECUTEd: the archive is the same as a plain session's, and a first
trip that fails (a DROP failing as written) neither loses nor repeats the PREPAREs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from migration_rollback.runner.archive import ArchiveOutcome, archive_tables
from migration_rollback.runner.archive_columns import copy_columns
from migration_rollback.runner.plan import PlannedStatement, plan_statement
from migration_rollback.sql import parse_script

pytestmark = pytest.mark.integration

SCHEMA = """
create type mood as enum ('ok', 'sad');
create table target (id int primary key);
create table busy (id serial primary key, t int references target, m mood default 'ok',
                   note text, n int check (n > 0));
create policy busy_read on busy for select using (true);
create function reads_busy(b busy) returns int language sql as $$ select 1 $$;
insert into busy (note, n) values ('a', 1), ('b', 2);
"""
WHEN = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
EXECUTED = """
SELECT count(*), coalesce(sum(generic_plans + custom_plans), 0) FROM pg_prepared_statements
WHERE name LIKE '\\_mr\\_archive\\_%'
"""


@pytest.fixture
def url(database_url: str) -> str:
    with psycopg.connect(database_url, autocommit=True) as setup:
        setup.execute(SCHEMA)
    return database_url


def _planned(rollback: str) -> PlannedStatement:
    statement = parse_script(rollback, "rollback.sql").statements[0]
    return plan_statement(1, "20261201000000", statement, purge=False)


def _archive(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    """Copy a column, then archive the table, in a transaction rolled back afterwards."""
    conn.execute("BEGIN")
    try:
        outcomes: list[ArchiveOutcome] = [
            copy_columns(conn, _planned("ALTER TABLE busy DROP COLUMN note;"), WHEN),
            archive_tables(conn, _planned("DROP TABLE busy CASCADE;"), WHEN),
        ]
        return [asdict(o) | {"moved_oids": [], "copied_columns": []} for o in outcomes]
    finally:
        conn.execute("ROLLBACK")


@pytest.fixture
def verifier_session(url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.prepare_threshold = None
        yield conn


def test_prepared_reads_archive_exactly_as_plain_ones(
    url: str, verifier_session: psycopg.Connection[Any]
) -> None:
    with psycopg.connect(url, autocommit=True) as plain:
        expected = _archive(plain)
        assert plain.execute(EXECUTED).fetchone() == (0, 0)  # psycopg's own session: none

    first, second = _archive(verifier_session), _archive(verifier_session)

    assert first == expected
    assert second == expected
    row = verifier_session.execute(EXECUTED).fetchone()
    assert row is not None
    assert row[0] > 0  # prepared once
    assert row[1] > 0  # and executed


def test_a_first_trip_that_fails_keeps_its_prepares_and_sends_none_twice(
    url: str, verifier_session: psycopg.Connection[Any]
) -> None:
    verifier_session.execute("BEGIN")
    with pytest.raises(psycopg.errors.UndefinedTable):
        archive_tables(verifier_session, _planned("DROP TABLE missing;"), WHEN)
    verifier_session.execute("ROLLBACK")

    with psycopg.connect(url, autocommit=True) as plain:
        assert _archive(verifier_session) == _archive(plain)
    row = verifier_session.execute(EXECUTED).fetchone()
    assert row is not None
    assert row[1] > 0


def test_the_sessions_planner_settings_are_put_back_after_the_reads(
    verifier_session: psycopg.Connection[Any],
) -> None:
    """The reads are planned generic and without hash or merge joins; the session's own
    settings hold again after them."""
    verifier_session.execute("SET plan_cache_mode = force_custom_plan")
    verifier_session.execute("SET enable_mergejoin = off")
    _archive(verifier_session)  # prepares
    verifier_session.execute("BEGIN")
    copy_columns(verifier_session, _planned("ALTER TABLE busy DROP COLUMN note;"), WHEN)
    archive_tables(verifier_session, _planned("DROP TABLE busy CASCADE;"), WHEN)

    settings = verifier_session.execute(
        "SELECT current_setting('plan_cache_mode'), current_setting('enable_hashjoin'), "
        "current_setting('enable_mergejoin')"
    ).fetchone()
    assert settings == ("force_custom_plan", "on", "off")
    verifier_session.execute("ROLLBACK")


def test_a_migrations_local_settings_stay_local(
    verifier_session: psycopg.Connection[Any],
) -> None:
    """A migration's SET LOCAL before an archive in the same transaction ends with it: the
    reads' settings, and their putting back, are local to the transaction too."""
    _archive(verifier_session)  # prepares
    verifier_session.execute("BEGIN")
    verifier_session.execute("SET LOCAL plan_cache_mode = force_custom_plan")
    verifier_session.execute("SET LOCAL enable_hashjoin = off")
    archive_tables(verifier_session, _planned("DROP TABLE busy CASCADE;"), WHEN)
    inside = verifier_session.execute(
        "SELECT current_setting('plan_cache_mode'), current_setting('enable_hashjoin')"
    ).fetchone()
    verifier_session.execute("COMMIT")

    after = verifier_session.execute(
        "SELECT current_setting('plan_cache_mode'), current_setting('enable_hashjoin'), "
        "current_setting('enable_mergejoin'), "
        "current_setting('migration_rollback.archive_plan_cache_mode', true)"
    ).fetchone()
    assert inside == ("force_custom_plan", "off")
    assert after is not None
    assert after[:3] == ("auto", "on", "on")
    assert after[3] in (None, "")  # nothing of the reads' outlives the transaction
