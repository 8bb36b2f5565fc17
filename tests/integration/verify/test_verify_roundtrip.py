"""`validate --verify`: round trips of rollback files on a real PostgreSQL (the session server)."""

from __future__ import annotations

from pathlib import Path

import pytest
from verify_support import explain, statuses, write_project

from migration_rollback.verify import ObjectId, run_verification, verify_project

pytestmark = pytest.mark.integration

PROFILES = """
create table public.profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  username text not null unique,
  bio text,
  created_at timestamptz not null default now()
);
alter table public.profiles enable row level security;
create policy "profiles are public" on public.profiles for select using (true);
create policy "own profile" on public.profiles for update to authenticated
  using (auth.uid() = id) with check (auth.uid() = id);
grant select on public.profiles to anon;
comment on table public.profiles is 'one row per user';
"""
PROFILES_ROLLBACK = "drop table if exists public.profiles;\n"


def test_a_correct_project_is_verified(tmp_path: Path, shadow_url: str) -> None:
    pairs = write_project(
        tmp_path,
        [
            ("profiles", PROFILES, PROFILES_ROLLBACK),
            (
                "posts",
                """
                create extension if not exists "uuid-ossp" with schema extensions;
                create table public.posts (
                  id uuid primary key default uuid_generate_v4(),
                  author uuid not null references public.profiles (id),
                  body text check (length(body) < 500),
                  tags text[] not null default '{}'
                );
                create index posts_author_idx on public.posts (author);
                create function public.post_count(who uuid) returns bigint
                  language sql stable security definer set search_path = ''
                  as $$ select count(*) from public.posts where author = who $$;
                alter publication supabase_realtime add table public.posts;
                create policy "read own" on storage.objects for select to authenticated
                  using ((storage.foldername(name))[1] = auth.uid()::text);
                """,
                """
                drop policy if exists "read own" on storage.objects;
                alter publication supabase_realtime drop table public.posts;
                drop function if exists public.post_count(uuid);
                drop table if exists public.posts;
                """,
            ),
        ],
    )
    run = run_verification(pairs, shadow_url)
    assert statuses(run.results) == ["verified", "verified"], explain(run.results)
    assert run.capture
    assert run.scoped_checks == 2
    assert run.full_checks == 0
    assert run.drift == []


def test_a_wrong_rollback_is_a_mismatch_with_the_exact_difference(
    tmp_path: Path, shadow_url: str
) -> None:
    pairs = write_project(
        tmp_path,
        [
            ("profiles", PROFILES, PROFILES_ROLLBACK),
            (
                "widen",
                "alter table public.profiles alter column bio type varchar(500);\n"
                "alter table public.profiles add column age integer;\n",
                # Wrong on purpose: the bio comes back as varchar(200), the column stays.
                "alter table public.profiles alter column bio type varchar(200);\n",
            ),
        ],
    )
    results = verify_project(pairs, shadow_url)
    assert statuses(results) == ["verified", "mismatch"], explain(results)
    diffs = {(d.object, d.attribute): (d.before, d.after) for d in results[1].differences}
    assert diffs[(ObjectId("column", "public.profiles.bio"), "type")] == (
        "text",
        "character varying(200)",
    )
    assert diffs[(ObjectId("column", "public.profiles.age"), "exists")] == (False, True)
    assert len(diffs) == 2
    assert "1 left behind" in results[1].message
    assert "public.profiles.age" in results[1].report()


def test_missing_manual_failed_and_the_replay_goes_on(tmp_path: Path, shadow_url: str) -> None:
    pairs = write_project(
        tmp_path,
        [
            ("profiles", PROFILES, None),
            (
                "seed",
                "insert into public.app_settings values (1);\n",  # no such table
                "select 1;\n",
            ),
            ("later", "create table public.later (id int);\n", "drop table public.later;\n"),
        ],
    )
    results = verify_project(pairs, shadow_url)
    assert statuses(results) == ["manual", "forward_failed", "verified"], explain(results)
    assert results[0].message == "no rollback file"
    assert 'relation "public.app_settings" does not exist' in results[1].message
    assert results[1].location is not None
    assert results[1].location.endswith("seed.sql:1:13")  # line:column of the missing name
    assert results[1].cause is not None
    assert results[1].cause.kind == "migration_error"
    # The failed migration was rolled back; the next one replayed from the state before it.
    assert results[2].depends_on is None


def test_a_rollback_that_errors_is_rollback_failed(tmp_path: Path, shadow_url: str) -> None:
    pairs = write_project(
        tmp_path,
        [
            ("profiles", PROFILES, PROFILES_ROLLBACK),
            (
                "index",
                "create index profiles_bio_idx on public.profiles (bio);\n",
                "-- comment line\n\ndrop index public.no_such_index;\n",
            ),
            ("after", "create table public.after (id int);\n", "drop table public.after;\n"),
        ],
    )
    results = verify_project(pairs, shadow_url)
    assert statuses(results) == ["verified", "rollback_failed", "verified"], explain(results)
    assert "does not exist" in results[1].message
    assert results[1].location is not None
    assert results[1].location.endswith("_rollback.sql:3:1")


def test_manual_markers_keep_a_matching_rollback_manual(tmp_path: Path, shadow_url: str) -> None:
    pairs = write_project(
        tmp_path,
        [
            (
                "settings",
                "create table public.settings (key text primary key, value text);\n"
                "insert into public.settings values ('a', 'b');\n",
                "-- MANUAL: review data inserted into public.settings\n"
                "drop table public.settings;\n",
            ),
        ],
    )
    results = verify_project(pairs, shadow_url)
    assert statuses(results) == ["manual"], explain(results)
    assert results[0].differences == []
    assert results[0].manual
    assert "review data" in results[0].manual[0]
    assert results[0].data_loss  # DROP TABLE destroys data


def test_non_transactional_statements_run_outside_a_transaction(
    tmp_path: Path, shadow_url: str
) -> None:
    pairs = write_project(
        tmp_path,
        [
            ("profiles", PROFILES, PROFILES_ROLLBACK),
            (
                "concurrently",
                "create index concurrently profiles_bio_idx on public.profiles (bio);\n",
                "drop index concurrently if exists public.profiles_bio_idx;\n",
            ),
            (
                "wrong_concurrently",
                "create index concurrently profiles_created_idx on public.profiles (created_at);\n",
                "select 1;\n",
            ),
            ("then", "create table public.then_ (id int);\n", "drop table public.then_;\n"),
        ],
    )
    results = verify_project(pairs, shadow_url)
    assert statuses(results) == ["verified", "verified", "mismatch", "verified"], explain(results)
    assert any("copy of the shadow database" in n for n in results[1].notes)
    (diff,) = results[2].differences
    assert diff.object == ObjectId("index", "public.profiles_created_idx")
    assert diff.added


def test_a_dynamic_grant_falls_back_to_a_full_comparison(tmp_path: Path, shadow_url: str) -> None:
    pairs = write_project(
        tmp_path,
        [
            ("profiles", PROFILES, PROFILES_ROLLBACK),
            (
                "grant",
                "do $$ begin execute 'grant insert on public.profiles to dashboard_user'; "
                "end $$;\n",
                "select 1;\n",
            ),
        ],
    )
    run = run_verification(pairs, shadow_url)
    assert statuses(run.results) == ["verified", "mismatch"], explain(run.results)
    (diff,) = run.results[1].differences
    assert diff.object == ObjectId("table", "public.profiles")
    assert diff.attribute == "privileges"
    assert "dashboard_user=INSERT" in str(diff.after)
    assert "dashboard_user" not in str(diff.before)
    assert any("full snapshots" in n for n in run.results[1].notes)
    assert run.full_checks == 1


def test_full_comparisons_give_the_same_verdicts(tmp_path: Path, shadow_url: str) -> None:
    pairs = write_project(
        tmp_path,
        [
            ("profiles", PROFILES, PROFILES_ROLLBACK),
            (
                "tweaks",
                "alter table public.profiles add column age int;\n"
                "comment on column public.profiles.bio is 'about me';\n"
                "revoke select on public.profiles from anon;\n",
                "alter table public.profiles drop column age;\n"
                "grant select on public.profiles to anon;\n",
            ),
        ],
    )
    fast = run_verification(pairs, shadow_url)
    slow = run_verification(pairs, shadow_url, incremental=False)
    assert statuses(fast.results) == statuses(slow.results) == ["verified", "mismatch"]
    assert [d.to_json() for d in fast.results[1].differences] == [
        d.to_json() for d in slow.results[1].differences
    ]
    assert slow.scoped_checks == 0
    assert slow.full_checks == 2
    (diff,) = fast.results[1].differences
    assert (diff.attribute, diff.before, diff.after) == ("comment", None, "about me")


def test_a_session_setting_in_the_forward_does_not_leak_into_the_rollback(
    tmp_path: Path, shadow_url: str
) -> None:
    pairs = write_project(
        tmp_path,
        [
            (
                "dump_style",
                "BEGIN;\n"
                "SELECT pg_catalog.set_config('search_path', '', false);\n"
                "SET check_function_bodies = false;\n"
                "CREATE TABLE public.t (id integer);\n"
                "COMMIT;\n",
                # Unqualified: works only with the default search_path, as a new session has.
                "drop table t;\n",
            ),
        ],
    )
    results = verify_project(pairs, shadow_url)
    assert statuses(results) == ["verified"], explain(results)


def test_a_forward_that_does_not_parse_does_not_stop_the_replay(
    tmp_path: Path, shadow_url: str
) -> None:
    pairs = write_project(
        tmp_path,
        [
            ("broken", "create table public.t (id int;\n", "drop table public.t;\n"),
            ("after", "create table public.u (id int);\n", "drop table public.u;\n"),
        ],
    )
    results = verify_project(pairs, shadow_url)
    assert statuses(results) == ["forward_failed", "verified"], explain(results)
    assert results[0].location is not None
    assert results[0].location.endswith("broken.sql:1:30")
    assert results[0].to_json()["status"] == "forward_failed"


def test_without_a_shadow_url_a_throwaway_cluster_is_used(tmp_path: Path) -> None:
    pairs = write_project(tmp_path, [("profiles", PROFILES, PROFILES_ROLLBACK)])
    messages: list[str] = []
    run = run_verification(pairs, None, messages.append)
    assert statuses(run.results) == ["verified"], explain(run.results)
    assert run.shadow.startswith("temporary PostgreSQL ")  # "… 15 cluster (port …)"
    assert "cluster" in run.shadow
    assert any("verified" in m for m in messages)


def test_a_role_that_is_not_superuser_gets_full_comparisons(
    tmp_path: Path, shadow_url: str
) -> None:
    import psycopg
    from psycopg import sql

    from migration_rollback.verify.shadow import with_database

    role = f"mr_plain_{tmp_path.name[-8:].replace('-', '_')}".lower()
    with psycopg.connect(shadow_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN CREATEDB CREATEROLE").format(sql.Identifier(role))
        )
    try:
        plain_url = with_database(shadow_url.replace("postgres@", f"{role}@", 1), "postgres")
        pairs = write_project(
            tmp_path,
            [
                ("profiles", PROFILES, PROFILES_ROLLBACK),
                ("wrong", "alter table public.profiles add column x int;\n", "select 1;\n"),
            ],
        )
        run = run_verification(pairs, plain_url)
        assert statuses(run.results) == ["verified", "mismatch"], explain(run.results)
        assert not run.capture
        assert run.full_checks == 2
        assert run.scoped_checks == 0
    finally:
        with psycopg.connect(shadow_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def test_a_syntax_error_inside_a_pl_pgsql_body_is_the_migration_s(
    tmp_path: Path, shadow_url: str
) -> None:
    """pglast parses the DO statement, not its PL/pgSQL body: the server's 42601 there (an
    `IF` closed by `EXCEPTION` instead of `END IF`) is the migration's error on any major."""
    pairs = write_project(
        tmp_path,
        [
            (
                "broken_body",
                "do $$ begin\n  if true then\n    perform 1;\n"
                "  exception when others then null;\nend $$;\n",
                "select 1;\n",
            )
        ],
    )
    results = verify_project(pairs, shadow_url)
    assert statuses(results) == ["forward_failed"], explain(results)
    assert "syntax error" in results[0].message
    assert results[0].cause is not None
    assert results[0].cause.kind == "migration_error", results[0].cause
