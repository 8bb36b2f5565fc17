"""A column a rollback drops is copied out first: the row's key and the value, into the archive.

Run before the DROP COLUMN inside the run's transaction, so a dry run or a failure leaves
nothing. Without a key whole rows are copied, so the values can still be matched by hand; the
result carries the SQL that puts the column back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from psycopg import sql

from migration_rollback.runner.archive import (
    ArchiveOutcome,
    archive_schema_statements,
    in_archive_query,
    next_free_name,
)
from migration_rollback.runner.archive_inert import untype_columns
from migration_rollback.runner.naming import ARCHIVE_SCHEMA, archived_column_name
from migration_rollback.runner.plan import PlannedStatement
from migration_rollback.runner.relations import (
    ALL_COLUMNS,
    RESOLVE,
    ROW_KEY_CANDIDATES,
    key_of,
    regclass_text,
    resolved,
)
from migration_rollback.runner.result import ArchivedObject
from migration_rollback.runner.session import Connection

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


def copy_columns(conn: Connection, planned: PlannedStatement, when: datetime) -> ArchiveOutcome:
    """Copy each column the statement drops (with the row's key) into the archive schema."""
    outcome = ArchiveOutcome()
    for table, column in planned.columns:
        found = conn.execute(_DROPPED_COLUMN, [regclass_text(conn, table), column]).fetchone()
        if found is None:
            continue
        oid, schema, name, attnum, type_sql = found
        source = (int(oid), (str(schema), str(name)), column)
        outcome.archived.append(_copy_column(conn, planned, when, source, str(type_sql)))
        outcome.copied_columns.append((int(oid), int(attnum)))
    return outcome


def _copy_column(
    conn: Connection,
    planned: PlannedStatement,
    when: datetime,
    source: tuple[int, tuple[str, str], str],
    type_sql: str,
) -> ArchivedObject:
    oid, (schema, table), column = source
    wanted = archived_column_name(table, column, planned.version, when)
    with conn.pipeline():  # the archive schema made, and what the copy needs read: one trip
        for statement in archive_schema_statements():
            conn.execute(statement)
        candidates = conn.execute(ROW_KEY_CANDIDATES, [oid])
        columns = conn.execute(ALL_COLUMNS, [oid])
        taken = conn.execute(*in_archive_query(wanted))
    key = key_of(candidates.fetchall())
    copied: Sequence[str] = [*key, column] if column not in key else key
    if not key:  # whole rows, so values can still be matched
        copied = [str(row[0]) for row in columns.fetchall()]
    name = next_free_name(conn, wanted, taken.fetchone() is not None)
    rows = _copy_out(conn, (schema, table), copied, name)
    conn.execute(
        sql.SQL("COMMENT ON TABLE {} IS {}").format(
            sql.Identifier(ARCHIVE_SCHEMA, name),
            sql.Literal(
                f"column {schema}.{table}.{column} ({type_sql}), copied by migration-rollback "
                f"before DROP COLUMN (rollback of {planned.version}, {when.isoformat()}); "
                f"key: {', '.join(key) or 'none (whole rows)'}"
            ),
        )
    )
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
    conn: Connection, source: tuple[str, str], copied: Sequence[str], name: str
) -> int | None:
    """The copy as a plain table of the archive; how many rows it holds, when known."""
    with conn.pipeline():  # the copy and its oid in one round trip
        cur = conn.execute(
            sql.SQL("CREATE TABLE {} AS SELECT {} FROM {}").format(
                sql.Identifier(ARCHIVE_SCHEMA, name),
                sql.SQL(", ").join(sql.Identifier(c) for c in copied),
                sql.Identifier(*source),
            )
        )
        copy = conn.execute(RESOLVE, [regclass_text(conn, (ARCHIVE_SCHEMA, name))])
    rows = cur.rowcount if cur.rowcount >= 0 else None
    copy_oid = resolved(copy.fetchone())
    if copy_oid is not None:
        untype_columns(conn, [copy_oid])
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
