"""Which migrations force a verification onto one shadow database (verify/shared_effects.py):
cluster-global objects in any file, sequence calls in a rollback."""

from __future__ import annotations

from pathlib import Path

import pytest

from migration_rollback.verify.shared_effects import first_shared_effect
from migration_rollback.verify.verdict import MigrationPair


def _project(tmp_path: Path, forward: str, rollback: str | None) -> list[MigrationPair]:
    plain = tmp_path / "001_plain.sql"
    plain.write_text("create table public.t (id bigint primary key);\n")
    path = tmp_path / "002_odd.sql"
    path.write_text(forward)
    back = None
    if rollback is not None:
        back = tmp_path / "002_odd.down.sql"
        back.write_text(rollback)
    return [MigrationPair("001_plain", plain), MigrationPair("002_odd", path, back)]


@pytest.mark.parametrize(
    ("forward", "what"),
    [
        ("create role app_user;", "a role"),
        ("alter role authenticated set statement_timeout = '5s';", "a role's settings"),
        ("grant anon to authenticator;", "a role membership"),
        ("drop role if exists old_user;", "a role"),
        ("create database other;", "a database"),
        ("alter database postgres set search_path = public;", "a database's settings"),
        ("alter system set work_mem = '8MB';", "the server's configuration"),
        ("comment on role anon is 'x';", "a role"),
        ("comment on database postgres is 'x';", "a database"),
        ("alter role anon rename to anon2;", "a role"),
        ("security label for dummy on role anon is 'x';", "a role"),
        # Privileges kept in shared catalogs (pg_database, pg_tablespace, pg_parameter_acl).
        ("grant connect on database postgres to anon;", "a database"),
        ("revoke all on tablespace pg_default from public;", "a tablespace"),
        ("grant set on parameter work_mem to anon;", "a server parameter's privileges"),
        ("create table public.a (id int);\nraise notice 'x';\ncreate role r;", "a role"),
        # In a DO block's code, run directly or by EXECUTE: read as text.
        ("do $$ begin if true then create role anon; end if; end $$;", "a role (in a DO block)"),
        ("do $$ begin execute 'create user ' || 'u'; end $$;", "a role (in a DO block)"),
        ("do $$ begin execute format('drop /**/ database %I', 'x'); end $$;", "a database"),
        ("do $$ begin alter system set work_mem = '8MB'; end $$;", "the server's configuration"),
    ],
)
def test_a_cluster_global_statement_in_a_forward_is_named(
    tmp_path: Path, forward: str, what: str
) -> None:
    reason = first_shared_effect(_project(tmp_path, forward, None))
    assert reason is not None
    assert reason.startswith(f"migration 002_odd touches {what}")
    assert reason.endswith("which all shadow databases share")


@pytest.mark.parametrize(
    ("rollback", "what"),
    [
        ("drop role app_user;", "touches a role in its rollback"),
        ("select setval('public.s', 1);", "leaves a sequence advanced or set"),
        ("select nextval('public.s');", "leaves a sequence advanced or set"),
        ("do $$ begin perform setval('public.s', 1); end $$;", "leaves a sequence advanced"),
    ],
)
def test_a_rollback_with_effects_outside_its_database_or_transaction_is_named(
    tmp_path: Path, rollback: str, what: str
) -> None:
    reason = first_shared_effect(_project(tmp_path, "select 1;", rollback))
    assert reason is not None
    assert what in reason
    assert "002_odd" in reason


@pytest.mark.parametrize(
    "sql",
    [
        "create index i on public.t (id);",
        "comment on table public.t is 'x';",
        "grant select on public.t to anon;",
        "alter table public.t owner to postgres;",
        "create sequence public.s;",
        "create index concurrently i on public.t (id);",
        "drop index concurrently public.i;",
        "vacuum public.t;",
        "do $$ begin create policy p on public.t using (true); end $$;",
    ],
)
def test_statements_of_one_database_split_freely(tmp_path: Path, sql: str) -> None:
    assert first_shared_effect(_project(tmp_path, sql, sql)) is None


def test_a_forward_sequence_call_splits_freely(tmp_path: Path) -> None:
    """Catch-up replays forwards as one database does: only rollbacks' are not repeated."""
    sql = "create index concurrently i on public.t (id);\nselect nextval('public.s');"
    assert first_shared_effect(_project(tmp_path, sql, None)) is None


def test_a_grant_on_a_table_stays_in_its_database(tmp_path: Path) -> None:
    assert (
        first_shared_effect(_project(tmp_path, "grant select on public.t to anon;", None)) is None
    )
