"""Objects a migration makes and drops again, with DROP … CASCADE statements between, proven on
a real PostgreSQL.

A later `DROP … IF EXISTS` of what the migration made is undone by that CREATE's text unless a
statement between may have taken it: a DROP of the same object (its own undo brings it back), or
a DROP … CASCADE that can reach it (an enum depends on nothing a DROP FUNCTION takes; a function
only on the types of its signature). And adjacent undos that recreate objects from their CREATEs
run in the CREATEs' order, as a run of CASCADE drops need not have dropped dependents first.
Seen in a real project's baseline (a type left out, then functions over it recreated: "type …
does not exist"); the other cases are members of the same family.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from verify_support import assert_verified, generate_replays

from migration_rollback.verify import GeneratedRollback

pytestmark = pytest.mark.integration

BASE = "create table public.base13 (id int primary key);\n"

MIGRATIONS: list[tuple[str, str]] = [
    (
        # the real project's shape: the type dropped after CASCADE drops of functions
        "enum_after_function_cascades",
        "create type public.tier13 as enum ('low', 'high');\n"
        "create function public.tier_ok(t public.tier13) returns boolean language sql\n"
        "  as $f$ select t = 'high' $f$;\n"
        "create function public.helper13() returns int language sql as $f$ select 1 $f$;\n"
        "drop function if exists public.tier_ok(public.tier13) cascade;\n"
        "drop function if exists public.helper13() cascade;\n"
        "drop type if exists public.tier13;\n",
    ),
    (
        # a domain depends on its base type only: a view's CASCADE cannot take it
        "domain_after_view_cascade",
        "create domain public.pos13 as int check (value > 0);\n"
        "create function public.pos_double(p public.pos13) returns int language sql\n"
        "  as $f$ select p * 2 $f$;\n"
        "create view public.v13 as select id from public.base13;\n"
        "drop view if exists public.v13 cascade;\n"
        "drop function if exists public.pos_double(public.pos13) cascade;\n"
        "drop domain if exists public.pos13;\n",
    ),
    (
        # SQL bodies record no dependency: dropped user first, recreated used first
        "sql_functions_recreated_in_creation_order",
        "create function public.one13() returns int language sql as $f$ select 1 $f$;\n"
        "create function public.two13() returns int language sql\n"
        "  as $f$ select public.one13() + 1 $f$;\n"
        "drop function if exists public.one13() cascade;\n"
        "drop function if exists public.two13() cascade;\n",
    ),
    (
        # dropped twice: the IF EXISTS one dropped nothing, the first one's undo recreates it
        "made_dropped_dropped_again",
        "create type public.twice13 as enum ('x');\n"
        "drop type public.twice13;\n"
        "drop type if exists public.twice13;\n",
    ),
]


@pytest.fixture(scope="module")
def generated(
    tmp_path_factory: pytest.TempPathFactory, pg_server: object
) -> dict[str, GeneratedRollback]:
    root: Path = tmp_path_factory.mktemp("cascade_between")
    return generate_replays(root, BASE, MIGRATIONS, str(pg_server.admin_url))  # type: ignore[attr-defined]


@pytest.mark.parametrize("case", [name for name, _ in MIGRATIONS])
def test_rollback_is_verified(generated: dict[str, GeneratedRollback], case: str) -> None:
    assert_verified(generated[case])


def test_recreations_follow_the_creates(generated: dict[str, GeneratedRollback]) -> None:
    body = generated["enum_after_function_cascades"].sql_body or ""
    assert body.index("create type public.tier13") < body.index("create function public.tier_ok")
    body = generated["sql_functions_recreated_in_creation_order"].sql_body or ""
    assert body.index("create function public.one13") < body.index("create function public.two13")
    body = generated["made_dropped_dropped_again"].sql_body or ""
    assert body.count("\ncreate type public.twice13") == 1
