"""A routine's identity and attributes, run on a real PostgreSQL: a procedure named by its full
argument list (PostgreSQL 14+ accepts its OUT arguments too; `pg_proc.proargtypes` holds the IN
ones only) is the procedure the history knows; RESET ALL of a routine with no setting needs
no undo. Each row: the earlier migrations, the forward, then the generated undo (SQL only)
must give back every public routine's definition, owner and comment.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from migration_rollback.sql import build_history, generate_rollback, parse_script

pytestmark = pytest.mark.integration

BASE = r"""
do $$ begin create role routine_keys_owner; exception when duplicate_object then null; end $$;
create procedure public.pr(in x int, out y int) language plpgsql as $$ begin y := x; end $$;
alter procedure public.pr(int, int) owner to routine_keys_owner;
comment on procedure public.pr(int) is 'pr';
create function public.g() returns int language sql set work_mem = '1MB' as 'select 1';
"""

# (history after BASE, forward, whether the forward changes the catalog)
ROWS: dict[str, tuple[str, str, bool]] = {
    "procedure_dropped_by_full_list": ("", "drop procedure public.pr(x int, y int);", True),
    "procedure_altered_by_full_list": (
        "",
        "alter procedure public.pr(int, int) security definer;",
        True,
    ),
    "procedure_commented_by_full_list": (
        "",
        "comment on procedure public.pr(integer, integer) is 'other';",
        True,
    ),
    "reset_all_without_settings": (
        "alter function public.g() reset all;",
        "alter function public.g() reset all;",
        False,
    ),
    "reset_all_without_settings_and_more": (
        "alter function public.g() reset all;",
        "alter function public.g() reset all security definer;",
        True,
    ),
}

ROUTINES = """
select p.oid::regprocedure::text, pg_get_functiondef(p.oid), pg_get_userbyid(p.proowner)::text,
  obj_description(p.oid, 'pg_proc'), p.proconfig::text
from pg_proc p where p.pronamespace = 'public'::regnamespace order by 1"""


@pytest.fixture(scope="module")
def keys_db(pg_server: object) -> Iterator[str]:
    name = pg_server.create_database("keys")  # type: ignore[attr-defined]
    try:
        yield pg_server.url_for(name)  # type: ignore[attr-defined]
    finally:
        pg_server.drop_database(name)  # type: ignore[attr-defined]


def _routines(conn: psycopg.Connection[Any], *scripts: str) -> list[Any]:
    with conn.transaction(force_rollback=True):
        for script in scripts:
            if script:
                conn.execute(script.encode())
        return conn.execute(ROUTINES).fetchall()


@pytest.mark.parametrize("row", list(ROWS))
def test_each_row_runs_forward_and_back(keys_db: str, row: str) -> None:
    earlier, forward, changes = ROWS[row]
    history = build_history([parse_script(BASE + earlier, "earlier.sql")])
    plan = generate_rollback(parse_script(forward, "m.sql"), "m", history)
    assert not plan.manual_items, [i.reason for _, i in plan.manual_items]
    undo = ";\n".join(s.sql for s in plan.sql_steps if s.sql)
    with psycopg.connect(keys_db, autocommit=True) as conn:
        before = _routines(conn, BASE, earlier)
        changed = _routines(conn, BASE, earlier, forward)
        after = _routines(conn, BASE, earlier, forward, undo)
    assert (changed != before) is changes
    assert after == before, undo
