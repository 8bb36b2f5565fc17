"""Going on past a failed forward migration: it is replayed again statement by statement, only
the failing statements skipped, so that later migrations find what the rest of it created; and
the stand-ins the real-world corpus needed (hypopg, pg_hashids, wrappers' validators). Real
PostgreSQL, synthetic migrations."""

from __future__ import annotations

from pathlib import Path

import pytest
from verify_support import explain, statuses, write_project

from migration_rollback.verify import run_verification

pytestmark = pytest.mark.integration

PARTIAL_PROJECT: list[tuple[str, str, str | None]] = [
    (
        "half_broken",
        "create table public.customers (id bigint primary key);\n"
        "alter table public.never_created add column note text;\n"  # fails: skipped
        "create table public.invoices (\n"
        "  id bigint primary key,\n"
        "  customer_id bigint references public.customers (id)\n"
        ");\n"
        "create table public.lines (x int references public.nowhere (id));\n",  # fails
        "drop table public.invoices;\ndrop table public.customers;\n",
    ),
    (
        "uses_what_it_created",
        "create index invoices_customer_idx on public.invoices (customer_id);\n"
        "alter table public.customers add column name text;\n",
        "alter table public.customers drop column name;\n"
        "drop index public.invoices_customer_idx;\n",
    ),
    (
        "uses_a_skipped_one",
        "create index lines_x_idx on public.lines (x);\n",
        "drop index public.lines_x_idx;\n",
    ),
]


def test_a_failed_migration_is_replayed_in_part_for_the_later_ones(
    tmp_path: Path, shadow_url: str
) -> None:
    run = run_verification(write_project(tmp_path, PARTIAL_PROJECT), shadow_url)
    results = run.results
    assert statuses(results) == ["forward_failed", "verified", "forward_failed"], explain(results)
    half = results[0]
    assert len(half.skipped_statements) == 2, half.skipped_statements
    assert "half_broken.sql:2:" in half.skipped_statements[0]
    assert "never_created" in half.skipped_statements[0]
    assert "half_broken.sql:7:" in half.skipped_statements[1]
    assert half.to_json()["skipped_statements"] == half.skipped_statements
    assert any("2 statement(s) applied, 2 skipped" in n for n in half.notes), half.notes
    later = results[1]
    assert any(f"after a partial replay of {half.migration}" in n for n in later.notes)
    dependent = results[2]
    assert dependent.cause is not None
    assert dependent.cause.kind == "depends_on"
    assert dependent.depends_on == half.migration
    assert run.drift == []  # the model follows what the partial replay committed


def test_a_migration_that_fails_as_a_whole_leaves_nothing(tmp_path: Path, shadow_url: str) -> None:
    # A deferred foreign key checked at the end: no single statement to skip.
    pairs = write_project(
        tmp_path,
        [
            ("parent", "create table public.p (id int primary key);\n", "drop table public.p;\n"),
            (
                "deferred",
                "create table public.c (p int references public.p (id)"
                " deferrable initially deferred);\n"
                "insert into public.c values (1);\n",
                "drop table public.c;\n",
            ),
            ("after", "create table public.c (id int);\n", "drop table public.c;\n"),
        ],
    )
    run = run_verification(pairs, shadow_url)
    assert statuses(run.results) == ["verified", "forward_failed", "verified"], explain(run.results)
    assert run.results[1].skipped_statements == []
    assert "at the end of the migration" in (run.results[1].message or ""), run.results[1]
    assert run.drift == []


def test_stand_ins_for_hypopg_pg_hashids_and_wrapper_servers(
    tmp_path: Path, shadow_url: str
) -> None:
    pairs = write_project(
        tmp_path,
        [
            (
                "advisors",
                "create extension if not exists hypopg with schema extensions;\n"
                "create extension if not exists pg_hashids with schema extensions;\n"
                "create extension if not exists plpgsql_check with schema extensions;\n"
                "create view public.checked as select * from extensions.plpgsql_check_function_tb"
                "('pg_catalog.now()'::regprocedure);\n"
                "create view public.hypo as select * from extensions.hypopg_list_indexes;\n"
                "create view public.codes as select extensions.id_encode(1::bigint, 'salt', 8),\n"
                "  extensions.id_decode_once('1', 'salt', 8);\n",
                "drop view public.checked;\n"
                "drop view public.codes;\ndrop view public.hypo;\n"
                "drop extension if exists plpgsql_check;\n"
                "drop extension if exists pg_hashids;\ndrop extension if exists hypopg;\n",
            ),
            (
                "stripe",
                "create extension if not exists wrappers with schema extensions;\n"
                "create foreign data wrapper stripe_wrapper handler extensions.stripe_fdw_handler"
                " validator extensions.stripe_fdw_validator;\n"
                "create server stripe_server foreign data wrapper stripe_wrapper"
                " options (api_key 'sk_test_x');\n",
                "drop server stripe_server;\ndrop foreign data wrapper stripe_wrapper;\n"
                "drop extension if exists wrappers;\n",
            ),
        ],
    )
    results = run_verification(pairs, shadow_url).results
    assert statuses(results) == ["verified", "verified"], explain(results)
    assert results[0].standins == ["hypopg", "pg_hashids", "plpgsql_check"]
    assert results[1].standins == ["wrappers"]


def test_a_plv8_stand_in_lets_functions_in_plv8_be_created(tmp_path: Path, shadow_url: str) -> None:
    pairs = write_project(
        tmp_path,
        [
            ("plv8", "create extension plv8;\n", "drop extension if exists plv8;\n"),
            (
                "js_function",
                "create function public.js_add(a int, b int) returns int language plv8 "
                "immutable as $$ return a + b; $$;\n",
                "drop function public.js_add(int, int);\n",
            ),
        ],
    )
    results = run_verification(pairs, shadow_url).results
    assert statuses(results) == ["verified", "verified"], explain(results)
    assert results[0].standins == ["plv8"]


def test_a_migration_that_does_not_parse_is_replayed_piece_by_piece(
    tmp_path: Path, shadow_url: str
) -> None:
    pairs = write_project(
        tmp_path,
        [
            (
                "not_postgres",
                "create table public.profiles (id uuid primary key);\n"
                'create policy if not exists "own" on public.profiles for select using (true);\n'
                "raise notice 'done';\n"
                "alter table public.profiles enable row level security;\n",
                "drop table public.profiles;\n",
            ),
            (
                "builds_on_it",
                "alter table public.profiles add column name text;\n",
                "alter table public.profiles drop column name;\n",
            ),
        ],
    )
    run = run_verification(pairs, shadow_url)
    assert statuses(run.results) == ["forward_failed", "verified"], explain(run.results)
    broken = run.results[0]
    assert broken.cause is not None
    assert broken.cause.detail.startswith("the migration does not parse")
    assert [s.split(": ", 1)[1] for s in broken.skipped_statements] == [
        'does not parse: syntax error at or near "not"',
        'does not parse: syntax error at or near "raise"',
    ]
    assert "not_postgres.sql:2:" in broken.skipped_statements[0]
    assert any("2 statement(s) applied, 2 skipped" in n for n in broken.notes), broken.notes
    assert run.drift == []


def test_pgsodium_stand_in_has_derive_key_and_the_ietf_functions(
    tmp_path: Path, shadow_url: str
) -> None:
    pairs = write_project(
        tmp_path,
        [
            (
                "keys",
                "create extension if not exists pgsodium;\n"
                "create function public.k() returns bytea language sql as $$\n"
                "  select pgsodium.crypto_aead_ietf_encrypt('m'::bytea, null::bytea,\n"
                "    pgsodium.crypto_aead_ietf_noncegen(),\n"
                "    pgsodium.derive_key(1, 32, 'c'::bytea))\n"
                "$$;\n",
                "drop function public.k();\n",
            )
        ],
    )
    results = run_verification(pairs, shadow_url).results
    assert statuses(results) == ["verified"], explain(results)
    assert "pgsodium" in results[0].standins
