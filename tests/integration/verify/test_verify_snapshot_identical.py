"""The whole model of a varied schema, every field of every object, as the catalog reads gave it
before they were made faster (recorded per PostgreSQL major): a faster read must not change one
value, extra, parent, family or catalog ref.

Part of the schema is created inside the open transaction the snapshot is taken in (as the
verifier takes its snapshots: uncommitted DDL, a dropped column, a table created and altered).
OIDs are not stable from one database to the next, so refs and families name their object by
identity instead (`rel:<oid>` → `rel:public.t`). Record again (only when a change of the model
is intended) with MIGRATION_ROLLBACK_RECORD_MODEL=1, from main's code (PYTHONPATH), so that the
recording does not come from the change it checks.

The same schema read two other ways must give the same model: the scoped read (each rollback's
check) with everything in scope, and the full read in a session quoting every identifier.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest

from migration_rollback.verify import capture, catalog
from migration_rollback.verify.baseline import load_baseline
from migration_rollback.verify.snapshot import (
    SCOPE_TABLE,
    Snapshot,
    SnapshotObject,
    Value,
    kinds_for,
    scoped_snapshot,
    take_snapshot,
)
from migration_rollback.verify.snapshot import scoped as scoped_read
from migration_rollback.verify.snapshot.relation_kinds import PARTITION_PARENT

pytestmark = pytest.mark.integration

COMMITTED = r"""
create schema v;
comment on schema v is 'varied';
create type v.mood as enum ('sad', 'ok', 'happy');
create type v.pair as (a integer, "B b" text);
create domain v.code as varchar(12) check (value ~ '^[A-Z]');
create domain v.pos as integer default 1 constraint pos_positive check (value > 0) not null;
create type v.span as range (subtype = numeric);
create sequence v.seq as bigint increment by 3 minvalue 5 maxvalue 5000 start 9 cache 4 cycle;
create table v.base (
  id bigint generated always as identity (start with 10 increment by 2) primary key,
  code v.code not null unique,
  "Name" text collate "C" default 'x' || 'y',
  name_lower text generated always as (lower("Name")) stored,
  mood v.mood default 'ok',
  pos v.pos,
  n numeric(12, 3) default nextval('v.seq'),
  tags text[] default '{}',
  doomed int,
  kept int default 7,
  at timestamptz default now()
);
alter table v.base drop column doomed;
alter sequence v.seq owned by v.base.n;
create table v.child (
  base_id bigint not null references v.base (id) on update cascade on delete set null
    deferrable initially deferred,
  line int not null,
  amount numeric check (amount > 0),
  note varchar(200),
  primary key (base_id, line),
  constraint child_note_ck check (note <> '') not valid,
  exclude using btree (amount with =) where (amount > 100)
);
create table v.inherits_child (extra int) inherits (v.child);
create unlogged table v.scratch (x int, y int) with (fillfactor = 70, autovacuum_enabled = off);
create index scratch_expr on v.scratch ((x + y)) where y > 0;
create index scratch_desc on v.scratch (y desc nulls last, x nulls first);
create index scratch_pattern on v.base ("Name" text_pattern_ops);
create index scratch_code on v.base (code);
create index base_coll on v.base ("Name" collate "POSIX");
create index base_tags on v.base using gin (tags);
create index base_hash on v.base using hash (kept);
create index base_incl on v.base (kept) include (pos) with (fillfactor = 50);
create unique index base_mood on v.base (mood, kept);
create index base_lower on v.base (lower("Name"), kept desc);
create table v.events (at date not null, kind text, payload jsonb) partition by list (kind);
create table v.events_a partition of v.events for values in ('a');
create table v.events_rest partition of v.events default;
create table v.events_b (gap int, at date not null, kind text, payload jsonb);
alter table v.events_b drop column gap;
alter table v.events attach partition v.events_b for values in ('b');
create index events_at on v.events (at);
create index events_kind on only v.events (kind);
alter table v.events enable row level security;
create policy "Events read" on v.events for select to anon using (kind <> 'x');
alter table v.base enable row level security;
create policy "Own rows" on v.base for update to authenticated, anon
  using (kept > 0) with check (kept < 100);
create policy everyone on v.base as restrictive using (true);
create function v.touch() returns trigger language plpgsql set search_path = v as $$
begin new.kept := coalesce(new.kept, 0); return new; end $$;
create trigger base_touch before insert or update of kept on v.base
  for each row when (new.kept is null) execute function v.touch();
create constraint trigger child_check after insert on v.child
  deferrable initially deferred for each row execute function v.touch();
create function v.add(a int, b int default 2) returns int language sql immutable strict
  parallel safe return a + b;
create procedure v.reset(inout n int) language plpgsql as $$ begin n := 0; end $$;
create aggregate v.total(int) (sfunc = v.add, stype = int, initcond = '0');
create view v.active with (security_barrier) as
  select id, code, kept from v.base where kept > 0 with local check option;
create materialized view v.summary as select mood, count(*) as n from v.base group by mood;
create index summary_mood on v.summary (mood);
create rule scratch_no_delete as on delete to v.scratch do instead nothing;
create foreign data wrapper v_fdw;
create server v_server foreign data wrapper v_fdw options (host 'nowhere');
create foreign table v.remote (id int options (column_name 'ID'), body text)
  server v_server options (table_name 'remote');
grant usage on schema v to anon;
grant select, insert on v.base to authenticated with grant option;
grant select (code, kept), update (kept) on v.base to anon;
grant execute on function v.add(int, int) to anon;
revoke execute on function v.add(int, int) from public;
grant usage on type v.mood to anon;
grant usage, select on sequence v.seq to authenticated;
alter default privileges in schema v grant select on tables to anon;
alter default privileges grant execute on functions to authenticated;
comment on table v.base is 'the base';
comment on column v.base.kept is 'kept ''quoted''';
comment on index v.scratch_expr is 'an expression';
comment on constraint child_note_ck on v.child is 'a note';
comment on trigger base_touch on v.base is 'touches';
comment on policy everyone on v.base is 'all';
comment on type v.mood is 'how it feels';
comment on function v.add(int, int) is 'adds';
comment on sequence v.seq is 'counts';
comment on view v.active is 'active ones';
comment on rule scratch_no_delete on v.scratch is 'keeps';
create function v.on_ddl() returns event_trigger language plpgsql as $$ begin end $$;
create event trigger v_ddl on ddl_command_end when tag in ('CREATE TABLE')
  execute function v.on_ddl();
alter event trigger v_ddl disable;
create schema "Odd "" Schema";
create table "Odd "" Schema"."Tab le" (
  "Col umn" serial primary key,
  "select" text,
  "Ident ity" bigint generated by default as identity
);
create index "Idx ""q"" x" on "Odd "" Schema"."Tab le" ("select");
"""

# Column lists, row filters and schema publications came in 15.
SINCE_15 = r"""
create publication v_pub for table v.base (id, code) where (kept > 1), table v.child;
create publication v_schemas for tables in schema v;
"""

# Taken as the verifier takes its snapshots: in an open transaction, uncommitted.
UNCOMMITTED = r"""
create table v.fresh (a int primary key, b text default 'b', c int);
alter table v.fresh drop column b;
alter table v.fresh add column d text collate "C";
create index fresh_d on v.fresh (d) where c is not null;
alter table v.base alter column kept set default 8;
alter table v.base drop column at;
create table v.heir (
  gap int, base_id bigint not null, line int not null,
  amount numeric constraint child_amount_check check (amount > 0), note varchar(200),
  own text, constraint child_note_ck check (note <> '')
);
alter table v.heir drop column gap;
alter table v.heir inherit v.child;
comment on column v.fresh.a is 'fresh';
grant select on v.fresh to anon;
"""

T = TypeVar("T")

RECORD = "MIGRATION_ROLLBACK_RECORD_MODEL"
EXPECTED = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def conn(pg_server: Any) -> Iterator[psycopg.Connection[Any]]:
    name = pg_server.create_database("snapsame")
    try:
        with psycopg.connect(pg_server.url_for(name), autocommit=True) as c:
            load_baseline(c)
            c.execute(COMMITTED)
            if c.info.server_version >= 150000:
                c.execute(SINCE_15)
        with psycopg.connect(pg_server.url_for(name), autocommit=True, prepare_threshold=None) as c:
            yield c
    finally:
        pg_server.drop_database(name)


def test_every_field_of_the_model_is_as_recorded(conn: psycopg.Connection[Any]) -> None:
    snapshot = _uncommitted(conn, take_snapshot)
    ours = normalized(snapshot)
    named = {obj.ref: str(obj.id) for obj in snapshot}
    parents = {
        str(obj.id): named.get(f"pg_class:{obj.extra[PARTITION_PARENT]}")
        for obj in snapshot
        if PARTITION_PARENT in obj.extra and obj.extra[PARTITION_PARENT] is not None
    }
    assert parents.get("table v.events_a") == "table v.events"  # the extra recorded apart
    expected = EXPECTED / f"varied_schema_model.pg{conn.info.server_version // 10000}.json"
    if os.environ.get(RECORD):
        expected.write_text(json.dumps(ours, indent=1, sort_keys=True) + "\n")
    if not expected.exists():
        pytest.skip(f"no recorded model for {expected.name}")
    assert len(ours) > 120
    recorded = json.loads(expected.read_text())
    assert [o["id"] for o in ours] == [o["id"] for o in recorded]  # the same objects first
    for mine, theirs in zip(ours, recorded, strict=True):
        assert mine == theirs


def test_the_scoped_read_of_everything_is_the_full_read(conn: psycopg.Connection[Any]) -> None:
    """Every user relation, function and type in scope, and every kind read whole: the scoped
    read (the one each rollback's check takes) must give the full read's model, field for
    field (a column's position ranked past dropped columns, comments, refs, families)."""
    assert capture.install(conn)  # the scoped read is a function it makes

    def both(c: psycopg.Connection[Any]) -> tuple[Snapshot, Snapshot]:
        full = take_snapshot(c)
        c.execute(f"DELETE FROM {SCOPE_TABLE}")
        c.execute(_EVERYTHING_IN_SCOPE)
        kinds = kinds_for(c.info.server_version)
        groups = [(k.label,) for k in kinds if not k.scope]
        with c.cursor() as cur:
            cur.executemany(f"INSERT INTO {SCOPE_TABLE} VALUES ('group', NULL, %s)", groups)
        started = time.perf_counter()
        with catalog.reading(c):
            rows = c.execute(scoped_read.READ_SQL).fetchall()
        return full, scoped_snapshot(kinds, rows, started)

    full, scoped = _uncommitted(conn, both)
    assert len(full.objects) > 120
    assert _by_id(normalized(scoped)) == _by_id(normalized(full))


def test_a_session_quoting_every_identifier_reads_the_same_model(
    conn: psycopg.Connection[Any],
) -> None:
    """A migration may turn `quote_all_identifiers` on: the read must not follow it (its
    identities changed, and every comment but a column's was lost)."""

    def quoting(c: psycopg.Connection[Any]) -> Snapshot:
        c.execute("SET LOCAL quote_all_identifiers = on")
        return take_snapshot(c)

    plain = normalized(_uncommitted(conn, take_snapshot))
    assert normalized(_uncommitted(conn, quoting)) == plain
    assert any("comment" in o["attrs"] for o in plain if o["id"].startswith("table "))


_USER_NAMESPACE = (
    "JOIN pg_catalog.pg_namespace n ON n.oid = {} "
    "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'"
)
_EVERYTHING_IN_SCOPE = f"""
INSERT INTO {SCOPE_TABLE}
SELECT 'rel', c.oid, NULL FROM pg_catalog.pg_class c {_USER_NAMESPACE.format("c.relnamespace")}
UNION ALL
SELECT 'func', p.oid, NULL FROM pg_catalog.pg_proc p {_USER_NAMESPACE.format("p.pronamespace")}
UNION ALL
SELECT 'type', t.oid, NULL FROM pg_catalog.pg_type t {_USER_NAMESPACE.format("t.typnamespace")}
"""


def _uncommitted(conn: psycopg.Connection[Any], read: Callable[[psycopg.Connection[Any]], T]) -> T:
    """`read` in an open transaction holding UNCOMMITTED, as the verifier reads (rolled back)."""
    conn.execute("begin")
    try:
        conn.execute(UNCOMMITTED)
        return read(conn)
    finally:
        conn.execute("rollback")


def _by_id(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {o["id"]: o for o in objects}


def normalized(snapshot: Snapshot) -> list[dict[str, Any]]:
    """Every object of the database's own (not the platform baseline's) with every field, OIDs
    replaced by the identity of the object they stand for."""
    named = {obj.ref: str(obj.id) for obj in snapshot}
    return [_fields(obj, named) for obj in snapshot if _ours(obj)]


def _ours(obj: SnapshotObject) -> bool:
    names = f"{obj.id.name} {obj.parent.name if obj.parent else ''}"
    if obj.id.name.startswith("for role "):  # default privileges: schema v's, or global ones
        return " in schema v " in obj.id.name or " in schema " not in obj.id.name
    return any(mark in names for mark in ("v.", "v_", '"Odd')) or obj.id.name == "v"


def _fields(obj: SnapshotObject, named: dict[str, str]) -> dict[str, Any]:
    return {
        "id": str(obj.id),
        "attrs": {k: _plain(v) for k, v in obj.attrs.items()},
        "attr order": list(obj.attrs),
        "parent": str(obj.parent) if obj.parent else None,
        "extra": {k: _plain(v) for k, v in obj.extra.items() if k not in _SINCE_RECORDING},
        "extra order": [k for k in obj.extra if k not in _SINCE_RECORDING],
        "ref": _named_ref(obj.ref, named),
        "family": _named_family(obj.family, named),
    }


# Extras the model gained after the recordings were made, checked on their own: a partition's
# parent, an OID (what keeps a detached partition in the scoped check's scope).
_SINCE_RECORDING = frozenset({PARTITION_PARENT})


def _plain(value: Value) -> Any:
    return list(value) if isinstance(value, tuple) else value


_FAMILY_CATALOGS = {"rel": "pg_class", "func": "pg_proc", "type": "pg_type"}


def _named_ref(ref: str, named: dict[str, str]) -> str:
    catalog, _, oid = ref.partition(":")
    if catalog == "pg_attribute":
        rel, _, attnum = oid.partition(".")
        return f"pg_attribute:{named.get(f'pg_class:{rel}', '?')}.{attnum}"
    return f"{catalog}:{named.get(ref, '?')}"


def _named_family(family: str, named: dict[str, str]) -> str:
    kind, _, oid = family.partition(":")
    if not oid:
        return family
    return f"{kind}:{named.get(f'{_FAMILY_CATALOGS[kind]}:{oid}', '?')}"
