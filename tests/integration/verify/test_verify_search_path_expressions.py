"""Names that PostgreSQL binds under the migration's `SET search_path`, written again by the
rollback, which runs under the default path; proven on a real PostgreSQL (`generate --verify`).

A column's default, generated expression and type name the routine, type or sequence the path
found when they were set (app41.f41, not a public one); a GRANT on a bare type names the type
the path found. Written bare, the rollback named what is not there: it failed."""

from __future__ import annotations

from pathlib import Path

import pytest
from verify_support import assert_verified, body_of, generate_replays

from migration_rollback.verify import GeneratedRollback

pytestmark = pytest.mark.integration

BASE = (
    "create schema app41;\n"
    "create type app41.mood41 as enum ('a', 'b');\n"
    "create function app41.f41() returns int language sql immutable as $$ select 2 $$;\n"
    "create sequence app41.s41;\n"
    "set search_path to app41, public;\n"
    "create table public.t41 (id int, m mood41 default 'a'::mood41,\n"
    "  g int generated always as (id + f41()) stored, n bigint default nextval('s41'),\n"
    "  k int default 1);\n"
)

MIGRATIONS: list[tuple[str, str]] = [
    (
        "history_expressions",
        "alter table public.t41 drop column g;\n"
        "alter table public.t41 alter column m type text;\n"
        "alter table public.t41 alter column n set default 0;\n",
    ),
    (
        "own_earlier_default",
        "set search_path to app41, public;\n"
        "alter table public.t41 alter column k set default f41();\n"
        "alter table public.t41 alter column k set default 5;\n",
    ),
    (
        "grant_on_a_type",
        "set search_path to app41, public;\ngrant usage on type mood41 to authenticated;\n",
    ),
]


@pytest.fixture(scope="module")
def generated(
    tmp_path_factory: pytest.TempPathFactory, pg_server: object
) -> dict[str, GeneratedRollback]:
    root: Path = tmp_path_factory.mktemp("search_path_expressions")
    return generate_replays(root, BASE, MIGRATIONS, str(pg_server.admin_url))  # type: ignore[attr-defined]


@pytest.mark.parametrize("case", [name for name, _ in MIGRATIONS])
def test_rollback_is_verified(generated: dict[str, GeneratedRollback], case: str) -> None:
    assert_verified(generated[case])


def test_the_names_are_the_ones_the_path_found(generated: dict[str, GeneratedRollback]) -> None:
    body = body_of(generated, "history_expressions")
    assert "app41.f41()" in body, body
    assert "app41.mood41" in body, body
    assert "nextval('app41.s41')" in body, body
    assert "app41.f41()" in body_of(generated, "own_earlier_default")
    assert "TYPE app41.mood41" in body_of(generated, "grant_on_a_type")
