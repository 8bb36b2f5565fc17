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


SQL_SYNTAX = [
    "now() AT TIME ZONE 'UTC'",
    "a AT LOCAL",
    "trim(BOTH FROM x)",
    "trim(LEADING 'x' FROM y)",
    "substring(a FROM 1 FOR 2)",
    "overlay(a PLACING b FROM 1)",
    "(1, 2) OVERLAPS (3, 4)",
    "COLLATION FOR (x)",
    "x IS NFC NORMALIZED",
]


@pytest.mark.parametrize("expression", SQL_SYNTAX)
def test_a_call_written_in_sql_syntax_prints_in_it(expression: str) -> None:
    # Printed as a plain call, a recreated CHECK or default is stored and shown as that call.
    node = pglast.parse_sql(f"select {expression}")[0].stmt
    assert deparse(node) == f"SELECT {expression}"


@pytest.mark.parametrize("call", ["pg_catalog.timezone('UTC', now())", "btrim(x)"])
def test_a_plain_call_stays_plain(call: str) -> None:
    node = pglast.parse_sql(f"select {call}")[0].stmt
    assert deparse(node) == f"SELECT {call}"
