"""Whether an existing index is the one a `CREATE INDEX` statement means, as the server sees it.

pg_get_indexdef prints what PostgreSQL stored: casts it added (`WHERE status = 'x'` comes back
as `WHERE (status = 'x'::text)`), parentheses, the default operator class and collation left
out. Comparing the statement as written with that text refused indexes that were exactly the
one meant. So the server normalizes both sides: the statement is built, in a transaction that is
always rolled back, on an empty copy of its table (`LIKE`: the same columns, types and
collations; no rows, so nothing is scanned and the real table is only read-locked), and the
two pg_get_indexdef texts are compared with their index and table names set aside.
"""

from __future__ import annotations

import copy
from typing import Any

import psycopg
from pglast import ast, parse_sql
from psycopg import sql

from migration_rollback.runner.session import Connection
from migration_rollback.sql.names import deparse

_CLONE = "migration_rollback_index_probe"
_PROBE_INDEX = "migration_rollback_index_probe_idx"
_DEFINITION = "SELECT pg_get_indexdef(%s::regclass)"


def same_definition(
    conn: Connection, existing: str, intended: str, table: tuple[str, str]
) -> bool | None:
    """Whether `existing` (pg_get_indexdef) is what `intended` builds on `table`; None when
    the server cannot tell (no TEMP privilege, an error in the statement)."""
    try:
        built = _built(conn, intended, table)
    except psycopg.Error:
        return None
    return canonical(built) == canonical(existing)


def _built(conn: Connection, intended: str, table: tuple[str, str]) -> str:
    """pg_get_indexdef of `intended` built on an empty copy of `table`, then all undone."""
    with conn.transaction(force_rollback=True):
        conn.execute(
            sql.SQL("CREATE TEMP TABLE {} (LIKE {}) ON COMMIT DROP").format(
                sql.Identifier(_CLONE), sql.Identifier(*table)
            )
        )
        conn.execute(probe_statement(intended))
        row = conn.execute(_DEFINITION, [f"pg_temp.{_PROBE_INDEX}"]).fetchone()
    assert row is not None
    return str(row[0])


def probe_statement(intended: str) -> str:
    """`intended` as a plain CREATE INDEX of the probe index on the temporary copy."""
    node = copy.deepcopy(_index_stmt(intended))
    node.concurrent = False
    node.if_not_exists = False
    node.idxname = _PROBE_INDEX
    node.relation = ast.RangeVar(relname=_CLONE, inh=True, relpersistence="t")
    return deparse(node)


def canonical(definition: str) -> str:
    """A pg_get_indexdef text with its index and table names (and ONLY) set aside."""
    node = copy.deepcopy(_index_stmt(definition))
    node.idxname = "i"
    node.relation = ast.RangeVar(relname="t", inh=True, relpersistence="p")
    return deparse(node)


def _index_stmt(text: str) -> Any:
    node = parse_sql(text)[0].stmt
    assert isinstance(node, ast.IndexStmt), text
    return node
