"""The schema model read from a real PostgreSQL, and the incremental checks built on it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pglast
import psycopg
import pytest

from migration_rollback.verify import capture, catalog
from migration_rollback.verify.baseline import load_baseline
from migration_rollback.verify.diff import diff_objects
from migration_rollback.verify.model import SchemaModel
from migration_rollback.verify.snapshot import (
    ObjectId,
    quote_ident,
    take_snapshot,
)

pytestmark = pytest.mark.integration

SCHEMA = r"""
create schema app;
comment on schema app is 'the app';
create type app.mood as enum ('sad', 'ok', 'happy');
alter type app.mood add value 'meh' before 'ok';
create type app.pair as (a integer, b text);
create domain app.short_text as text collate "C" default 'x' not null
  constraint short check (length(value) < 10);
create type app.span as range (subtype = integer);
create sequence app.counter as integer increment by 5 minvalue 10 start with 20 cache 2 cycle;
create table app.parent (
  id bigint generated always as identity (start with 100) primary key,
  code text collate "C" not null,
  label app.short_text,
  lower_code text generated always as (lower(code)) stored,
  feeling app.mood default 'ok',
  n integer default nextval('app.counter'),
  unique (code)
);
alter sequence app.counter owned by app.parent.n;
create unlogged table app.scratch (x int);
create table app.child (
  id serial primary key,
  parent_id bigint references app.parent (id) on delete cascade deferrable initially deferred,
  amount numeric(10,2)
);
alter table app.child add constraint child_amount_check check (amount > 0) not valid;
create index child_parent_idx on app.child using btree (parent_id) where amount is not null;
create table app.events (at date not null, v int) partition by range (at);
create table app.events_2025 partition of app.events
  for values from ('2025-01-01') to ('2026-01-01');
alter table app.child enable row level security;
alter table app.child force row level security;
alter table app.child replica identity full;
create policy "read" on app.child as restrictive for select to anon, authenticated
  using (amount > 1);
create function app.bump() returns trigger language plpgsql security definer
  set search_path = app, pg_temp as $$ begin return new; end $$;
create trigger child_bump before insert or update of amount on app.child
  for each row when (new.amount > 0) execute function app.bump();
alter table app.child disable trigger child_bump;
create view app.v with (security_invoker = true) as select id, code from app.parent;
create materialized view app.mv as select count(*) as n from app.child with no data;
create rule no_delete as on delete to app.scratch do instead nothing;
grant usage on schema app to anon;
grant select (code) on app.parent to anon;
grant select on app.v to authenticated with grant option;
revoke execute on function app.bump() from public;
comment on column app.parent.code is 'the code';
comment on function app.bump() is 'bumps';
comment on constraint short on domain app.short_text is 'short';
alter publication supabase_realtime add table app.child (id, amount) where (amount > 10);
alter default privileges in schema app grant select on tables to anon;
create table "Mixed Case"."odd ""name"" x" (x int) ;
"""


@pytest.fixture(scope="module")
def conn(pg_server: Any) -> Iterator[psycopg.Connection[Any]]:
    name = pg_server.create_database("snap")
    try:
        with psycopg.connect(pg_server.url_for(name), autocommit=True) as c:
            load_baseline(c)
            c.execute('create schema "Mixed Case"')
            c.execute(SCHEMA)
        with psycopg.connect(pg_server.url_for(name), autocommit=True, prepare_threshold=None) as c:
            yield c
    finally:
        pg_server.drop_database(name)


def attrs(snap: Any, kind: str, name: str) -> dict[str, Any]:
    found = snap.get(kind, name)
    assert found is not None, f"{kind} {name} not in {sorted(str(k) for k in snap.objects)}"
    return dict(found.attrs)


def test_every_kind_is_modelled(conn: psycopg.Connection[Any]) -> None:
    snap = take_snapshot(conn)
    assert attrs(snap, "schema", "app")["comment"] == "the app"
    assert "anon=USAGE" in attrs(snap, "schema", "app")["privileges"]
    assert attrs(snap, "type", "app.mood")["labels"] == ("sad", "meh", "ok", "happy")
    assert attrs(snap, "type", "app.pair")["attributes"] == ("a integer", "b text")
    domain = attrs(snap, "type", "app.short_text")
    assert domain["base type"] == "text"
    assert domain["not null"] is True
    assert domain["collation"] == 'pg_catalog."C"'
    assert domain["default"] == "'x'::text"
    assert attrs(snap, "constraint", "app.short_text.short")["comment"] == "short"
    assert attrs(snap, "type", "app.span")["subtype"] == "integer"
    counter = attrs(snap, "sequence", "app.counter")
    assert (counter["increment"], counter["minimum"], counter["start"], counter["cycle"]) == (
        5,
        10,
        20,
        True,
    )
    assert counter["owned by"] == "app.parent.n"
    identity = attrs(snap, "sequence", "app.parent_id_seq")
    assert identity["start"] == 100
    assert identity["owned by"] == "app.parent.id"
    parent_id = attrs(snap, "column", "app.parent.id")
    assert parent_id["identity"] == "always"
    assert parent_id["position"] == 1
    code = attrs(snap, "column", "app.parent.code")
    assert code["collation"] == 'pg_catalog."C"'
    assert code["comment"] == "the code"
    assert code["privileges"] == ("anon=SELECT",)
    assert attrs(snap, "column", "app.parent.lower_code")["generated"] == "lower(code)"
    assert attrs(snap, "column", "app.parent.label")["type"] == "app.short_text"
    assert attrs(snap, "column", "app.parent.feeling")["default"] == "'ok'::app.mood"
    assert attrs(snap, "table", "app.scratch")["persistence"] == "unlogged"
    child = attrs(snap, "table", "app.child")
    assert child["row security"]
    assert child["force row security"]
    assert child["replica identity"] == "full"
    fk = attrs(snap, "constraint", "app.child.child_parent_id_fkey")
    assert "DEFERRABLE INITIALLY DEFERRED" in fk["definition"]
    assert attrs(snap, "constraint", "app.child.child_amount_check")["definition"].endswith(
        "NOT VALID"
    )
    index = attrs(snap, "index", "app.child_parent_idx")
    assert "WHERE (amount IS NOT NULL)" in index["definition"]
    assert index["valid"]
    assert attrs(snap, "index", "app.parent_pkey")["constraint"] == "parent_pkey"
    assert attrs(snap, "table", "app.events")["partitioned by"] == "RANGE (at)"
    assert attrs(snap, "table", "app.events_2025")["partition of"].startswith(
        "app.events FOR VALUES FROM ('2025-01-01')"
    )
    policy = attrs(snap, "policy", "app.child.read")
    assert policy == {
        "command": "SELECT",
        "permissive": False,
        "roles": ("anon", "authenticated"),
        "using": "(amount > (1)::numeric)",
    }
    trigger = attrs(snap, "trigger", "app.child.child_bump")
    assert trigger["enabled"] == "disabled"
    assert "UPDATE OF amount" in trigger["definition"]
    bump = attrs(snap, "function", "app.bump()")
    assert bump["security definer"]
    assert bump["config"] == ("search_path=app, pg_temp",)
    assert bump["comment"] == "bumps"
    assert "PUBLIC" not in str(bump["privileges"])
    assert attrs(snap, "view", "app.v")["options"] == ("security_invoker=true",)
    assert "authenticated=SELECT*" in attrs(snap, "view", "app.v")["privileges"]
    assert attrs(snap, "materialized view", "app.mv")["populated"] is False
    assert "DO INSTEAD NOTHING" in attrs(snap, "rule", "app.scratch.no_delete")["definition"]
    member = attrs(snap, "publication table", "supabase_realtime:app.child")
    assert member == {"columns": ("id", "amount"), "row filter": "(amount > (10)::numeric)"}
    defaults = attrs(snap, "default privileges", "for role postgres in schema app on tables")
    assert defaults["privileges"] == ("anon=SELECT",)
    assert attrs(snap, "extension", "pgcrypto")["schema"] == "extensions"
    assert snap.get("table", '"Mixed Case"."odd ""name"" x"') is not None
    # Extension members and system schemas stay out; the helpers of the verifier too.
    names = {o.id.name for o in snap}
    assert not any(
        n.startswith(("extensions.", "pg_catalog.", "information_schema.")) for n in names
    )
    assert snap.get("schema", "_migration_rollback_verify") is None


def test_identities_are_quoted_as_postgres_does(conn: psycopg.Connection[Any]) -> None:
    names = ["users", "user", "integer", "Users", "my table", 'a"b', "_x1$", "select", "çа"]
    (row,) = conn.execute(
        "SELECT array_agg(quote_ident(n) ORDER BY o) "
        "FROM unnest(%s::text[]) WITH ORDINALITY u(n, o)",
        [names],
    ).fetchall()
    assert [quote_ident(n) for n in names] == row[0]


def test_snapshots_are_repeatable_and_leave_the_session_alone(
    conn: psycopg.Connection[Any],
) -> None:
    conn.execute("set search_path = app, public")
    first = take_snapshot(conn)
    second = take_snapshot(conn)
    assert diff_objects(first.objects, second.objects) == []
    assert conn.execute("show search_path").fetchone() == ("app, public",)
    conn.execute("reset search_path")


# Forward and rollback statements whose scoped (incremental) check must equal the full one.
TRIALS: list[tuple[list[str], list[str]]] = [
    (["create table app.t (id int primary key, p bigint references app.parent (id))"],
     ["drop table app.t"]),
    (["alter table app.child add column extra text default 'x'"],
     ["alter table app.child drop column extra"]),
    (["alter table app.scratch alter column x type bigint"],
     ["alter table app.scratch alter column x type integer"]),
    (["comment on column app.parent.code is 'changed'"],
     ["comment on column app.parent.code is null"]),
    (["drop index app.child_parent_idx"], []),
    (["drop index app.child_parent_idx"],
     ["create index child_parent_idx on app.child (parent_id) where amount is not null"]),
    (["revoke select (code) on app.parent from anon"], []),
    (["grant all on all tables in schema app to service_role"], []),
    (["grant usage on schema app to authenticated"], []),
    (["grant execute on function app.bump() to anon"], []),
    (["grant usage on type app.mood to anon"], []),
    (["alter publication supabase_realtime drop table app.child"], []),
    (["alter table app.parent rename column code to code2"], []),
    (["alter type app.mood add value 'great'"], []),
    (["alter domain app.short_text drop constraint short"], []),
    (["alter default privileges in schema app revoke select on tables from anon"], []),
    (["drop table app.child cascade"], []),
    (["alter table app.child enable trigger child_bump"], []),
    (["create or replace view app.v with (security_invoker = true) as "
      "select id, code, n from app.parent"],
     []),
    (["alter sequence app.counter increment by 7"], []),
    (["alter table app.child no force row level security"], []),
    (["do $$ begin execute 'grant select on app.scratch to anon'; end $$"], []),
    (["create event trigger et on ddl_command_start execute function "
      "_migration_rollback_verify.capture_end()"], []),
    (["alter schema app rename to app2"], ["alter schema app2 rename to app"]),
    (["create schema other", "create table other.x (a int)"], []),
    (["refresh materialized view app.mv"], []),
]  # fmt: skip


def test_scoped_checks_find_what_full_snapshots_find(conn: psycopg.Connection[Any]) -> None:
    assert capture.install(conn)
    catalog.prepare_connection(conn)
    model = SchemaModel.from_snapshot(take_snapshot(conn))
    with conn.pipeline():
        capture.queue_refs_reset(conn, model.objects.values())
    for forward, rollback in TRIALS:
        conn.execute("BEGIN")
        capture.clear(conn)
        for statement in forward + rollback:
            conn.execute(statement)
        nodes = [pglast.parse_sql(s)[0].stmt for s in forward + rollback]
        with catalog.reading(conn):
            pending = capture.queue_check(conn, nodes)
        check = pending.collect()
        whole = take_snapshot(conn).objects
        in_scope = {k: o for k, o in whole.items() if check.scope.covers(o.family)}
        assert check.found.objects == in_scope, forward  # what a full read holds there
        full = diff_objects(model.objects, whole)
        conn.execute("ROLLBACK")
        assert full or forward == [] or rollback, f"{forward}: expected a difference"
        if check.full_reason is not None:
            assert "GRANT" in check.full_reason, (forward, check.full_reason)
            continue
        scoped = diff_objects(model.view(check.scope), check.found.objects)
        scoped_json = [d.to_json() for d in scoped]
        full_json = [d.to_json() for d in full]
        if any(" rename " in s for s in forward + rollback):
            # A rename also changes how dependents render (a view's definition): the check
            # finds the renamed object, which is enough for the verdict, not every dependent.
            assert bool(scoped_json) == bool(full_json), forward
            assert all(d in full_json for d in scoped_json), forward
            continue
        assert scoped_json == full_json, forward
    assert model.objects.get(ObjectId("schema", "app")) is not None


EXPECTED = Path(__file__).parent / "data"


def test_the_model_of_a_rich_schema_is_unchanged(conn: psycopg.Connection[Any]) -> None:
    """The whole model of SCHEMA's objects, attribute by attribute, as recorded: reading the
    catalogs faster must not change a single value. Recorded per PostgreSQL major."""
    major = conn.info.server_version // 10000
    expected = EXPECTED / f"rich_schema_model.pg{major}.json"
    if not expected.exists():
        pytest.skip(f"no recorded model for PostgreSQL {major}")
    ours = [o for o in take_snapshot(conn).to_json() if _of_rich_schema(o)]
    assert ours == json.loads(expected.read_text())


def _of_rich_schema(obj: dict[str, Any]) -> bool:
    names = f"{obj['name']} {obj.get('parent', '')}"
    return any(part in names for part in ("app.", "app:", '"Mixed Case"')) or obj["name"] == "app"
