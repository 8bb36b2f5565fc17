"""A relation the scope holds in a schema no model holds (where a rollback's DROP TABLE archives
it): in the scope under its own category, which no kind's query starts from, and the scoped
comparison still the full one's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pglast
import psycopg
import pytest
from verify_support import capturing_database

from migration_rollback.runner.naming import ARCHIVE_SCHEMA
from migration_rollback.verify import capture, catalog, scoped_check
from migration_rollback.verify.diff import diff_objects
from migration_rollback.verify.model import SchemaModel
from migration_rollback.verify.snapshot import SCOPE_TABLE, take_snapshot

pytestmark = pytest.mark.integration

SCHEMA = f"""
create schema app;
create schema {ARCHIVE_SCHEMA};
create table app.kept (id bigint generated always as identity primary key, note text);
create index kept_note on app.kept (note);
alter table app.kept enable row level security;
create policy readers on app.kept for select using (true);
"""


@pytest.fixture(scope="module")
def conn(pg_server: Any) -> Iterator[psycopg.Connection[Any]]:
    with capturing_database(pg_server, "outside", SCHEMA) as c:
        yield c


def _check(conn: psycopg.Connection[Any], statements: list[str]) -> capture.Check:
    capture.clear(conn)
    for statement in statements:
        conn.execute(statement)
    nodes = [pglast.parse_sql(s)[0].stmt for s in statements]
    with catalog.reading(conn):
        pending = capture.queue_check(conn, nodes)
    return pending.collect()


def _categories(conn: psycopg.Connection[Any], oid: int) -> set[str]:
    rows = conn.execute(f"SELECT category FROM {SCOPE_TABLE} WHERE oid = %s", (oid,))
    return {str(row[0]) for row in rows}


def test_an_archived_table_is_in_scope_outside_and_its_removal_is_found(
    conn: psycopg.Connection[Any],
) -> None:
    model = SchemaModel.from_snapshot(take_snapshot(conn))
    with conn.pipeline():
        capture.queue_refs_reset(conn, model.objects.values())
    oid = conn.execute("SELECT 'app.kept'::regclass::oid").fetchone()[0]  # type: ignore[index]
    conn.execute("BEGIN")
    try:
        check = _check(conn, [f"alter table app.kept set schema {ARCHIVE_SCHEMA}"])
        assert _categories(conn, oid) == {scoped_check.OUTSIDE}
        assert check.full_reason is None
        assert oid in check.scope.rels  # the model's objects of it are compared...
        assert not [o for o in check.found.objects.values() if o.family == f"rel:{oid}"]
        scoped = [d.to_json() for d in diff_objects(model.view(check.scope), check.found.objects)]
        full = [d.to_json() for d in diff_objects(model.objects, take_snapshot(conn).objects)]
        assert scoped == full  # ...and found gone, as a full read finds them
        assert any("app.kept" in str(d) for d in scoped)
    finally:
        conn.execute("ROLLBACK")


def test_a_table_of_the_users_schemas_stays_a_relation_of_the_scope(
    conn: psycopg.Connection[Any],
) -> None:
    oid = conn.execute("SELECT 'app.kept'::regclass::oid").fetchone()[0]  # type: ignore[index]
    conn.execute("BEGIN")
    try:
        check = _check(conn, ["alter table app.kept add column extra int"])
        assert _categories(conn, oid) == {"rel"}
        assert any(o.id.name == "app.kept.extra" for o in check.found.objects.values())
    finally:
        conn.execute("ROLLBACK")
