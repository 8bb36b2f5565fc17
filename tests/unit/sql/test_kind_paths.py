"""Object kinds on the owner, rename-then-drop, IF NOT EXISTS and cast paths: each kind is
answered as the registry says, not as a table."""

from __future__ import annotations

import pytest

from migration_rollback.sql import (
    ManualNeed,
    ObjectRef,
    RollbackPlan,
    build_history,
    generate_rollback,
    parse_script,
)
from migration_rollback.sql.casts import cast_back
from migration_rollback.sql.compose import Identifier


def _plan(forward: str, history: str | None = None) -> RollbackPlan:
    known = build_history([parse_script(history, "e.sql")]) if history is not None else None
    return generate_rollback(parse_script(forward, "m.sql"), "m", known)


def _notes(plan: RollbackPlan) -> list[str]:
    return [note for step in plan.steps for note in step.notes]


def test_an_index_owner_change_needs_no_undo() -> None:
    plan = _plan("alter index public.i owner to bob;", "create index i on public.t (a);")
    assert plan.manual_items == ()
    assert "index public.i has no owner of its own; nothing changed" in _notes(plan)


@pytest.mark.parametrize(
    ("forward", "was"),
    [
        (  # an index, and a foreign table: relations the rename table did not follow
            "alter index public.i rename to j; drop index public.j;",
            ObjectRef("index", "i", "public"),
        ),
        (
            "alter foreign table public.f rename to g; drop foreign table public.g;",
            ObjectRef("foreign table", "f", "public"),
        ),
        (  # ALTER TABLE renames an index too; the DROP names it as an index
            "alter table public.i rename to j; drop index public.j;",
            ObjectRef("index", "i", "public"),
        ),
        (  # moved, then renamed, then dropped: what it was before both
            "alter view public.v set schema x; alter view x.v rename to w; drop view x.w;",
            ObjectRef("view", "v", "public"),
        ),
        (
            "alter sequence public.q rename to r; drop sequence public.r;",
            ObjectRef("sequence", "q", "public"),
        ),
    ],
)
def test_a_relation_renamed_or_moved_then_dropped_keeps_its_name_before(
    forward: str, was: ObjectRef
) -> None:
    [(_, item)] = _plan(forward).manual_items
    assert item.was == was


@pytest.mark.parametrize(
    ("forward", "kind"),
    [
        ("create schema if not exists s;", "schema"),
        ("create extension if not exists hstore;", "extension"),
        ("create sequence if not exists public.q;", "sequence"),
        ("create index if not exists i on public.t (a);", "index"),
        ("create table if not exists public.t (a int);", "table"),
        ("create materialized view if not exists public.m as select 1;", "materialized view"),
        ("create server if not exists v foreign data wrapper w;", "server"),
        ("alter table public.t add column if not exists c int;", "column"),
    ],
)
def test_if_not_exists_with_earlier_migrations_unknown_says_keep_it(
    forward: str, kind: str
) -> None:
    """Made in the dashboard or by the platform, it would be dropped with its rows: a human
    (or generate --verify, from the state before) decides; a plain CREATE made it."""
    for history in (None, "create table public.other (a int);"):
        plan = _plan(forward, history)
        assert not plan.sql_steps
        ((_, item),) = plan.manual_items
        assert item.need is ManualNeed.PRIOR_DEFINITION
        assert "may have existed before this migration" in item.reason
        assert "if it did not exist, run: " in item.reason
        assert item.target is not None
        assert item.target.kind == kind
    plain = _plan(forward.replace(" if not exists", ""), "create table public.t (a int);")
    assert plain.manual_items == ()


def test_names_made_here_are_told_apart_by_namespace_not_by_name_alone() -> None:
    made = "create table public.t (a int); create function public.f(int) returns int "
    made += "language sql as 'select 1'; create view public.v as select 1;"
    plan = _plan(
        made + "alter table public.v owner to bob; comment on function public.f is 'x';"
        " alter function public.t() owner to bob;",
    )
    # the view is new whatever the ALTER calls it; f is new without its arguments; a
    # function named as the table is not
    assert [str(item.need) for _, item in plan.manual_items] == ["PRIOR_OWNER"]


def test_cast_back_composes_the_column_as_an_identifier() -> None:
    column = Identifier("Order Total")
    assert cast_back(column, "integer", "bigint").as_string() == '"Order Total"::bigint'
    assert cast_back(column, "smallint", "boolean").as_string() == ('"Order Total"::text::boolean')
    assert cast_back(column, "uuid[]", "uuid[]").as_string() == '"Order Total"::uuid[]'
    assert cast_back(column, "text", "integer[]").as_string() == ('ARRAY["Order Total"::integer]')
