"""What a MANUAL item about a routine or an OR REPLACE leaves to a human (verify/covered.py):
the one overload an argument-less name was about, and the attributes the statement changes,
not the object's owner, privileges, comment or existence. Pure: plans from the generator,
differences written by hand."""

from __future__ import annotations

from tests.unit.verify.test_covered_differences import _generated_after

from migration_rollback.verify.covered import Cover, covers_of, split
from migration_rollback.verify.diff import Difference
from migration_rollback.verify.snapshot import ObjectId

F_INT = ObjectId("function", "public.f(integer)")
F_TEXT = ObjectId("function", "public.f(text)")
VIEW = ObjectId("view", "public.v")


def _covers(forward: str, earlier: str | None = None) -> tuple[Cover, ...]:
    """The covers of the rollback file `generate` writes for `forward` after `earlier` (None:
    earlier migrations not known)."""
    text, plan = _generated_after(earlier, forward)
    covers = covers_of(plan, text, "r.sql")
    assert covers, text
    return covers


def _uncovered(covers: tuple[Cover, ...], *differences: Difference) -> list[Difference]:
    return split(list(differences), covers)[0]


def test_alter_function_set_leaves_the_settings_only() -> None:
    covers = _covers("alter function public.f(int) set search_path = '';\n")
    config = Difference(F_INT, "config", None, ('search_path=""',))
    body = Difference(F_INT, "body", "select 1", "select 2")
    owner = Difference(F_INT, "owner", "postgres", "bob")
    strict = Difference(F_INT, "strict", False, True)
    gone = Difference(F_INT, "exists", True, False)
    left = Difference(F_INT, "exists", False, True)
    other = Difference(F_TEXT, "config", None, ('search_path=""',))  # another overload's
    assert _uncovered(covers, other) == [other]
    assert _uncovered(covers, config, body, owner, strict, gone, left) == [
        body, owner, strict, gone, left
    ]  # fmt: skip


def test_alter_function_security_leaves_the_options_not_the_body() -> None:
    covers = _covers("alter function public.f(int) security definer;\n")
    definer = Difference(F_INT, "security definer", False, True)
    config = Difference(F_INT, "config", None, ("work_mem=1MB",))
    body = Difference(F_INT, "body", "select 1", "select 2")
    assert _uncovered(covers, definer, config, body) == [body]


def test_an_argumentless_alter_is_about_the_overload_earlier_migrations_made() -> None:
    # The history knows f(int) alone: `ALTER FUNCTION f` was about it, not about f(text).
    earlier = "create function public.f(a int) returns int language sql as $$ select 1 $$;\n"
    covers = _covers("alter function public.f set search_path = '';\n", earlier)
    mine = Difference(F_INT, "config", None, ('search_path=""',))
    other = Difference(F_TEXT, "config", None, ('search_path=""',))
    assert _uncovered(covers, other) == [other]
    assert _uncovered(covers, mine) == []


def test_an_argumentless_item_covers_the_one_overload_that_differs_not_several() -> None:
    # Nothing tells which f an argument-less DROP took: PostgreSQL takes the name only when
    # one routine holds it, so when two overloads differ, one is another statement's doing.
    covers = _covers("drop function public.f;\n")
    missing = Difference(F_INT, "exists", True, False)
    left = Difference(F_TEXT, "exists", False, True)
    assert _uncovered(covers, missing) == []
    assert _uncovered(covers, missing, left) == [missing, left]
    covers = _covers("alter function public.f set search_path = '';\n")
    config = Difference(F_INT, "config", None, ('search_path=""',))
    other = Difference(F_TEXT, "config", None, ('search_path=""',))
    assert _uncovered(covers, config) == []
    assert _uncovered(covers, config, other) == [config, other]


def test_or_replace_view_leaves_its_definition_not_what_it_keeps() -> None:
    covers = _covers("create or replace view public.v as select 1 as a;\n")
    query = Difference(VIEW, "definition", " SELECT 2 AS a;", " SELECT 1 AS a;")
    left = Difference(VIEW, "exists", False, True)  # it may be new: the item's to drop
    owner = Difference(VIEW, "owner", "dashboard", "postgres")
    grants = Difference(VIEW, "privileges", ("anon=r",), ())
    comment = Difference(VIEW, "comment", "shown to users", None)
    gone = Difference(VIEW, "exists", True, False)
    assert _uncovered(covers, query, left, owner, grants, comment, gone) == [
        owner, grants, comment, gone
    ]  # fmt: skip


def test_or_replace_function_leaves_its_body_not_its_owner() -> None:
    forward = "create or replace function public.f(a int) returns int language sql as 'select 2';\n"
    covers = _covers(forward)
    body = Difference(F_INT, "body", "select 1", "select 2")
    owner = Difference(F_INT, "owner", "dashboard", "postgres")
    assert _uncovered(covers, body, owner) == [owner]
