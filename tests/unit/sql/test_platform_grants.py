"""The undo of a GRANT leaves what the Supabase platform had granted: a dump restating the
platform's grants (`GRANT USAGE ON SCHEMA public TO anon`, its default privileges) was undone by
REVOKEs that took the Data API's access away (4 of 32 real projects), and so was a GRANT on an
object an earlier migration made in public, which the platform's default privileges had
already given those roles. What earlier migrations revoked is granted by nobody: revoked again.
The platform's schemas (and PostgreSQL's public) are not dropped by the undo of a CREATE SCHEMA IF
NOT EXISTS either.
"""

from __future__ import annotations

import re

from migration_rollback.sql import parse_script
from migration_rollback.sql.checks import Severity, platform_findings
from migration_rollback.sql.generator import generate_rollback
from migration_rollback.sql.history import History
from migration_rollback.sql.platform_grants import platform_privileges


def _undo(*migrations: str, history: bool = True) -> list[str]:
    """The executable lines of the last migration's rollback, earlier ones known."""
    known = History() if history else None
    for n, text in enumerate(migrations[:-1]):
        assert known is not None
        known.begin_file()
        for st in parse_script(text, f"{n}.sql").statements:
            known.observe(st)
    body = generate_rollback(parse_script(migrations[-1], "last.sql"), "last", known).render_body()
    return [line for line in body.splitlines() if line and not line.startswith("--")]


def test_the_platform_grants_are_read_from_its_sql() -> None:
    found = platform_privileges()
    assert ("schema public", "anon", "usage") in found
    assert ("default tables of postgres in public", "authenticated", "select") in found
    assert ("default functions of postgres in public", "service_role", "execute") in found
    assert ("schema public", "anon", "create") not in found


def test_a_dump_restating_the_platform_grants_is_undone_by_nothing() -> None:
    dump = (
        'GRANT USAGE ON SCHEMA "public" TO "postgres";\n'
        'GRANT USAGE ON SCHEMA "public" TO "anon", "authenticated", "service_role";\n'
        'ALTER DEFAULT PRIVILEGES FOR ROLE "postgres" IN SCHEMA "public" '
        'GRANT ALL ON TABLES TO "anon";\n'
        'ALTER DEFAULT PRIVILEGES FOR ROLE "postgres" IN SCHEMA "public" '
        'GRANT ALL ON SEQUENCES TO "authenticated";\n'
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO service_role;\n"
    )
    assert _undo(dump) == []
    assert _undo(dump, history=False) == []  # earlier migrations not known: the platform is


def test_only_what_the_platform_did_not_grant_is_revoked() -> None:
    assert _undo("GRANT USAGE, CREATE ON SCHEMA public TO anon, app_user;") == [
        "REVOKE CREATE ON SCHEMA public FROM anon;",
        "REVOKE USAGE, CREATE ON SCHEMA public FROM app_user;",
    ]
    assert _undo("GRANT USAGE ON SCHEMA public, private TO anon;") == [
        "REVOKE USAGE ON SCHEMA private FROM anon;"
    ]
    undone = _undo(
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public, private GRANT ALL ON TABLES TO anon;"
    )
    assert undone == [
        "ALTER DEFAULT PRIVILEGES IN SCHEMA private REVOKE ALL PRIVILEGES ON TABLES FROM anon;"
    ]


def test_objects_earlier_migrations_made_in_public_had_the_default_privileges() -> None:
    made = "create table public.todos (id int); create function public.f() returns int "
    made += "language sql as $$ select 1 $$; create table private.secrets (id int);"
    assert _undo(made, "grant select, insert on public.todos to anon, authenticated;") == []
    assert _undo(made, "grant execute on function public.f() to authenticated;") == []
    # another schema: no default privileges of the platform there
    assert _undo(made, "grant select on private.secrets to anon;") == [
        "REVOKE SELECT ON TABLE private.secrets FROM anon;"
    ]
    # a table this migration makes: revoked, as before (the table is dropped after it anyway)
    assert _undo("create table public.n (id int); grant select on public.n to anon;") == [
        "REVOKE SELECT ON TABLE public.n FROM anon;",
        "DROP TABLE IF EXISTS public.n;",
    ]


def test_what_earlier_migrations_revoked_is_revoked_again() -> None:
    made = "create table public.todos (id int);"
    revoked = "revoke all on public.todos from anon;"
    assert _undo(made, revoked, "grant select on public.todos to anon;") == [
        "REVOKE SELECT ON TABLE public.todos FROM anon;"
    ]
    no_usage = "revoke usage on schema public from anon;"
    assert _undo(no_usage, "grant usage on schema public to anon;") == [
        "REVOKE USAGE ON SCHEMA public FROM anon;"
    ]
    regranted = "grant usage on schema public to anon;"
    assert _undo(no_usage, regranted, "grant usage on schema public to anon;") == []
    defaults = "alter default privileges in schema public revoke all on tables from anon;"
    assert _undo(defaults, "alter default privileges in schema public grant all on tables to anon;")
    assert _undo(defaults, made, "grant select on public.todos to anon;") == [
        "REVOKE SELECT ON TABLE public.todos FROM anon;"
    ]


def test_the_rollback_says_what_it_kept() -> None:
    forward = parse_script("GRANT USAGE ON SCHEMA public TO anon;", "m.sql")
    plan = generate_rollback(forward, "m", History())
    notes = " ".join(note for step in plan.steps for note in step.notes)
    assert re.search(
        r"held this before.*the platform gave it.*USAGE on schema public to anon", notes
    )


def test_the_platform_schemas_are_not_dropped() -> None:
    # a Supabase database has them before any migration: IF NOT EXISTS made nothing
    made = "create schema if not exists extensions; create schema if not exists public;"
    assert _undo(made) == []
    assert _undo(made, history=False) == []
    assert _undo("create schema mine;") == ["DROP SCHEMA IF EXISTS mine;"]


def test_validate_warns_of_a_rollback_revoking_the_platform_grants() -> None:
    rollback = parse_script(
        "REVOKE USAGE ON SCHEMA public FROM anon;\n"
        "REVOKE USAGE ON SCHEMA private FROM anon;\n"
        "ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public\n"
        "  REVOKE ALL ON TABLES FROM authenticated;\n"
        "REVOKE GRANT OPTION FOR USAGE ON SCHEMA public FROM anon;\n",  # the option only
        "r.sql",
    )
    found = platform_findings(rollback, "r.sql")
    assert [(f.code, f.severity, f.line) for f in found] == [
        ("PLATFORM_PRIVILEGE", Severity.WARNING, 1),
        ("PLATFORM_PRIVILEGE", Severity.WARNING, 3),
    ]
    assert "USAGE on schema public from anon" in found[0].message


def test_revokes_the_history_cannot_read_leave_no_platform_privilege_assumed() -> None:
    made = "create table public.games (id int); create function public.f(a int) returns int "
    made += "language sql as $$ select a $$;"
    hidden = (
        "do $$ declare t text; begin foreach t in array array['games'] loop "
        "execute format('revoke all on public.%I from anon', t); end loop; end $$;"
    )
    assert _undo(made, hidden, "grant select on public.games to anon;") == [
        "REVOKE SELECT ON TABLE public.games FROM anon;"
    ]
    static = "do $$ begin revoke all on public.games from anon; end $$;"
    assert _undo(made, static, "grant select on public.games to anon;") == [
        "REVOKE SELECT ON TABLE public.games FROM anon;"
    ]
    # a routine made outside the migrations is taken not to revoke (--verify compares it);
    # one whose call says REVOKE is not
    unseen = "select private.lock_everything_down();"
    assert _undo(made, unseen, "grant select on public.games to anon;") == []
    said = "select private.run_sql('revoke select on public.games from anon');"
    assert _undo(made, said, "grant select on public.games to anon;") == [
        "REVOKE SELECT ON TABLE public.games FROM anon;"
    ]
    # a routine revoked by its name alone is the one made earlier
    no_args = "revoke execute on function public.f from anon;"
    assert _undo(made, no_args, "grant execute on function public.f(int) to anon;") == [
        "REVOKE EXECUTE ON FUNCTION public.f (integer) FROM anon;"
    ]
    assert _undo(made, "grant execute on function public.f(int) to anon;") == []
