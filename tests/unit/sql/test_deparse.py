"""`names.deparse` prints what `pglast.stream.RawStream()` prints, for a node and for a tuple of
nodes (a name list, a list of grantees), though it sets the ancestors its own, cheaper way."""

from __future__ import annotations

from typing import Any

import pglast
import pytest
from pglast.stream import RawStream

from migration_rollback.sql.names import deparse

STATEMENTS = [
    "comment on table public.t is 'x'",
    "comment on column a.b.c is 'y'",
    "comment on function f(int, text) is 'z'",
    "comment on policy p on t is 'x'",
    "comment on constraint c on public.t is 'x'",
    "grant select, insert on public.t, s.u to anon, authenticated",
    "alter table t add column c int default 1 check (c > 0)",
]


def parts(sql: str) -> list[Any]:
    raw = pglast.parse_sql(sql)
    node = raw[0].stmt
    found = [raw, node]
    for attr in ("object", "objects", "grantees", "privileges"):
        value = getattr(node, attr, None)
        if value:
            found.append(value)
    return found


@pytest.mark.parametrize("sql", [*STATEMENTS, "select 1; select 2"])
def test_deparse_prints_what_pglast_prints(sql: str) -> None:
    for value in parts(sql):
        assert deparse(value) == RawStream()(value)


def test_an_empty_tuple_prints_nothing() -> None:
    assert deparse(()) == ""
