"""Event triggers in a scoped check (real PostgreSQL): commands on them fire no event trigger,
so the check reads them whole, but only when the kept model holds one or the database does
now; when neither does they are the same (none), and the read is left out.

Each case compares the scoped check's difference with a full snapshot's, as the round trip
would find it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pglast
import psycopg
import pytest
from verify_support import capturing_database

from migration_rollback.verify import capture, catalog
from migration_rollback.verify.diff import diff_objects
from migration_rollback.verify.model import SchemaModel
from migration_rollback.verify.snapshot import take_snapshot
from migration_rollback.verify.snapshot.kinds import EVENT_TRIGGERS

pytestmark = pytest.mark.integration

SCHEMA = """
create table public.notes (id bigint primary key, body text);
create function public.on_ddl() returns event_trigger language plpgsql as $$ begin end $$;
"""
GROUP = EVENT_TRIGGERS.label


@pytest.fixture(scope="module")
def conn(pg_server: Any) -> Iterator[psycopg.Connection[Any]]:
    with capturing_database(pg_server, "event_triggers", SCHEMA) as c:
        yield c


def _check(
    conn: psycopg.Connection[Any], model: SchemaModel, statements: list[str]
) -> tuple[capture.Check, list[str], list[str]]:
    """The check after the statements (in an open transaction), its differences from the
    model, and a full snapshot's."""
    capture.clear(conn)
    for statement in statements:
        conn.execute(statement)
    nodes = [pglast.parse_sql(s)[0].stmt for s in statements]
    with catalog.reading(conn):
        pending = capture.queue_check(conn, nodes, event_triggers=model.holds(GROUP))
    check = pending.collect()
    scoped = [str(d.to_json()) for d in diff_objects(model.view(check.scope), check.found.objects)]
    full = [str(d.to_json()) for d in diff_objects(model.objects, take_snapshot(conn).objects)]
    return check, scoped, full


def _model(conn: psycopg.Connection[Any]) -> SchemaModel:
    model = SchemaModel.from_snapshot(take_snapshot(conn))
    with conn.pipeline():
        capture.queue_refs_reset(conn, model.objects.values())
    return model


def test_with_none_kept_and_none_made_they_are_not_read(conn: psycopg.Connection[Any]) -> None:
    model = _model(conn)
    assert not model.holds(GROUP)
    conn.execute("BEGIN")
    try:
        check, scoped, full = _check(conn, model, ["alter table public.notes add column n int"])
        assert GROUP not in check.scope.groups
        assert scoped == full
        assert any("n" in d for d in scoped)
    finally:
        conn.execute("ROLLBACK")


@pytest.mark.parametrize(
    "statements",
    [
        ["create event trigger on_ddl on ddl_command_end execute function public.on_ddl()"],
        [  # in a DO block: no statement of the migration names it
            "do $$ begin execute 'create event trigger on_ddl on ddl_command_end"
            " execute function public.on_ddl()'; end $$",
        ],
    ],
)
def test_one_made_where_none_was_is_read_and_found(
    conn: psycopg.Connection[Any], statements: list[str]
) -> None:
    model = _model(conn)
    conn.execute("BEGIN")
    try:
        check, scoped, full = _check(conn, model, statements)
        assert GROUP in check.scope.groups
        assert scoped == full
        assert any("on_ddl" in d for d in scoped)
    finally:
        conn.execute("ROLLBACK")


@pytest.mark.parametrize(
    "statement",
    ["drop event trigger kept_ddl", "alter event trigger kept_ddl disable"],
)
def test_one_kept_is_read_when_dropped_or_changed(
    conn: psycopg.Connection[Any], statement: str
) -> None:
    conn.execute(
        "create event trigger kept_ddl on ddl_command_end execute function public.on_ddl()"
    )
    try:
        model = _model(conn)
        assert model.holds(GROUP)
        conn.execute("BEGIN")
        try:
            check, scoped, full = _check(conn, model, [statement])
            assert GROUP in check.scope.groups
            assert scoped == full
            assert any("kept_ddl" in d for d in scoped)
        finally:
            conn.execute("ROLLBACK")
    finally:
        conn.execute("drop event trigger kept_ddl")
