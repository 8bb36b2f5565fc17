"""The generator's undo of GRANTs and REVOKEs, run on a real PostgreSQL: the ACL comes back
exactly (sql/privilege_states.py).

Found on real projects, rollbacks marked valid that did not restore privileges: a REVOKE an
earlier migration had already made was undone by granting EXECUTE to PUBLIC and anon again; a
GRANT already made was undone by revoking it; a table-level REVOKE took the column privileges
with it and they stayed lost; WITH GRANT OPTION of what the platform had given revoked the
privilege whole; a routine dropped and recreated came back with the default ACL.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from verify_support import explain, statuses, write_project

from migration_rollback.sql import build_history, generate_rollback, parse_script
from migration_rollback.verify import run_verification

pytestmark = pytest.mark.integration

BASE = """
create schema private;
create function public.f(a int) returns int language sql as 'select 1';
revoke execute on function public.f(int) from public, anon;
grant execute on function public.f(int) to authenticated, service_role;
create function private.g() returns int language sql as 'select 1';
create table public.t (a int, b int);
revoke select on public.t from anon, authenticated;
grant select (a) on public.t to authenticated;
create function public.old_name(a bigint) returns int language sql as 'select 1';
create function public.old_name(a bigint, b timestamptz) returns int language sql as 'select 1';
revoke execute on function public.old_name(bigint) from anon;
alter function public.old_name(bigint) rename to new_name;
alter function public.old_name(bigint, timestamptz) rename to new_name;
"""

SAID_AGAIN = """
create or replace function public.f(a int) returns int language sql as 'select 2';
revoke execute on function public.f(int) from public, anon;
grant execute on function public.f(int) to authenticated;
revoke execute on function private.g() from public, anon, authenticated;
revoke select on public.t from authenticated, anon;
grant select (a, b) on public.t to authenticated;
grant insert on public.t to authenticated with grant option;
revoke execute on function public.new_name(bigint) from anon;
revoke execute on function public.new_name(bigint, timestamptz) from anon;
"""

RECREATED = """
drop function public.f(int);
create function public.f(a int) returns int language sql as 'select 3';
"""


def test_the_undo_of_grants_and_revokes_restores_the_acl(tmp_path: Path, shadow_url: str) -> None:
    migrations = [("base", BASE), ("said_again", SAID_AGAIN), ("recreated", RECREATED)]
    scripts = [parse_script(text, f"{name}.sql") for name, text in migrations]
    rollbacks = [
        generate_rollback(script, name, build_history(scripts[:n])).render_body()
        for n, (script, (name, _text)) in enumerate(zip(scripts, migrations, strict=True))
    ]
    assert "MANUAL" not in "".join(rollbacks[1:]), rollbacks
    pairs = write_project(
        tmp_path, [(name, text, rollbacks[n]) for n, (name, text) in enumerate(migrations)]
    )
    run = run_verification(pairs, shadow_url)
    assert statuses(run.results)[1:] == ["verified", "verified"], explain(run.results) + "\n".join(
        rollbacks
    )


MOVED = """
create schema private;
create table public.healthcare_vitals (id uuid primary key);
create table public.reports (id int primary key);
"""
RENAMED = """
alter table if exists public.healthcare_vitals rename to user_group_metrics;
alter table public.reports set schema private;
"""
REGRANTED = """
grant select, insert, update, delete on table public.user_group_metrics to authenticated;
grant all privileges on table public.user_group_metrics to service_role;
grant select on table private.reports to anon;
"""


def test_a_renamed_or_moved_table_keeps_its_acl_as_made(tmp_path: Path, shadow_url: str) -> None:
    """tutur3u: a table renamed (or moved to another schema) is still the one an earlier
    migration made, with the ACL the platform's default privileges gave it where it was made;
    GRANTs of what it held were undone by REVOKEs that took that access away."""
    migrations = [("moved", MOVED), ("renamed", RENAMED), ("regranted", REGRANTED)]
    scripts = [parse_script(text, f"{name}.sql") for name, text in migrations]
    rollbacks = [
        generate_rollback(script, name, build_history(scripts[:n])).render_body()
        for n, (script, (name, _text)) in enumerate(zip(scripts, migrations, strict=True))
    ]
    assert "REVOKE" not in rollbacks[2], rollbacks[2]
    pairs = write_project(
        tmp_path, [(name, text, rollbacks[n]) for n, (name, text) in enumerate(migrations)]
    )
    run = run_verification(pairs, shadow_url)
    assert statuses(run.results)[2:] == ["verified"], explain(run.results)


ROLES = """
do $$ begin create role "Admin"; exception when duplicate_object then null; end $$;
do $$ begin create role admin; exception when duplicate_object then null; end $$;
create table public.acl (a int);
grant select on public.acl to "Admin";
grant select on public.acl to authenticated with grant option;
create table public.plain (a int);
revoke all on public.plain from anon;
grant select on public.plain to anon;
"""

EDGES = """
revoke select on public.acl from admin;
revoke select on public.acl from "Admin";
revoke grant option for select on public.plain from anon;
revoke grant option for select on public.acl from authenticated;
grant select on public.plain to anon with grant option;
grant select on public.acl to "Admin" granted by current_user;
revoke select on public.acl from "Admin";
"""


def test_quoted_roles_options_and_grantors_come_back(tmp_path: Path, shadow_url: str) -> None:
    """ "Admin" is not admin; REVOKE GRANT OPTION FOR gives back only an option that was held;
    GRANTED BY the current user is the owner's own entry.
    Each undone as the ACL was (privilege_states.py), proven on PostgreSQL."""
    migrations = [("roles", ROLES), ("edges", EDGES)]
    scripts = [parse_script(text, f"{name}.sql") for name, text in migrations]
    rollbacks = [
        generate_rollback(script, name, build_history(scripts[:n])).render_body()
        for n, (script, (name, _text)) in enumerate(zip(scripts, migrations, strict=True))
    ]
    assert "MANUAL" not in rollbacks[1], rollbacks[1]
    assert "TO admin" not in rollbacks[1], rollbacks[1]
    pairs = write_project(
        tmp_path, [(name, text, rollbacks[n]) for n, (name, text) in enumerate(migrations)]
    )
    run = run_verification(pairs, shadow_url)
    assert statuses(run.results)[1:] == ["verified"], explain(run.results) + rollbacks[1]
