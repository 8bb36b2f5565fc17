"""The archive sends a read only when it can find something: the inert reads (archive_inert.py)
only for the kinds of tie the archived tables hold (`TIES`, read with the tables), and the read
of FOR ALL TABLES / FOR TABLES IN SCHEMA publications only when one exists. A gate that said
"none" where its read finds something would leave the archive tied to live objects, or a note
out: each kind is checked against the ungated reads, and a wholesale publication end to end."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from psycopg import sql

from migration_rollback.runner.archive import archive_tables
from migration_rollback.runner.archive_inert import TIES, Tie, make_inert
from migration_rollback.runner.plan import PlannedStatement, plan_statement
from migration_rollback.sql import parse_script

pytestmark = pytest.mark.integration

SCHEMA = """
create schema g;
create type g.mood as enum ('ok', 'sad');
create domain g.positive as int check (value > 0);
create function g.f(i int) returns int language sql immutable as $$ select i $$;
create table g.plain (id int primary key, note text default 'x', tags text[], at timestamptz,
                      n numeric check (n > 0));
create index plain_note_idx on g.plain (note);
create table g.builtin (s text check (length(s) > 0));
create table g.generated (id int, twice int generated always as (g.f(id) * 2) stored);
create table g.checked (id int constraint checked_f check (g.f(id) > 0));
create table g.indexed (id int);
create index indexed_f_idx on g.indexed (g.f(id));
create table g.typed (m g.mood);
create table g.typed_array (m g.mood[]);
create table g.domained (p g.positive);
create table g.partial (id int);
create index partial_f_idx on g.partial (id) where g.f(id) > 0;
create schema other;
create type other.color as enum ('red');
create table g.colored (c other.color);
create table g.parted (id int, note text) partition by list (id);
create table g.parted_1 partition of g.parted (constraint parted_1_f check (g.f(id) > 0))
  for values in (1);
create table g.parted_2 partition of g.parted for values in (2);
create index parted_2_f_idx on g.parted_2 (g.f(id));
"""

# Each table, the ties TIES sees, and whether make_inert cuts one (a gate may say "maybe"
# where its reads find nothing, never the other way round). builtin's CHECK calls only
# built-in functions: PostgreSQL records no dependency on those, and the read skips them.
TABLES = {
    "plain": (set(), False),
    "builtin": (set(), False),
    "generated": ({Tie.GENERATED}, True),
    "checked": ({Tie.CHECK}, True),
    "indexed": ({Tie.EXPRESSION_INDEX}, True),
    "typed": ({Tie.FOREIGN_TYPE}, True),
    "typed_array": ({Tie.FOREIGN_TYPE}, True),
    "domained": ({Tie.FOREIGN_TYPE}, True),
    "partial": ({Tie.EXPRESSION_INDEX}, True),  # a predicate calling a function
    "colored": ({Tie.FOREIGN_TYPE}, True),  # a type of another schema than the table's
    "parted": (set(), False),  # its partitions hold the ties (below)
    "parted_1": ({Tie.CHECK}, True),
}


WHEN = datetime(2025, 1, 1, tzinfo=UTC)


def _planned(statement: str) -> PlannedStatement:
    script = parse_script(statement, "20250101000000_gone_rollback.sql")
    return plan_statement(1, "20250101000000", script.statements[0], purge=False)


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(database_url, autocommit=True) as c:
        c.execute(SCHEMA)
        yield c


def _oid(conn: psycopg.Connection[Any], table: str) -> int:
    row = conn.execute("SELECT to_regclass(%s)::oid", [f"g.{table}"]).fetchone()
    assert row is not None
    return int(row[0])


def _ties(conn: psycopg.Connection[Any], oid: int) -> set[Tie]:
    held = sql.SQL(", ").join(TIES[tie].format(sql.Literal(oid)) for tie in Tie)
    row = conn.execute(sql.SQL("SELECT {}").format(held)).fetchone()
    assert row is not None
    return {tie for tie, found in zip(Tie, row, strict=True) if found}


def _notes(conn: psycopg.Connection[Any], oid: int, ties: set[Tie] | None) -> list[str]:
    conn.execute("BEGIN")
    try:
        return make_inert(conn, [oid]) if ties is None else make_inert(conn, [oid], ties)
    finally:
        conn.execute("ROLLBACK")


@pytest.mark.parametrize("table", sorted(TABLES))
def test_each_tie_is_seen_where_its_reads_find_something(
    conn: psycopg.Connection[Any], table: str
) -> None:
    oid = _oid(conn, table)
    ties = _ties(conn, oid)
    expected, cut = TABLES[table]

    assert ties == expected
    gated, ungated = _notes(conn, oid, ties), _notes(conn, oid, None)
    assert gated == ungated
    assert bool(ungated) == cut
    assert _notes(conn, oid, set()) == []  # and a gate saying "none" does skip the reads


@pytest.mark.parametrize("table", sorted(TABLES))
def test_archiving_a_table_leaves_it_no_tie_a_read_finds(
    conn: psycopg.Connection[Any], table: str
) -> None:
    """The gates as archive_tables reads them, with the tables it resolves (its own query)."""
    oid = _oid(conn, table)
    conn.execute("BEGIN")
    try:
        archive_tables(conn, _planned(f"DROP TABLE g.{table};"), WHEN)
        left = make_inert(conn, [oid])
    finally:
        conn.execute("ROLLBACK")

    assert left == []


def test_archiving_a_partitioned_table_leaves_its_partitions_no_tie(
    conn: psycopg.Connection[Any],
) -> None:
    """The ties are the partitions' own: a gate read of the parent alone would say none."""
    oids = [_oid(conn, table) for table in ("parted", "parted_1", "parted_2")]
    assert [_ties(conn, oid) for oid in oids] == [set(), {Tie.CHECK}, {Tie.EXPRESSION_INDEX}]
    conn.execute("BEGIN")
    try:
        archive_tables(conn, _planned("DROP TABLE g.parted;"), WHEN)
        left = make_inert(conn, oids)
    finally:
        conn.execute("ROLLBACK")

    assert left == []


PUBLISHED = """
create schema shop;
create table shop.gone (id int);
create publication everything for all tables;
create publication "shop's" for tables in schema shop;
"""


def _archive(conn: psycopg.Connection[Any], statement: str) -> list[str]:
    conn.execute("BEGIN")
    try:
        return archive_tables(conn, _planned(statement), WHEN).dependents
    finally:
        conn.execute("ROLLBACK")


def test_a_wholesale_publication_is_named_when_a_table_is_archived(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(PUBLISHED)
        dependents = _archive(conn, "DROP TABLE shop.gone;")
        conn.execute('DROP PUBLICATION everything, "shop\'s"')
        unpublished = _archive(conn, "DROP TABLE shop.gone;")

    assert dependents == [
        "archived shop.gone stays in publication everything (FOR ALL TABLES: every "
        "table is published, the archive's too)",
        "removed archived shop.gone from publication shop's (it publishes schema shop, "
        "not the archive)",
    ]
    assert unpublished == []
