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
    ensure_archive_schema,
    free_archive_name,
)
from migration_rollback.runner.archive_inert import untype_columns
from migration_rollback.runner.naming import ARCHIVE_SCHEMA, archived_column_name
from migration_rollback.runner.plan import PlannedStatement
from migration_rollback.runner.relations import (
    all_columns,
    relation_name,
    resolve_relation,
    row_key,
)
from migration_rollback.runner.result import ArchivedObject
from migration_rollback.runner.session import Connection


def copy_columns(conn: Connection, planned: PlannedStatement, when: datetime) -> ArchiveOutcome:
    """Copy each column the statement drops (with the row's key) into the archive schema."""
    outcome = ArchiveOutcome()
    for table, column in planned.columns:
        oid = resolve_relation(conn, table)
        if oid is None:
            continue  # the statement itself errors (or is a no-op with IF EXISTS)
        attribute = conn.execute(
            "SELECT attnum, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = %s AND attname = %s AND attnum > 0 AND NOT attisdropped",
            [oid, column],
        ).fetchone()
        if attribute is None:
            continue
        ensure_archive_schema(conn)
        outcome.archived.append(_copy_column(conn, planned, when, oid, column, str(attribute[1])))
        outcome.copied_columns.append((oid, int(attribute[0])))
    return outcome


def _copy_column(
    conn: Connection,
    planned: PlannedStatement,
    when: datetime,
    oid: int,
    column: str,
    type_sql: str,
) -> ArchivedObject:
    schema, table = relation_name(conn, oid)
    key = row_key(conn, oid)
    copied: Sequence[str] = [*key, column] if column not in key else key
    if not key:
        copied = all_columns(conn, oid)  # no key: whole rows, so values can still be matched
    name = free_archive_name(conn, archived_column_name(table, column, planned.version, when))
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
    cur = conn.execute(
        sql.SQL("CREATE TABLE {} AS SELECT {} FROM {}").format(
            sql.Identifier(ARCHIVE_SCHEMA, name),
            sql.SQL(", ").join(sql.Identifier(c) for c in copied),
            sql.Identifier(*source),
        )
    )
    rows = cur.rowcount if cur.rowcount >= 0 else None
    copy_oid = resolve_relation(conn, (ARCHIVE_SCHEMA, name))
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
