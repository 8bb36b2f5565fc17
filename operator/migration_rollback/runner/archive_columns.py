"""A column a rollback drops is copied out first: the row's key and the value, into the archive.

Run before the DROP COLUMN inside the run's transaction, so a dry run or a failure leaves
nothing. Without a key whole rows are copied, so the values can still be matched by hand; the
result carries the SQL that puts the column back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from psycopg import sql

from migration_rollback.runner import prepared
from migration_rollback.runner.archive import (
    ArchiveOutcome,
    archive_schema_statements,
    free_archive_name,
    in_archive,
    next_free_name,
)
from migration_rollback.runner.archive_inert import TIES, Tie, untype_columns
from migration_rollback.runner.naming import ARCHIVE_SCHEMA, archived_column_name
from migration_rollback.runner.plan import PlannedStatement
from migration_rollback.runner.relations import (
    ALL_COLUMNS_BY_NAME,
    ROW_KEY_CANDIDATES_BY_NAME,
    key_of,
    regclass_text,
)
from migration_rollback.runner.result import ArchivedObject
from migration_rollback.runner.session import Connection
from migration_rollback.runner.trip import Fetched, Trip, trip

# A column of a table named as `to_regclass` resolves it: the table's oid and name, the
# column's number and type. No row: no such table or column (the statement itself errors, or
# is a no-op with IF EXISTS).
_DROPPED_COLUMN = """
SELECT c.oid, n.nspname, c.relname, a.attnum, format_type(a.atttypid, a.atttypmod)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid
WHERE c.oid = pg_catalog.to_regclass(%s)::oid
  AND a.attname = %s AND a.attnum > 0 AND NOT a.attisdropped
"""


# The copy's oid, and whether a column of it has a type that is not built in (which it must
# not keep: see `untype_columns`); no row: no copy.
_COPY_FACTS = sql.SQL(
    "SELECT made.oid, {typed} FROM (SELECT pg_catalog.to_regclass(%s)::oid AS oid) made "
    "WHERE made.oid IS NOT NULL"
).format(typed=TIES[Tie.FOREIGN_TYPE].format(sql.Identifier("made", "oid")))
_COPY_FACTS_READ = prepared.read(_COPY_FACTS, ("", "text"))
_DROPPED_COLUMN_READ = prepared.read(_DROPPED_COLUMN, ("", "text"), ("", "text"))
_ROW_KEY_CANDIDATES_READ = prepared.read(ROW_KEY_CANDIDATES_BY_NAME, ("", "text"))
_ALL_COLUMNS_READ = prepared.read(ALL_COLUMNS_BY_NAME, ("", "text"))


@dataclass
class _Source:
    """What a copy needs read of the table a column is dropped from (all in one round trip)."""

    column: Fetched  # `_DROPPED_COLUMN`
    candidates: Fetched  # its row key's candidates
    columns: Fetched  # all its columns
    taken: Fetched  # whether `wanted`, the copy's name, is taken in the archive
    wanted: str


def copy_columns(conn: Connection, planned: PlannedStatement, when: datetime) -> ArchiveOutcome:
    """Copy each column the statement drops (with the row's key) into the archive schema."""
    outcome = ArchiveOutcome()
    for table, column in planned.columns:
        # The name `to_regclass` finds is the one written: the copy's name is known before.
        wanted = archived_column_name(table[-1], column, planned.version, when)
        with trip(conn) as reads:  # the column, and what its copy needs read: one round trip
            prepared.prepare(reads)
            with prepared.generic_plans(reads):
                source = _read_source(reads, regclass_text(conn, table), column, wanted)
        found = source.column.fetchone()
        if found is None:
            continue
        oid, schema, name, attnum, type_sql = found
        where = (int(oid), (str(schema), str(name)), column)
        outcome.archived.append(_copy_column(conn, planned, when, where, (str(type_sql), source)))
        outcome.copied_columns.append((int(oid), int(attnum)))
    return outcome


def _read_source(reads: Trip, table: str, column: str, wanted: str) -> _Source:
    """In the caller's trip: the reads of `_Source`, the table named as `table`."""
    return _Source(
        prepared.execute(reads, _DROPPED_COLUMN_READ, [table, column]),
        prepared.execute(reads, _ROW_KEY_CANDIDATES_READ, [table]),
        prepared.execute(reads, _ALL_COLUMNS_READ, [table]),
        in_archive(reads, wanted),
        wanted,
    )


def _copy_column(
    conn: Connection,
    planned: PlannedStatement,
    when: datetime,
    where: tuple[int, tuple[str, str], str],
    read: tuple[str, _Source],
) -> ArchivedObject:
    _, (schema, table), column = where
    type_sql, source = read
    wanted = archived_column_name(table, column, planned.version, when)
    key = key_of(source.candidates.fetchall())
    copied: Sequence[str] = [*key, column] if column not in key else key
    if not key:  # whole rows, so values can still be matched
        copied = [str(row[0]) for row in source.columns.fetchall()]
    if wanted == source.wanted:
        name = next_free_name(conn, wanted, source.taken.fetchone() is not None)
    else:  # the table's name is not the one written (never seen): its own read
        name = free_archive_name(conn, wanted)
    comment = (
        f"column {schema}.{table}.{column} ({type_sql}), copied by migration-rollback "
        f"before DROP COLUMN (rollback of {planned.version}, {when.isoformat()}); "
        f"key: {', '.join(key) or 'none (whole rows)'}"
    )
    rows = _copy_out(conn, (schema, table), copied, (name, comment))
    return ArchivedObject(
        kind="column",
        source=f"{schema}.{table}.{column}",
        archive=f"{ARCHIVE_SCHEMA}.{name}",
        statement=planned.number,
        rows=rows,
        key_columns=list(key),
        restore_hint=_column_restore_hint(conn, schema, table, column, type_sql, name, key),
    )


def _copy_out(
    conn: Connection, source: tuple[str, str], copied: Sequence[str], copy: tuple[str, str]
) -> int | None:
    """The copy as a plain table of the archive, with its comment; how many rows it holds,
    when known."""
    name, comment = copy
    archived = sql.Identifier(ARCHIVE_SCHEMA, name)
    with trip(conn) as sent:  # the archive schema made, the copy and its facts: one round trip
        for statement in archive_schema_statements():
            sent.execute(statement)
        cur = sent.execute(
            sql.SQL("CREATE TABLE {} AS SELECT {} FROM {}").format(
                archived,
                sql.SQL(", ").join(sql.Identifier(c) for c in copied),
                sql.Identifier(*source),
            )
        )
        sent.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(archived, sql.Literal(comment)))
        with prepared.generic_plans(sent):
            facts = prepared.execute(
                sent, _COPY_FACTS_READ, [regclass_text(conn, (ARCHIVE_SCHEMA, name))]
            )
    rows = cur.rowcount if cur.rowcount >= 0 else None
    copied_table = facts.fetchone()
    if copied_table is not None and copied_table[1]:
        untype_columns(conn, [int(copied_table[0])])
    return rows


def _column_restore_hint(
    conn: Connection,
    schema: str,
    table: str,
    column: str,
    type_sql: str,
    archive: str,
    key: list[str],
) -> str:
    live = sql.Identifier(schema, table)
    col = sql.Identifier(column)
    add = sql.SQL("ALTER TABLE {} ADD COLUMN {} {};").format(live, col, sql.SQL(type_sql))
    if not key:
        # A comment for the reader: the archive's name is prose here, not SQL.
        return f"{add.as_string(conn)} -- no key: match rows of {ARCHIVE_SCHEMA}.{archive} by hand"
    match = sql.SQL(" AND ").join(
        sql.SQL("t.{} = a.{}").format(sql.Identifier(k), sql.Identifier(k)) for k in key
    )
    update = sql.SQL("{} UPDATE {} t SET {} = a.{} FROM {} a WHERE {};").format(
        add, live, col, col, sql.Identifier(ARCHIVE_SCHEMA, archive), match
    )
    return update.as_string(conn)
