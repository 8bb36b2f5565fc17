"""A routine called by a top-level statement of an earlier migration (SELECT, CALL, INSERT,
UPDATE, DELETE, DO) switched a trigger (history_unread.forget_called), run on a real
PostgreSQL: the engine used to take the trigger as still firing and undo the forward's ENABLE
with nothing; the trigger was in fact disabled before the forward, so nothing left it
enabled. Each row is MANUAL now, and the catalog after the forward alone (the old undo) is
not the catalog before it.
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
create table public.t (id int primary key);
create trigger a before update on public.t for each row execute function public.f();
"""
# A platform's helper, made outside the migrations: the engine never sees its body.
PLATFORM = r"""
create schema if not exists audit;
create or replace function audit.enable_tracking(r regclass) returns void language plpgsql
  as $$ begin execute format('alter table %s disable trigger a', r); end $$;
create or replace function audit.pause_all_triggers() returns void language plpgsql
  as $$ begin alter table public.t disable trigger a; end $$;
create or replace function audit.quiet() returns void language plpgsql
  as $$ begin alter table public.t disable trigger a; end $$;
"""

_ENABLE = "alter table public.t enable trigger a;"
ROWS: dict[str, tuple[str, str]] = {
    "platform_helper_names_the_table": (
        "select audit.enable_tracking('public.t'::regclass);",
        _ENABLE,
    ),
    "migration_routine_alters_the_table": (
        "create function public.off() returns void language plpgsql"
        " as $$ begin alter table public.t disable trigger a; end $$;"
        "select public.off();",
        _ENABLE,
    ),
    "procedure_called": (
        "create procedure public.off() language plpgsql"
        " as $$ begin alter table public.t disable trigger a; end $$;"
        "call public.off();",
        _ENABLE,
    ),
    "routine_calls_another": (
        "create function public.inner_off() returns void language plpgsql"
        " as $$ begin alter table public.t disable trigger a; end $$;"
        "create function public.outer_off() returns void language plpgsql"
        " as $$ begin perform public.inner_off(); end $$;"
        "select public.outer_off();",
        _ENABLE,
    ),
    # a platform routine naming no table may switch any table's triggers
    "platform_helper_names_no_table": ("select audit.pause_all_triggers();", _ENABLE),
    "platform_helper_in_do": ("do $$ begin perform audit.pause_all_triggers(); end $$;", _ENABLE),
    # a migration's routine whose body calls a platform helper, in SQL or PL/pgSQL
    "sql_body_calls_platform_helper": (
        "create function public.quiet() returns void language sql"
        " as $$ select audit.enable_tracking('public.t') $$; select public.quiet();",
        _ENABLE,
    ),
    "plpgsql_assignment_calls_platform_helper": (
        "create function public.quiet() returns void language plpgsql as $$ declare x text;"
        " begin x := audit.enable_tracking('public.t')::text; end $$; select public.quiet();",
        _ENABLE,
    ),
    # a platform routine sharing a bare name with a read-only one of the migrations
    "platform_routine_same_bare_name": (
        "create function public.quiet() returns int language sql as $$ select 1 $$;"
        "select audit.quiet();",
        _ENABLE,
    ),
    # called from top-level DML
    "routine_called_in_insert": (
        "create table public.cfg (k text primary key, v text);"
        "create function public.pause() returns text language plpgsql"
        " as $$ begin alter table public.t disable trigger a; return 'p'; end $$;"
        "insert into public.cfg values ('s', public.pause());",
        _ENABLE,
    ),
}

TRIGGERS = "select tgname, tgenabled from pg_trigger where not tgisinternal order by 1"


@pytest.fixture(scope="module")
def calls_db(pg_server: object) -> Iterator[str]:
    name = pg_server.create_database("calls")  # type: ignore[attr-defined]
    try:
        yield pg_server.url_for(name)  # type: ignore[attr-defined]
    finally:
        pg_server.drop_database(name)  # type: ignore[attr-defined]


def _triggers(conn: psycopg.Connection[Any], *scripts: str) -> list[Any]:
    with conn.transaction(force_rollback=True):
        for script in scripts:
            conn.execute(script.encode())
        return conn.execute(TRIGGERS).fetchall()


@pytest.mark.parametrize("row", list(ROWS))
def test_switch_after_a_routine_call_is_by_hand(calls_db: str, row: str) -> None:
    earlier, forward = ROWS[row]
    history = build_history([parse_script(BASE + earlier, "earlier.sql")])
    plan = generate_rollback(parse_script(forward, "m.sql"), "m", history)
    assert [s.sql for s in plan.sql_steps] == []
    assert len(plan.manual_items) == 1
    with psycopg.connect(calls_db, autocommit=True) as conn:
        before = _triggers(conn, PLATFORM, BASE, earlier)
        old_undo_left = _triggers(conn, PLATFORM, BASE, earlier, forward)
    assert before == [("a", "D")]  # the routine did disable it
    assert old_undo_left != before
