"""Relations by name and by oid, and the key that identifies their rows, read from the catalog.

The archive, the capture and its cascade all name tables the way `to_regclass` resolves them
(the session's search_path) and match rows back by the same key; one place says how.
"""

from __future__ import annotations

from typing import Any

from psycopg import sql

from migration_rollback.runner.plan import QName
from migration_rollback.runner.session import Connection


def regclass_text(conn: Connection, name: QName) -> str:
    """A name as `to_regclass` reads it: quoted parts, resolved with the session's search_path."""
    return sql.Identifier(*name).as_string(conn)


def relation_exists(conn: Connection, name: sql.Identifier) -> bool:
    """Whether the name resolves to a relation now (`to_regclass` gives NULL, not an error)."""
    row = conn.execute("SELECT to_regclass(%s)", [name.as_string(conn)]).fetchone()
    return row is not None and row[0] is not None


RESOLVE = "SELECT to_regclass(%s)::oid"  # its parameter: `regclass_text`


def resolve_relation(conn: Connection, name: QName) -> int | None:
    return resolved(conn.execute(RESOLVE, [regclass_text(conn, name)]).fetchone())


def resolved(row: tuple[Any, ...] | None) -> int | None:
    """The oid in the answer of `RESOLVE` (None: no such relation)."""
    return int(row[0]) if row and row[0] is not None else None


def relation_name(conn: Connection, oid: int) -> tuple[str, str]:
    row = conn.execute(
        "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.oid = %s",
        [oid],
    ).fetchone()
    if row is None:
        raise LookupError(f"relation {oid} vanished")
    return str(row[0]), str(row[1])


def relation_ident(conn: Connection, oid: int) -> sql.Identifier:
    return sql.Identifier(*relation_name(conn, oid))


def name_if_exists(conn: Connection, oid: int) -> tuple[str, str] | None:
    try:
        return relation_name(conn, oid)
    except LookupError:
        return None


# Reads of one relation, `{relation}` its oid: a parameter, or its name resolved on the server
# (`BY_NAME`), so that the read can go in the round trip that finds the relation.
_BY_NAME = sql.SQL("pg_catalog.to_regclass({})::oid").format(sql.Placeholder())

# The unique indexes that could identify a table's rows, primary key first (see `key_of`).
_ROW_KEY_CANDIDATES = sql.SQL("""
SELECT i.indexrelid, i.indisprimary,
       array_agg(a.attname ORDER BY k.ord) AS cols,
       bool_and(a.attnotnull) AS not_null
FROM pg_index i
CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE i.indrelid = {relation} AND (i.indisprimary OR i.indisunique) AND i.indisvalid
  AND i.indpred IS NULL AND NOT (0 = ANY(i.indkey::int2[]))
GROUP BY i.indexrelid, i.indisprimary
ORDER BY i.indisprimary DESC, i.indexrelid
""")
ROW_KEY_CANDIDATES = _ROW_KEY_CANDIDATES.format(relation=sql.Placeholder())
ROW_KEY_CANDIDATES_BY_NAME = _ROW_KEY_CANDIDATES.format(relation=_BY_NAME)

_ALL_COLUMNS = sql.SQL(
    "SELECT attname FROM pg_attribute WHERE attrelid = {relation} AND attnum > 0 "
    "AND NOT attisdropped ORDER BY attnum"
)
ALL_COLUMNS = _ALL_COLUMNS.format(relation=sql.Placeholder())
ALL_COLUMNS_BY_NAME = _ALL_COLUMNS.format(relation=_BY_NAME)


def row_key(conn: Connection, oid: int) -> list[str]:
    """The columns that identify a row: the primary key, else a NOT NULL unique index."""
    return key_of(conn.execute(ROW_KEY_CANDIDATES, [oid]).fetchall())


def key_of(candidates: list[tuple[Any, ...]]) -> list[str]:
    """The row key among the rows of `ROW_KEY_CANDIDATES` ([]: none)."""
    for _index, primary, cols, not_null in candidates:
        if primary or not_null:
            return [str(c) for c in cols]
    return []


def all_columns(conn: Connection, oid: int) -> list[str]:
    return [str(r[0]) for r in conn.execute(ALL_COLUMNS, [oid]).fetchall()]
