"""An object recreated from an earlier migration's text after names it says changed, run on a
real PostgreSQL (renamed.py): the rule the engine follows is PostgreSQL's own.

PostgreSQL binds a view, policy, index, trigger, constraint or LANGUAGE sql body to what it
names when it is created and follows renames; the text does not. The rollback runs at the
place of the forward statement it undoes, so renames made before that statement still hold.
Rows of `AUTOMATIC` are undos the engine still writes: forward, then undo, must give the
catalog back. Rows of `BY_HAND` are MANUAL now: the engine says so and names the change, and
the earlier text run where the old engine ran it fails or leaves another catalog (the defect
is real, not caution).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from migration_rollback.sql import build_history, generate_rollback, parse_script

pytestmark = pytest.mark.integration

BASE = r"""
create table public.o (id int primary key, x int unique);
create table public.t (id int primary key, a int, c int);
create function public.tf() returns trigger language plpgsql as $$ begin return new; end $$;
create type public.st as enum ('on', 'off');
create table public.e (s public.st);
"""

_RENAME_A = "alter table public.t rename column a to b;"

# (history after BASE, forward): undone by the engine's SQL alone.
AUTOMATIC: dict[str, tuple[str, str]] = {
    # a PL/pgSQL body is stored as written and resolved when called: recreated as it was
    "plpgsql_body_after_rename_earlier": (
        "create function public.fp() returns int language plpgsql"
        " as 'begin return (select a from public.t limit 1); end';" + _RENAME_A,
        "drop function public.fp();",
    ),
    "plpgsql_body_after_rename_here": (
        "create function public.fp() returns int language plpgsql"
        " as 'begin return (select a from public.t limit 1); end';",
        _RENAME_A + "drop function public.fp();",
    ),
    # dropped before the rename: the rollback undoes the rename first, then recreates it
    "policy_dropped_before_rename_here": (
        "create policy p on public.t using (a > 0);",
        "drop policy p on public.t;" + _RENAME_A,
    ),
    "view_dropped_before_rename_here": (
        "create view public.v as select * from public.t;",
        "drop view public.v;" + _RENAME_A,
    ),
    # a table renamed or moved since is named as it is now, when it is all that changed
    "index_table_renamed_earlier": (
        "create index i on public.t (a); alter table public.t rename to t2;",
        "drop index public.i;",
    ),
    "view_table_renamed_earlier": (
        "create view public.v as select id, a from public.t where a > 0;"
        "alter table public.t rename to t2;",
        "drop view public.v;",
    ),
    "view_table_moved_earlier": (
        "create schema arch; create view public.v as select id from public.t;"
        "alter table public.t set schema arch;",
        "drop view public.v;",
    ),
    "replaced_view_table_renamed_earlier": (
        "create view public.v as select id, a from public.t;alter table public.t rename to t2;",
        "create or replace view public.v as select id, a, 1 as one from public.t2;",
    ),
    "index_table_set_aside_here": (
        "create table public.w (id int primary key, x int); create index wi on public.w (x);",
        "alter table public.w rename to w_bkp; drop index public.wi;"
        "create table public.w (id int primary key, x int);",
    ),
    # named as PostgreSQL named it, not after the table as it is now (t2_a_idx)
    "unnamed_index_table_renamed_earlier": (
        "create index on public.t (a); alter table public.t rename to t2;",
        "drop index public.t_a_idx;",
    ),
    "sequence_read_as_table_renamed_earlier": (
        "create sequence public.s; create view public.sv as select last_value from public.s;"
        "alter sequence public.s rename to s2;",
        "drop view public.sv;",
    ),
    "sequence_read_as_table_set_aside": (
        "create sequence public.s; create view public.sv as select last_value from public.s;",
        "alter sequence public.s rename to s2; create sequence public.s; drop view public.sv;",
    ),
    # names none of what was renamed
    "trigger_on_other_column": (
        "create trigger tw before update on public.t for each row when (new.c > 0)"
        " execute function public.tf();" + _RENAME_A,
        "drop trigger tw on public.t;",
    ),
}

# (history after BASE, forward, what the MANUAL item must name, the undo the engine wrote before)
BY_HAND: dict[str, tuple[str, str, str, str]] = {
    # a relation named otherwise than by a RangeVar: a regclass literal, its row type
    "view_regclass_literal_table_set_aside": (
        "create view public.v as select id from public.t where tableoid = 'public.t'::regclass;",
        "alter table public.t rename to t_old; create table public.t (id int primary key);"
        "drop view public.v;",
        "table t renamed to t_old",
        "CREATE VIEW public.v AS SELECT id FROM public.t_old WHERE tableoid ="
        " CAST('public.t' AS regclass); DROP TABLE IF EXISTS public.t;"
        "ALTER TABLE IF EXISTS public.t_old RENAME TO t",
    ),
    "view_row_type_table_moved": (
        "create schema archive;"
        "create view public.v as select x.id, x::public.t as r from public.t x;",
        "alter table public.t set schema archive; create table public.t (id int primary key,"
        " a int, c int); drop view public.v;",
        "table t moved to schema archive",
        "CREATE VIEW public.v AS SELECT x.id, CAST(x AS public.t) AS r FROM archive.t AS x;"
        "DROP TABLE IF EXISTS public.t; ALTER TABLE IF EXISTS archive.t SET SCHEMA public",
    ),
    # the new name said already: the rewritten table would take `t2.x` (bound t2_1 before)
    "view_subquery_outer_alias_new_name": (
        "create view public.w as select t2.id, (select count(*) from public.t where a = t2.x)"
        " as n from public.o t2; alter table public.t rename to t2;",
        "drop view public.w;",
        "table t renamed to t2",
        "CREATE VIEW public.w AS SELECT t2.id, (SELECT count(*) FROM public.t2 WHERE a = t2.x)"
        " AS n FROM public.o AS t2",
    ),
    "view_same_scope_alias_new_name": (
        "create view public.w as select a, t2.x from public.t, public.o t2 where t2.id = a;"
        "alter table public.t rename to t2;",
        "drop view public.w;",
        "table t renamed to t2",
        "CREATE VIEW public.w AS SELECT a, t2.x FROM public.t2, public.o AS t2 WHERE t2.id = a",
    ),
    "policy_using": (
        "create policy p on public.t using (a > 0);" + _RENAME_A,
        "drop policy p on public.t;",
        "column a of public.t renamed to b",
        "create policy p on public.t using (a > 0)",
    ),
    "policy_using_rename_here": (
        "create policy p on public.t using (a > 0);",
        _RENAME_A + "drop policy p on public.t;",
        "column a of public.t renamed to b",
        "create policy p on public.t using (a > 0); ALTER TABLE public.t RENAME COLUMN b TO a",
    ),
    "policy_binds_to_new_column": (
        "create policy p on public.t using (a > 0);"
        + _RENAME_A
        + "alter table public.t add column a int;",
        "drop policy p on public.t;",
        "column a of public.t renamed to b",
        "create policy p on public.t using (a > 0)",
    ),
    "view_column": (
        "create view public.v as select a from public.t;" + _RENAME_A,
        "drop view public.v;",
        "column a of public.t renamed to b",
        "create view public.v as select a from public.t",
    ),
    "view_star_column_renamed_here": (
        "create view public.v as select * from public.t;",
        _RENAME_A + "drop view public.v;",
        "column a of public.t renamed to b",
        "create view public.v as select * from public.t; ALTER TABLE public.t RENAME COLUMN b TO a",
    ),
    "view_star_column_added": (
        "create view public.v as select * from public.t;alter table public.t add column z int;",
        "drop view public.v;",
        "column z added to public.t",
        "create view public.v as select * from public.t",
    ),
    "index_where": (
        "create index j on public.t (c) where a > 0;" + _RENAME_A,
        "drop index public.j;",
        "column a of public.t renamed to b",
        "create index j on public.t (c) where a > 0",
    ),
    "trigger_update_of": (
        "create trigger tr before update of a on public.t for each row"
        " execute function public.tf();" + _RENAME_A,
        "drop trigger tr on public.t;",
        "column a of public.t renamed to b",
        "create trigger tr before update of a on public.t for each row"
        " execute function public.tf()",
    ),
    "check_constraint": (
        "alter table public.t add constraint ck check (a > 0);" + _RENAME_A,
        "alter table public.t drop constraint ck;",
        "column a of public.t renamed to b",
        "ALTER TABLE public.t ADD CONSTRAINT ck CHECK (a > 0)",
    ),
    "foreign_key_referenced_column": (
        "alter table public.t add constraint fk foreign key (c) references public.o (x);"
        "alter table public.o rename column x to y;",
        "alter table public.t drop constraint fk;",
        "column x of public.o renamed to y",
        "ALTER TABLE public.t ADD CONSTRAINT fk FOREIGN KEY (c) REFERENCES public.o (x)",
    ),
    "sql_function_body": (
        "create function public.fs() returns int language sql as 'select a from public.t';"
        + _RENAME_A,
        "drop function public.fs();",
        "column a of public.t renamed to b",
        "create function public.fs() returns int language sql as 'select a from public.t'",
    ),
    "view_names_old_table_in_column": (
        "create view public.vq as select t.id from public.t;alter table public.t rename to t2;",
        "drop view public.vq;",
        "table t renamed to t2",
        "create view public.vq as select t.id from public.t",
    ),
    "enum_value_literal": (
        "create policy ep on public.e using (s = 'on');"
        "alter type public.st rename value 'on' to 'up';",
        "drop policy ep on public.e;",
        "value 'on' renamed to 'up'",
        "create policy ep on public.e using (s = 'on')",
    ),
    "function_renamed": (
        "create function public.g() returns int language sql as 'select 1';"
        "create policy gp on public.e using (public.g() > 0);"
        "alter function public.g() rename to h;",
        "drop policy gp on public.e;",
        "function g renamed to h",
        "create policy gp on public.e using (public.g() > 0)",
    ),
    "replaced_view": (
        "create view public.v as select a from public.t;" + _RENAME_A,
        "create or replace view public.v as select b as a, c from public.t;",
        "column a of public.t renamed to b",
        "DROP VIEW IF EXISTS public.v; create view public.v as select a from public.t",
    ),
    "altered_policy": (
        "create policy p on public.t using (a > 0);" + _RENAME_A,
        "alter policy p on public.t using (b > 1);",
        "column a of public.t renamed to b",
        "DROP POLICY IF EXISTS p ON public.t; create policy p on public.t using (a > 0)",
    ),
    # a column recreated, or its default or type set back, from the text that made it
    "generated_column_expression": (
        "alter table public.t add column total int generated always as (a * 2) stored;" + _RENAME_A,
        "alter table public.t drop column total;",
        "column a of public.t renamed to b",
        "ALTER TABLE public.t ADD COLUMN IF NOT EXISTS total integer"
        " GENERATED ALWAYS AS (a * 2) STORED",
    ),
    "default_calls_renamed_function": (
        "create function public.next_code() returns int language sql as 'select 1';"
        "alter table public.t add column code int default public.next_code();"
        "alter function public.next_code() rename to next_code2;",
        "alter table public.t alter column code set default 0;",
        "function next_code renamed to next_code2",
        "ALTER TABLE public.t ALTER COLUMN code SET DEFAULT public.next_code()",
    ),
    "default_names_renamed_sequence": (
        "create sequence public.counter;"
        "alter table public.t add column n bigint default nextval('public.counter');"
        "alter sequence public.counter rename to counter2;",
        "alter table public.t alter column n drop default;",
        "sequence counter renamed to counter2",
        "ALTER TABLE public.t ALTER COLUMN n SET DEFAULT nextval('public.counter')",
    ),
    "type_in_renamed_schema": (
        "create schema ts; create type ts.mood as enum ('ok', 'bad');"
        "alter table public.t add column m ts.mood; alter schema ts rename to ts2;",
        "alter table public.t alter column m type text;",
        "schema ts renamed to ts2",
        "ALTER TABLE public.t ALTER COLUMN m TYPE ts.mood USING m::ts.mood",
    ),
    "publication_column_list_rename_here": (
        "create publication renamed_pub for table public.t (id, a);",
        _RENAME_A + "alter publication renamed_pub drop table public.t;",
        "column list",
        "ALTER PUBLICATION renamed_pub ADD TABLE public.t(id, a);"
        "ALTER TABLE public.t RENAME COLUMN b TO a",
    ),
}

# What a recreated object must match: every public relation's columns, view, index,
# constraint, trigger and policy definitions; each routine; each publication's tables.
CATALOG = """
select c.relname, c.relkind,
  (select array_agg(attname::text order by attnum) from pg_attribute a
   where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped),
  case when c.relkind = 'v' then pg_get_viewdef(c.oid) end,
  case when c.relkind = 'i' then pg_get_indexdef(c.oid) end,
  (select array_agg(pg_get_constraintdef(k.oid) order by conname)
   from pg_constraint k where k.conrelid = c.oid),
  (select array_agg(pg_get_triggerdef(g.oid) order by tgname)
   from pg_trigger g where g.tgrelid = c.oid and not g.tgisinternal),
  (select array_agg(row(polname, pg_get_expr(polqual, polrelid),
     pg_get_expr(polwithcheck, polrelid))::text order by polname)
   from pg_policy p where p.polrelid = c.oid)
from pg_class c where c.relnamespace = 'public'::regnamespace
union all select p.oid::regprocedure::text, 'f', null, pg_get_functiondef(p.oid), null, null,
  null, null from pg_proc p where p.pronamespace = 'public'::regnamespace
union all select p.pubname, 'p', null, pr.prrelid::regclass::text, pr.prattrs::text, null,
  null, null from pg_publication_rel pr join pg_publication p on p.oid = pr.prpubid
order by 1"""


@pytest.fixture(scope="module")
def renamed_db(pg_server: object) -> Iterator[str]:
    name = pg_server.create_database("renamed")  # type: ignore[attr-defined]
    try:
        yield pg_server.url_for(name)  # type: ignore[attr-defined]
    finally:
        pg_server.drop_database(name)  # type: ignore[attr-defined]


def _catalog(conn: psycopg.Connection[Any], *scripts: str) -> list[Any] | str:
    """The catalog after the scripts, all rolled back afterwards; a script's error instead."""
    try:
        with conn.transaction(force_rollback=True):
            for script in scripts:
                conn.execute(script.encode())
            return conn.execute(CATALOG).fetchall()
    except psycopg.Error as error:
        return f"failed: {error}"


def _plan(earlier: str, forward: str) -> Any:
    history = build_history([parse_script(BASE + earlier, "earlier.sql")])
    return generate_rollback(parse_script(forward, "m.sql"), "m", history)


@pytest.mark.parametrize("row", list(AUTOMATIC))
def test_automatic_row_runs_forward_and_back(renamed_db: str, row: str) -> None:
    earlier, forward = AUTOMATIC[row]
    plan = _plan(earlier, forward)
    assert not plan.manual_items, [i.reason for _, i in plan.manual_items]
    undo = ";\n".join(s.sql for s in plan.sql_steps if s.sql)
    with psycopg.connect(renamed_db, autocommit=True) as conn:
        before = _catalog(conn, BASE, earlier)
        changed = _catalog(conn, BASE, earlier, forward)
        after = _catalog(conn, BASE, earlier, forward, undo)
    assert isinstance(before, list)
    assert changed != before, "the row proves nothing"
    assert after == before, undo


@pytest.mark.parametrize("row", list(BY_HAND))
def test_by_hand_row_names_the_change(renamed_db: str, row: str) -> None:
    earlier, forward, change, old_undo = BY_HAND[row]
    plan = _plan(earlier, forward)
    reasons = [item.reason for _, item in plan.manual_items]
    assert len(reasons) == 1, reasons
    assert change in reasons[0], reasons
    with psycopg.connect(renamed_db, autocommit=True) as conn:
        before = _catalog(conn, BASE, earlier)
        changed = _catalog(conn, BASE, earlier, forward)
        old_way = _catalog(conn, BASE, earlier, forward, old_undo)
    assert isinstance(before, list)
    assert isinstance(changed, list), changed  # a failure below is the old undo's own
    assert old_way != before, "the old undo was right: the row proves nothing"
