"""Settings undone to the state the history followed (rules/settings.py), run on a real
PostgreSQL: the earlier migrations, then the forward, then the generated undo must leave every
relation's replica identity, storage parameters, persistence, inheritance, trigger and rule
switches, policies and comments, every object's owner, and what each publication holds, as
they were.

Each row is one automatic undo the static rules now write without a human: the catalog is
read before the forward and after the undo and compared whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from migration_rollback.sql import build_history, generate_rollback, parse_script

pytestmark = pytest.mark.integration

BASE = r"""
create function public.f() returns trigger language plpgsql as $$ begin return new; end $$;
create table public.t (id int primary key, b int);
create trigger a before insert on public.t for each row execute function public.f();
create trigger b before update on public.t for each row execute function public.f();
create role settings_reader;
create role settings_owner_a;
create role settings_owner_b;
"""

_RULE = "create rule r as on insert to public.t do also notify t;"
_ALTERED = (
    "create function public.g() returns int language sql stable set work_mem = '1MB'"
    " as 'select 1';"
    "alter function public.g() set search_path = public reset work_mem security definer;"
)

# (history after BASE, forward): each undo is SQL only, and must give the catalog back.
ROWS: dict[str, tuple[str, str]] = {
    "replica_full_on_default": ("", "alter table public.t replica identity full;"),
    "replica_default_on_full": (
        "alter table public.t replica identity full;",
        "alter table public.t replica identity default;",
    ),
    "replica_renamed_earlier": (
        "alter table public.t replica identity nothing; alter table public.t rename to u;",
        "alter table public.u replica identity full;",
    ),
    "replica_renamed_here_twice": (
        "",
        "alter table public.t rename to u; alter table public.u replica identity nothing;"
        "alter table public.u replica identity full;",
    ),
    "replica_only_partitioned": (
        "create table public.p (id int) partition by range (id);"
        "create table public.p1 partition of public.p for values from (0) to (10);"
        "alter table public.p1 replica identity full;",
        "alter table only public.p replica identity full;",
    ),
    "trigger_disable": ("", "alter table public.t disable trigger a;"),
    "trigger_enable_disabled": (
        "alter table public.t disable trigger a;",
        "alter table public.t enable trigger a;",
    ),
    "trigger_already_disabled": (
        "alter table public.t disable trigger user;",
        "alter table public.t disable trigger a; alter table public.t enable trigger b;",
    ),
    "trigger_always_back": (
        "alter table public.t enable always trigger a;",
        "alter table public.t disable trigger a;",
    ),
    "trigger_replica_both_ways": (
        "alter table public.t enable replica trigger a;",
        "alter table public.t enable always trigger a; alter table public.t enable trigger b;"
        "alter table public.t enable replica trigger b;",
    ),
    "trigger_off_and_on_again": (
        "",
        "alter table public.t disable trigger a; alter table public.t enable trigger a;"
        "alter table public.t disable trigger a;",
    ),
    "trigger_renamed": (
        "alter trigger a on public.t rename to a2; alter table public.t disable trigger a2;",
        "alter trigger a2 on public.t rename to a3; alter table public.t enable trigger a3;",
    ),
    "trigger_replaced_earlier": (
        "alter table public.t disable trigger a;"
        "create or replace trigger a before insert on public.t"
        " for each row execute function public.f();",
        "alter table public.t disable trigger a;",
    ),
    "trigger_only_partitioned": (
        "create table public.p (id int) partition by range (id);"
        "create trigger pt before insert on public.p for each row execute function public.f();"
        "create table public.p1 partition of public.p for values from (0) to (10);"
        "alter table public.p1 disable trigger pt;",
        "alter table only public.p disable trigger pt;",
    ),
    "view_security_invoker": (
        "create view public.v as select id from public.t;",
        "alter view public.v set (security_invoker = on);",
    ),
    "view_replaced_options": (
        "create view public.v with (security_barrier) as select id from public.t;"
        "create or replace view public.v with (security_invoker = true)"
        " as select id from public.t;",
        "alter view public.v set (security_invoker = false, security_barrier = true);",
    ),
    "view_check_option": (
        "create view public.v as select id, b from public.t with local check option;",
        "alter view public.v reset (check_option);",
    ),
    "view_renamed_then_set": (
        "create view public.v with (security_invoker = on) as select id from public.t;",
        "alter view public.v rename to w; alter view public.w set (security_invoker = off);",
    ),
    "table_parameters": (
        "alter table public.t set (fillfactor = 70, toast.autovacuum_enabled = false);",
        "alter table public.t set (fillfactor = 90, autovacuum_enabled = false);"
        "alter table public.t reset (toast.autovacuum_enabled);",
    ),
    "table_created_with_parameters": (
        "create table public.w (id int) with (fillfactor = 60);",
        "alter table public.w reset (fillfactor); alter table public.w set (fillfactor = 80);",
    ),
    "matview_parameters": (
        "create materialized view public.m with (fillfactor = 60) as select 1 as x;",
        "alter materialized view public.m set (fillfactor = 100);",
    ),
    # recreated from the earlier text: the settings changed since are set again
    # a policy altered by an earlier migration is restored as that migration left it
    "policy_altered_twice": (
        "create policy r on public.t for select to public using (id > 0);"
        "alter policy r on public.t to settings_reader using (id > 1);",
        "alter policy r on public.t using (true);",
    ),
    "policy_altered_then_dropped": (
        "create policy w on public.t for insert with check (false);"
        "alter policy w on public.t with check (b > 0);",
        "drop policy w on public.t;",
    ),
    # an owner an earlier migration named is given back
    "table_owner_named_earlier": (
        "alter table public.t owner to settings_owner_a;",
        "alter table public.t owner to settings_owner_b;",
    ),
    "view_owner_named_earlier": (
        "create view public.v as select id from public.t;"
        "alter view public.v owner to settings_owner_a;",
        "alter table public.v owner to settings_owner_b;",
    ),
    "function_owner_named_earlier": (
        "alter function public.f() owner to settings_owner_a;",
        "set search_path = public; alter function f() owner to settings_owner_b;",
    ),
    "type_owner_named_earlier": (
        "create type public.k as enum ('a'); alter type public.k owner to settings_owner_a;",
        "alter type public.k owner to settings_owner_b;",
    ),
    "schema_owner_named_earlier": (
        "create schema sx; alter schema sx owner to settings_owner_a;",
        "alter schema sx owner to settings_owner_b;",
    ),
    # a routine's attributes: its definition as earlier ALTER FUNCTIONs left it (an ALTER
    # FUNCTION itself is undone by hand), its arguments however spelled
    "function_settings": (
        "create function public.g() returns int language sql as 'select 1';",
        "alter function public.g() set search_path = public security definer;",
    ),
    "function_altered_earlier_then_again": (
        _ALTERED,
        "alter function public.g() reset all volatile cost 5 strict;",
    ),
    "function_every_attribute_back": (
        "create function public.g(x int) returns setof int language sql stable leakproof"
        " parallel safe cost 7 rows 5 set work_mem = '2MB' as 'select x';",
        "alter function public.g(integer) volatile not leakproof parallel restricted cost 9"
        " rows 6 strict security definer set work_mem = '3MB' set search_path = public;",
    ),
    "function_renamed_here_then_altered": (
        "create function public.g(x int) returns int language sql as 'select x';",
        "alter function public.g(int) rename to h; alter function public.h(int4) security definer;",
    ),
    "function_args_spelled_otherwise": (
        "create function public.g(x integer) returns int language sql as 'select x';"
        "alter function public.g(int4) security definer;",
        "drop function public.g(int);",
    ),
    # a comment on a table renamed here first: the one it had under its earlier name
    "comment_after_rename_here": (
        "comment on table public.t is 'orig';",
        "alter table public.t rename to u; comment on table public.u is 'new';",
    ),
    "comment_after_column_rename_here": (
        "comment on column public.t.b is 'orig';",
        "alter table public.t rename column b to c; comment on column public.t.c is 'new';",
    ),
    # dropped and recreated from its CREATE: the owner and comment earlier migrations gave it
    "dropped_keeps_owner_and_comment": (
        "create view public.v as select * from public.t;"
        "alter view public.v owner to settings_owner_a; comment on view public.v is 'vc';"
        "create function public.g() returns int language sql as 'select 1';"
        "alter function public.g() owner to settings_owner_b;"
        "comment on function public.g() is 'it''s g';",
        "drop view public.v; drop function public.g();",
    ),
    # CREATE UNLOGGED TABLE ... AS: unlogged from the start
    "unlogged_table_as": (
        "create unlogged table public.t2 as select 1 as a;",
        "alter table public.t2 set logged;",
    ),
    "function_altered_earlier_then_dropped": (_ALTERED, "drop function public.g();"),
    "function_altered_earlier_then_replaced": (
        _ALTERED,
        "create or replace function public.g() returns int language sql as 'select 2';",
    ),
    # rules' switches, persistence, inheritance
    "rule_switch_back": (
        _RULE + "alter table public.t disable rule r;",
        "alter table public.t enable rule r;",
    ),
    "rule_always_back": (
        _RULE + "alter table public.t enable always rule r;",
        "alter table public.t disable rule r;",
    ),
    "rule_replaced_keeps_switch": (
        _RULE + "alter table public.t disable rule r;",
        "create or replace rule r as on insert to public.t do also notify t2;",
    ),
    "rule_dropped_keeps_switch": (
        _RULE + "alter table public.t enable replica rule r;",
        "drop rule r on public.t;",
    ),
    "set_unlogged_back": ("", "alter table public.t set unlogged;"),
    "set_logged_back": (
        "create unlogged table public.u (id int generated always as identity, b int);",
        "alter table public.u set logged;",
    ),
    "inherit_back": (
        "create table public.par (id int, b int constraint bpos check (b > 0));"
        "create table public.kid (id int, b int constraint bpos check (b > 0), c int);",
        "alter table public.kid inherit public.par;",
    ),
    # comments go with their table: renamed, dropped and made anew
    "comments_follow_the_table": (
        "create table public.a (id int, c int constraint c_pos check (c > 0));"
        "comment on table public.a is 'first a'; comment on column public.a.c is 'the c';"
        "alter table public.a rename column c to d; alter table public.a rename to b;"
        "create table public.a (id int, c int);"
        "create table public.x (id int); comment on table public.x is 'old x';"
        "drop table public.x; create table public.x (id int);",
        "comment on table public.a is 'new a'; comment on table public.b is 'renamed';"
        "comment on column public.b.d is 'the d'; comment on column public.a.c is 'new c';"
        "comment on table public.x is 'new x';",
    ),
    # a table dropped from a publication comes back as it was added
    "publication_table_added_back_as_added": (
        "create table public.w (id int primary key, x int);"
        "create publication settings_pub for table public.w (id, x) where (x > 1), public.t;"
        "alter table public.w rename to w2;",
        "alter publication settings_pub drop table public.w2, public.t;",
    ),
    "dropped_trigger_keeps_switch": (
        "alter table public.t disable trigger a;",
        "drop trigger a on public.t;",
    ),
    "replaced_trigger_keeps_switch": (
        "alter table public.t enable always trigger a;",
        "create or replace trigger a before insert on public.t"
        " for each row execute function public.f();",
    ),
    "dropped_view_keeps_parameters": (
        "create view public.v as select id from public.t;"
        "alter view public.v set (security_invoker = on);",
        "drop view public.v;",
    ),
    "replaced_view_keeps_parameters": (
        "create view public.v with (security_barrier) as select id from public.t;"
        "alter view public.v set (security_invoker = on);"
        "alter view public.v reset (security_barrier);",
        "create or replace view public.v as select id, b from public.t;",
    ),
}

# Every public relation's replica identity and parameters, and every user trigger's switch.
CATALOG = """
select c.relname, c.relkind, c.relreplident, c.reloptions::text, pg_get_userbyid(c.relowner),
  c.relpersistence,
  (select array_agg(row(rulename, ev_enabled, pg_get_ruledef(r.oid))::text order by rulename)
   from pg_rewrite r where r.ev_class = c.oid),
  (select array_agg(i.inhparent::regclass::text) from pg_inherits i where i.inhrelid = c.oid),
  obj_description(c.oid, 'pg_class'),
  (select array_agg(row(attname, attislocal, attinhcount, col_description(c.oid, attnum))::text
     order by attname)
   from pg_attribute a where a.attrelid = c.oid and a.attnum > 0),
  (select array_agg(row(conname, conislocal, coninhcount, obj_description(k.oid))::text
     order by conname)
   from pg_constraint k where k.conrelid = c.oid),
  (select array_agg(row(tgname, tgenabled)::text order by tgname)
   from pg_trigger g where g.tgrelid = c.oid and not g.tgisinternal),
  (select array_agg(row(polname, polcmd, polroles::regrole[], pg_get_expr(polqual, polrelid),
     pg_get_expr(polwithcheck, polrelid))::text order by polname)
   from pg_policy p where p.polrelid = c.oid)
from pg_class c where c.relnamespace = 'public'::regnamespace
order by 1"""
# Who owns each routine, type and schema; each routine's definition; each publication's tables.
OWNERS = """
select 'f', p.oid::regprocedure::text, pg_get_userbyid(p.proowner)::text from pg_proc p
  where p.pronamespace = 'public'::regnamespace
union all select 't', t.typname, pg_get_userbyid(t.typowner) from pg_type t
  where t.typnamespace = 'public'::regnamespace
union all select 'n', n.nspname, pg_get_userbyid(n.nspowner) from pg_namespace n
union all select 'p', p.pubname::text, pr.prrelid::regclass::text || ' '
  || coalesce(pg_get_expr(pr.prqual, pr.prrelid), '') || ' ' || coalesce(pr.prattrs::text, '')
  from pg_publication_rel pr join pg_publication p on p.oid = pr.prpubid
union all select 'd', p.oid::regprocedure::text, pg_get_functiondef(p.oid) from pg_proc p
  where p.pronamespace = 'public'::regnamespace
order by 1, 2"""


@pytest.fixture(scope="module")
def settings_db(pg_server: object) -> Iterator[str]:
    name = pg_server.create_database("settings")  # type: ignore[attr-defined]
    try:
        yield pg_server.url_for(name)  # type: ignore[attr-defined]
    finally:
        pg_server.drop_database(name)  # type: ignore[attr-defined]


def _catalog(conn: psycopg.Connection[Any], *scripts: str) -> list[Any]:
    """The catalog after the scripts, all rolled back afterwards."""
    with conn.transaction(force_rollback=True):
        for script in scripts:
            if script:
                conn.execute(script.encode())
        return conn.execute(CATALOG).fetchall() + conn.execute(OWNERS).fetchall()


@pytest.mark.parametrize("row", list(ROWS))
def test_each_row_runs_forward_and_back(settings_db: str, row: str) -> None:
    earlier, forward = ROWS[row]
    history = build_history([parse_script(BASE + earlier, "earlier.sql")])
    plan = generate_rollback(parse_script(forward, "m.sql"), "m", history)
    assert not plan.manual_items, [i.reason for _, i in plan.manual_items]
    undo = ";\n".join(s.sql for s in plan.sql_steps if s.sql)
    with psycopg.connect(settings_db, autocommit=True) as conn:
        before = _catalog(conn, BASE, earlier)
        changed = _catalog(conn, BASE, earlier, forward)
        after = _catalog(conn, BASE, earlier, forward, undo)
    assert changed != before, "the forward changes nothing: the row proves nothing"
    assert after == before, undo
