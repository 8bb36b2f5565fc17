"""Routines, triggers and policies renamed (or moved), then dropped by the same migration, on a
real PostgreSQL: the static rules record the name the before-state knows them by, and the
state-aware writer recreates them under the new name (their own definitions rewritten), so
the rename back restores them.

A relation is named `schema.name`; these are not (a routine carries its arguments, a trigger
or policy its table), which the verifier once assumed of every kind.
"""

from __future__ import annotations

import pytest
from verify_support import assert_verified, body_of, generate_replays

from migration_rollback.sql import ObjectRef, build_history, generate_rollback, parse_script
from migration_rollback.verify import GeneratedRollback

pytestmark = pytest.mark.integration

BASE = r"""
create schema if not exists elsewhere;
create table public.notes (id int primary key, body text);
alter table public.notes enable row level security;
create function public.touch() returns trigger language plpgsql as
  $$ begin return new; end $$;
create function public.stamp() returns trigger language plpgsql security definer
  set search_path = public as $$ begin return new; end $$;
comment on function public.stamp() is 'stamps';
create function public.twice(n int) returns int language sql immutable as 'select n * 2';
create function public.twice(n text) returns text language sql immutable as 'select n || n';
create procedure public.tidy(days int) language sql as 'select 1';
create aggregate public.total_of(int) (sfunc = int4pl, stype = int, initcond = '0');
create trigger notes_touch before update on public.notes
  for each row execute function public.touch();
create trigger notes_touch_later after insert on public.notes
  for each row when (new.body is not null) execute function public.touch();
alter table public.notes disable trigger notes_touch_later;
create policy notes_read on public.notes for select to authenticated using (id > 0);
create policy notes_write on public.notes for insert with check (body <> '');
"""

MIGRATIONS = [
    (
        "functions",
        "alter function public.stamp() rename to stamp_old;\n"
        "create trigger notes_keep before delete on public.notes\n"
        "  for each row execute function public.stamp_old();\n"
        "drop function public.stamp_old() cascade;\n",
    ),
    (
        "overloaded_and_moved",
        "alter function public.twice(int) rename to twice_int;\n"
        "drop function public.twice_int(int);\n"
        "alter procedure public.tidy(int) set schema elsewhere;\n"
        "alter procedure elsewhere.tidy(int) rename to tidy_up;\n"
        "drop procedure elsewhere.tidy_up(int);\n",
    ),
    (
        "aggregate",
        "alter aggregate public.total_of(int) rename to sum_of;\n"
        "drop aggregate public.sum_of(int);\n",
    ),
    (
        "triggers",
        "alter trigger notes_touch on public.notes rename to notes_touch_v2;\n"
        "drop trigger notes_touch_v2 on public.notes;\n"
        "alter trigger notes_touch_later on public.notes rename to notes_later;\n"
        "alter trigger notes_later on public.notes rename to notes_latest;\n"
        "drop trigger notes_latest on public.notes;\n",
    ),
    (
        "policies",
        "alter policy notes_read on public.notes rename to notes_select;\n"
        "drop policy notes_select on public.notes;\n"
        "alter policy notes_write on public.notes rename to notes_insert;\n"
        "drop policy if exists notes_insert on public.notes;\n",
    ),
]


@pytest.fixture(scope="module")
def generated(
    tmp_path_factory: pytest.TempPathFactory, pg_server: object
) -> dict[str, GeneratedRollback]:
    root = tmp_path_factory.mktemp("renamed_members")
    return generate_replays(root, BASE, MIGRATIONS, str(pg_server.admin_url))  # type: ignore[attr-defined]


@pytest.mark.parametrize("case", [name for name, _ in MIGRATIONS])
def test_rollback_is_verified(generated: dict[str, GeneratedRollback], case: str) -> None:
    assert_verified(generated[case])


def test_recreated_under_the_new_name_then_renamed_back(
    generated: dict[str, GeneratedRollback],
) -> None:
    functions = body_of(generated, "functions")
    assert "CREATE OR REPLACE FUNCTION public.stamp_old()" in functions
    assert functions.index("public.stamp_old()") < functions.index("RENAME TO stamp")
    assert "COMMENT ON FUNCTION public.stamp_old() IS 'stamps'" in functions
    moved = body_of(generated, "overloaded_and_moved")
    assert "FUNCTION public.twice_int(n integer)" in moved
    assert "PROCEDURE elsewhere.tidy_up(IN days integer)" in moved
    assert "AGGREGATE public.sum_of(integer)" in body_of(generated, "aggregate")
    triggers = body_of(generated, "triggers")
    assert "CREATE TRIGGER notes_touch_v2 BEFORE UPDATE ON public.notes" in triggers
    assert "DISABLE TRIGGER notes_latest" in triggers
    policies = body_of(generated, "policies")
    assert "CREATE POLICY notes_select ON public.notes" in policies
    assert "CREATE POLICY notes_insert ON public.notes" in policies


def test_the_static_rules_record_the_old_name() -> None:
    history = build_history([parse_script(BASE, "base.sql")])
    was: list[ObjectRef | None] = []
    for _, forward in MIGRATIONS:
        plan = generate_rollback(parse_script(forward, "m.sql"), "m", history)
        was += [item.was for _, item in plan.manual_items]
    assert ObjectRef("function", "stamp", "public", args="") in was
    assert ObjectRef("function", "twice", "public", args="integer") in was
    assert ObjectRef("procedure", "tidy", "public", args="integer") in was
    assert ObjectRef("aggregate", "total_of", "public", args="integer") in was
    assert ObjectRef("trigger", "notes_touch_later", "public", table="notes") in was
    assert ObjectRef("policy", "notes_write", "public", table="notes") in was
