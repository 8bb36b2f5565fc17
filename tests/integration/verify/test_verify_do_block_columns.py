"""What a DO block adds to a table the migration made, depending on a function made after the
table, proven on a real PostgreSQL.

A column a block adds (with a default, a generated expression or a CHECK calling the
function) and an index a block builds with EXECUTE under a name made at run time were taken to
go with the table: the rollback dropped the function first, at its place, and failed with
"cannot drop function ... because other objects depend on it". Each is now undone at the
block's place, before the function goes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from verify_support import generate_replays

from migration_rollback.verify import GeneratedRollback

pytestmark = pytest.mark.integration

BASE = "create table public.base42 (id int primary key);\n"
_FN = "create function public.{f}(v int) returns int language sql immutable as $$ select v $$;\n"


def _case(table: str, function: str, block: str) -> str:
    return (
        f"create table public.{table} (id int primary key);\n"
        + _FN.format(f=function)
        + f"do $$ {block} $$;\n"
    )


MIGRATIONS: list[tuple[str, str]] = [
    (
        "column_default",
        _case("t42a", "f42a", "begin alter table public.t42a add column c int "
              "default public.f42a(1); end"),
    ),
    (
        "column_check",
        _case("t42b", "f42b", "begin alter table public.t42b add column c int "
              "check (public.f42b(c) > 0); end"),
    ),
    (
        "generated_column",
        _case("t42c", "f42c", "begin alter table public.t42c add column c int "
              "generated always as (public.f42c(id)) stored; end"),
    ),
    (
        "index_named_at_run_time",
        _case("t42d", "f42d", "declare t text := 't42d'; begin execute format("
              "'create index %I on public.%I (public.f42d(id))', t || '_fx', t); end"),
    ),
]  # fmt: skip


@pytest.fixture(scope="module")
def generated(
    tmp_path_factory: pytest.TempPathFactory, pg_server: object
) -> dict[str, GeneratedRollback]:
    root: Path = tmp_path_factory.mktemp("do_block_columns")
    return generate_replays(root, BASE, MIGRATIONS, str(pg_server.admin_url))  # type: ignore[attr-defined]


@pytest.mark.parametrize("case", [name for name, _ in MIGRATIONS])
def test_what_a_block_adds_goes_before_the_function_it_calls(
    generated: dict[str, GeneratedRollback], case: str
) -> None:
    g = generated[case]
    body = g.sql_body or ""
    assert g.result.status == "verified", g.result.report() + "\n" + body
    letter = "abcd"[[name for name, _ in MIGRATIONS].index(case)]
    part = "DROP INDEX IF EXISTS public.t42d_fx" if letter == "d" else "DROP COLUMN IF EXISTS c"
    assert body.index(part) < body.index(f"DROP FUNCTION IF EXISTS public.f42{letter}")
