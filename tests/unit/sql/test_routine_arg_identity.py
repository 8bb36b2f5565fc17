"""A routine is keyed by its argument types the way PostgreSQL identifies it: without type
modifiers or array bounds, one spelling per built-in type (`int4`, `_text`, `timestamptz` are
`integer`, `text[]`, `timestamp with time zone`). A DROP FUNCTION f(varchar) then finds the
earlier CREATE FUNCTION f(character varying(10)) and the rollback restores it from its text."""

from __future__ import annotations

import pglast
import pytest

from migration_rollback.sql import build_history, generate_rollback, parse_script
from migration_rollback.sql.names import arg_type_name

SAME = [
    ("varchar", "character varying(10)"),
    ("int4", "integer"),
    ("timestamptz", "timestamp with time zone"),
    ("timestamp(3) with time zone", "timestamptz"),
    ("text[]", "_text"),
    ("text[3]", "pg_catalog._text"),
    ("_int4", "integer[]"),
    ("numeric", "numeric(10, 2)"),
    ("bpchar", "char(3)"),
    ("bit varying(4)", "varbit"),
]
DIFFERENT = [("public._foo", "public.foo[]"), ("_foo", "foo[]"), ("other.int4", "integer")]


def _arg(spelled: str) -> str:
    stmt = pglast.parse_sql(f"drop function f({spelled})")[0].stmt
    return arg_type_name(stmt.objects[0].objargs[0])


@pytest.mark.parametrize(("one", "other"), SAME)
def test_spellings_of_one_type_are_one_key(one: str, other: str) -> None:
    assert _arg(one) == _arg(other)


@pytest.mark.parametrize(("one", "other"), DIFFERENT)
def test_user_types_are_not_taken_for_builtins(one: str, other: str) -> None:
    assert _arg(one) != _arg(other)


@pytest.mark.parametrize(
    ("created", "dropped"),
    [
        ("character varying(10)", "varchar"),
        ("_text", "text[]"),
        ("timestamptz", "timestamp with time zone"),
    ],
)
def test_a_drop_spelled_otherwise_is_restored_from_the_earlier_text(
    created: str, dropped: str
) -> None:
    earlier = f"create function public.f(a {created}) returns int language sql as $$ select 1 $$;"
    history = build_history([parse_script(earlier, "0.sql")])
    plan = generate_rollback(
        parse_script(f"drop function public.f({dropped});", "1.sql"), "1", history
    )
    assert not plan.manual_items
    assert [(s.sql or "").lower() for s in plan.sql_steps] == [earlier.rstrip(";")]
