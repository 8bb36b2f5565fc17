"""Whether a table the runner keeps its records in is the table it writes, when it exists.

The audit log, the deferred steps and the history table are found by name. A relation of that
name that is a view, or a table of another shape (a column missing, or of another type), is not
the one the runner made: its INSERT then fails on a missing column, and the hint for a failed
first run ("needs CREATE") sent people after a privilege they already had. The catalog says what
is wrong before anything is written, and the message names it and what to do. Every cast and
operator is pg_catalog's: the session's search_path may hold a schema with a type of the same
name, first (see archive_sql).
"""

from __future__ import annotations

from collections.abc import Mapping

from migration_rollback.runner.errors import PreconditionError
from migration_rollback.runner.session import Connection

_TABLE_KINDS = ("r", "p")  # a table, a partitioned table
_KIND_NAMES = {
    "v": "a view",
    "m": "a materialized view",
    "f": "a foreign table",
    "S": "a sequence",
    "c": "a composite type",
    "i": "an index",
    "I": "a partitioned index",
    "t": "a TOAST table",
}
_SHAPE = """
SELECT c.relkind OPERATOR(pg_catalog.=) ANY (%s),
       c.relkind::pg_catalog.text,
       (SELECT pg_catalog.array_agg(ARRAY[a.attname::pg_catalog.text,
                                    pg_catalog.format_type(a.atttypid, NULL)])
        FROM pg_catalog.pg_attribute a
        WHERE a.attrelid OPERATOR(pg_catalog.=) c.oid
          AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped)
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
WHERE n.nspname OPERATOR(pg_catalog.=) %s AND c.relname OPERATOR(pg_catalog.=) %s
"""


def shape_problem(
    conn: Connection, schema: str, name: str, columns: Mapping[str, str | None]
) -> str | None:
    """What is wrong with `schema.name` as the table of these `columns` (name: type as
    `format_type` spells it, None for any type); None when it is one, or is not there."""
    row = conn.execute(_SHAPE, [list(_TABLE_KINDS), schema, name]).fetchone()
    if row is None:
        return None
    shown = f"{schema}.{name}"
    if not row[0]:
        kind = _KIND_NAMES.get(str(row[1]), f"a relation of kind {row[1]!r}")
        return f"{shown} exists but is {kind}, not a table"
    found = {str(col): str(type_) for col, type_ in row[2] or []}
    return _column_problem(shown, found, columns)


def _column_problem(
    shown: str, found: Mapping[str, str], columns: Mapping[str, str | None]
) -> str | None:
    missing = [col for col in columns if col not in found]
    if missing:
        return f"{shown} exists but lacks column {', '.join(missing)}"
    for col, wanted in columns.items():
        if wanted is not None and found[col] != wanted:
            return f"{shown} exists but its column {col} is {found[col]}, not {wanted}"
    return None


def require_own_table(
    conn: Connection, schema: str, name: str, columns: Mapping[str, str | None], what: str
) -> None:
    """Refuse a relation of the runner's own table's name that is not that table: what is
    wrong with it, and that renaming it out of the way lets the runner create its own."""
    problem = shape_problem(conn, schema, name, columns)
    if problem is not None:
        raise PreconditionError(
            f"cannot use {what}: {problem}; it is not the table migration-rollback creates: "
            f"rename it out of the way (ALTER ... {schema}.{name} RENAME TO ...) and run again, "
            "and the runner creates its own (with CREATE on the database, once)"
        )
