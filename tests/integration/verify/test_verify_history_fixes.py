"""What earlier migrations made, followed through a migration that drops, moves or swaps it,
run on a real PostgreSQL: one overload dropped and another replaced; a routine and a view
moved to another schema and replaced there; the enum swap (renamed aside, made again,
dropped); a column's unnamed UNIQUE and CHECK dropped; every trigger of a table switched; an
index made twice IF NOT EXISTS; rows inserted into a table the platform made. Each row: the
history, the forward, then the generated undo (SQL only, no MANUAL item) must give back the
catalog as it was."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from migration_rollback.sql import build_history, generate_rollback, parse_script

pytestmark = pytest.mark.integration

# Made outside the migrations (the platform): the history does not see it.
PLATFORM = """
create schema if not exists storage;
create table if not exists storage.buckets (id text primary key, name text not null);
"""

# (history, forward)
ROWS: dict[str, tuple[str, str]] = {
    "overload_dropped_other_replaced": (
        "create function public.f(a uuid) returns int language sql as $$ select 1 $$;"
        "create function public.f(a uuid, b int default 1) returns int language sql"
        " as $$ select 1 $$;",
        "drop function if exists public.f(uuid);"
        "create or replace function public.f(a uuid, b int default 1) returns int"
        " language sql as $$ select 2 $$;",
    ),
    "moved_then_replaced": (
        "create schema priv; create function public.g(a uuid) returns int language sql"
        " as $$ select 1 $$; create view public.v as select 1 as one;",
        "alter function public.g(uuid) set schema priv;"
        "create or replace function priv.g(a uuid) returns int language sql as $$ select 2 $$;"
        "alter view public.v set schema priv;"
        "create or replace view priv.v as select 1 as one, 2 as two;",
    ),
    "enum_swapped": (
        "create type public.mood as enum ('a', 'b');"
        "create table public.t (id int primary key, m public.mood default 'a');"
        "alter type public.mood add value 'z' before 'a';",
        "alter type public.mood rename to mood_old;"
        "create type public.mood as enum ('a', 'b', 'c');"
        "alter table public.t alter column m drop default;"
        "alter table public.t alter column m type public.mood using m::text::public.mood;"
        "alter table public.t alter column m set default 'b';"
        "drop type public.mood_old;",
    ),
    "column_constraints_dropped": (
        "create table public.things (id int primary key, slug text unique,"
        " mood int check (mood between 1 and 5));"
        "alter table public.things add column twin int references public.things (id);",
        "alter table public.things drop constraint things_slug_key;"
        "alter table public.things drop constraint if exists things_mood_check;"
        "alter table public.things drop constraint things_twin_fkey;",
    ),
    "every_trigger_switched": (
        "create table public.p (id int primary key);"
        "create table public.c (id int primary key, p int references public.p (id));"
        "create function public.tf() returns trigger language plpgsql"
        " as $$ begin return new; end $$;"
        "create trigger c_t before insert on public.c for each row execute function public.tf();",
        "alter table public.c disable trigger all;"
        "alter table public.c enable trigger user;"
        "alter table public.p disable trigger user;",
    ),
    "index_made_twice": (  # on a table made here: surely new (engine-safety's IF NOT EXISTS)
        "",
        "create table public.ix (id int primary key, a int);"
        "create index if not exists ix_a_idx on public.ix (a);"
        "comment on index public.ix_a_idx is 'one';"
        "create index if not exists ix_a_idx on public.ix (a);"
        "comment on index public.ix_a_idx is 'two';",
    ),
    "platform_rows_inserted": (
        "",
        "insert into storage.buckets (id, name) values ('avatars', 'avatars'), ('docs', 'd');",
    ),
}

CATALOG = """
select 'routine', p.oid::regprocedure::text, pg_get_functiondef(p.oid)
  from pg_proc p where p.pronamespace::regnamespace::text in ('public', 'priv')
union all
select 'type', t.oid::regtype::text, string_agg(e.enumlabel, ',' order by e.enumsortorder)
  from pg_type t join pg_enum e on e.enumtypid = t.oid group by t.oid
union all
select 'column', attrelid::regclass::text || '.' || attname, format_type(atttypid, atttypmod)
  || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
  from pg_attribute a left join pg_attrdef d on (d.adrelid, d.adnum) = (a.attrelid, a.attnum)
  where attrelid in (select oid from pg_class where relnamespace::regnamespace::text
  in ('public', 'priv')) and attnum > 0 and not attisdropped
union all
select 'constraint', conrelid::regclass::text || '.' || conname, pg_get_constraintdef(oid)
  from pg_constraint where connamespace = 'public'::regnamespace
union all
select 'trigger', tgrelid::regclass::text || '.' || case when tgisinternal  -- named by oid
  then (select conname from pg_constraint where oid = tgconstraint) || ':' || tgtype
  else tgname end, tgenabled::text
  from pg_trigger where tgrelid in (select oid from pg_class where relnamespace =
  'public'::regnamespace)
union all
select 'view', c.oid::regclass::text, pg_get_viewdef(c.oid)
  from pg_class c where c.relkind = 'v' and relnamespace::regnamespace::text in ('public', 'priv')
union all
select 'index', c.oid::regclass::text, coalesce(obj_description(c.oid, 'pg_class'), '')
  from pg_class c where c.relkind = 'i' and relnamespace = 'public'::regnamespace
union all
select 'bucket', id, name from storage.buckets
order by 1, 2, 3"""


@pytest.fixture(scope="module")
def fixes_db(pg_server: object) -> Iterator[str]:
    name = pg_server.create_database("history_fixes")  # type: ignore[attr-defined]
    try:
        yield pg_server.url_for(name)  # type: ignore[attr-defined]
    finally:
        pg_server.drop_database(name)  # type: ignore[attr-defined]


def _catalog(conn: psycopg.Connection[Any], *scripts: str) -> list[Any]:
    with conn.transaction(force_rollback=True):
        for script in (PLATFORM, *scripts):
            if script:
                conn.execute(script.encode())
        return conn.execute(CATALOG).fetchall()


@pytest.mark.parametrize("row", list(ROWS))
def test_each_row_runs_forward_and_back(fixes_db: str, row: str) -> None:
    earlier, forward = ROWS[row]
    history = build_history([parse_script(earlier, "earlier.sql")])
    plan = generate_rollback(parse_script(forward, "m.sql"), "m", history)
    assert not plan.manual_items, [i.reason for _, i in plan.manual_items]
    undo = ";\n".join(s.sql for s in plan.sql_steps if s.sql)
    with psycopg.connect(fixes_db, autocommit=True) as conn:
        before = _catalog(conn, earlier)
        changed = _catalog(conn, earlier, forward)
        after = _catalog(conn, earlier, forward, undo)
    assert changed != before
    assert after == before, undo
