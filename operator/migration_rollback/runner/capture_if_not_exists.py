"""Whether an object created `IF NOT EXISTS` was already there, read just before the statement.

A rollback cannot tell whether `CREATE ... IF NOT EXISTS` of an object no earlier migration
made met one (made in the dashboard: keep it) or made it (remove it): its item stays MANUAL.
`apply` answers it here, inside the migration's transaction, resolving the name as the server
resolves the statement (an index in its table's schema, a table or sequence in the schema
written or else the first of the search_path, a column on its table as the search_path finds
it). Existed: nothing to undo, the restore runs nothing and says so. Absent: an index is
dropped by the restore (never CASCADE; an index holds no row). A table, sequence, schema,
extension or column the statement made holds data, or may: removing it is the data-loss
gate's call (execute archives what a rollback's own DROP removes, with --allow-data-loss), so
the capture stays MANUAL, with a reason that says it did not exist and which DROP to write in
place of the item. Existed also keeps, not run, a DROP the rollback wrote for the statement
where the engine took the object for new from history (restore.keeps); an existing column's
restore then sets its default and NOT NULL back as read here, which later statements of the
migration may change and that DROP would have undone with the column.
"""

from __future__ import annotations

from psycopg import sql

from migration_rollback.runner.capture_catalog import CaptureRecord
from migration_rollback.runner.capture_definition_read import After, keep, qualified_reads
from migration_rollback.runner.capture_plan import CaptureKind, CaptureSpec
from migration_rollback.runner.capture_table import lock_against_writers
from migration_rollback.runner.relations import relation_name, resolve_relation
from migration_rollback.runner.session import Connection

# Any relation of that name in the table's schema makes IF NOT EXISTS skip the statement.
_TAKEN = """
SELECT EXISTS (SELECT FROM pg_catalog.pg_class c JOIN pg_catalog.pg_class t
               ON t.relnamespace = c.relnamespace WHERE t.oid = %s AND c.relname = %s)
"""


def created_index(conn: Connection, spec: CaptureSpec, record: CaptureRecord) -> After | None:
    """Whether the index's name was taken; the table locked first (another session's CREATE
    INDEX waits, so the answer holds until the statement runs)."""
    oid = table_of(conn, spec, record)
    if oid is None:
        return None
    schema, record.table = record.schema, spec.name
    row = conn.execute(_TAKEN, [oid, spec.name]).fetchone()
    if row is not None and row[0]:
        keep(conn, record, [], None)
        record.detail = {**(record.detail or {}), "existed": True}
        return None
    keep(conn, record, None, sql.SQL("DROP INDEX {}").format(sql.Identifier(schema, spec.name)))
    return None


# What an IF NOT EXISTS of each kind checks (one row: whether it exists; none: the statement
# fails, as a missing schema or table makes it), and the DROP that would remove it.
_CHECKS: dict[CaptureKind, str] = {
    CaptureKind.CREATE_TABLE: """
SELECT n.nspname, EXISTS (SELECT FROM pg_catalog.pg_class c
                          WHERE c.relnamespace = n.oid AND c.relname = %(name)s)
FROM pg_catalog.pg_namespace n WHERE n.nspname = coalesce(%(schema)s, current_schema())""",
    CaptureKind.CREATE_SCHEMA: """
SELECT NULL, EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = %(name)s)""",
    CaptureKind.CREATE_EXTENSION: """
SELECT NULL, EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = %(name)s)""",
    CaptureKind.ADD_COLUMN: """
SELECT NULL, EXISTS (SELECT FROM pg_catalog.pg_attribute WHERE attrelid = %(table)s
                     AND attname = %(name)s AND attnum > 0 AND NOT attisdropped)""",
}
_CHECKS[CaptureKind.CREATE_SEQUENCE] = _CHECKS[CaptureKind.CREATE_TABLE]

_DROPS: dict[CaptureKind, str] = {
    CaptureKind.CREATE_TABLE: "DROP TABLE {}",
    CaptureKind.CREATE_SEQUENCE: "DROP SEQUENCE {}",
    CaptureKind.CREATE_SCHEMA: "DROP SCHEMA {}",
    CaptureKind.CREATE_EXTENSION: "DROP EXTENSION {}",
    CaptureKind.ADD_COLUMN: "ALTER TABLE {} DROP COLUMN {}",
}


def created_object(conn: Connection, spec: CaptureSpec, record: CaptureRecord) -> After | None:
    """Whether the table, sequence, schema, extension or column was there: existed, nothing to
    undo; absent, a MANUAL capture naming the DROP to write (data-loss gate: see above)."""
    table = table_of(conn, spec, record) if spec.kind is CaptureKind.ADD_COLUMN else None
    if spec.kind is CaptureKind.ADD_COLUMN and table is None:
        return None
    row = conn.execute(_CHECKS[spec.kind], _arguments(spec, table)).fetchone()
    if row is None:  # no such schema: the statement fails, its transaction keeps nothing
        keep(conn, record, None, None)
        return None
    drop = _drop_sql(conn, spec, record, row[0])
    if row[1]:
        kept = [] if table is None else _column_as_it_is(conn, table, record, spec.name or "")
        keep(conn, record, kept, None)
        record.detail = {**(record.detail or {}), "existed": True}
    else:
        record.status = "manual"
        record.reason = (
            "it did not exist before this migration (apply read it just before the statement): "
            f"the rollback must remove it, and what it holds with it; write {drop} in place of "
            "the MANUAL item (execute archives the data under --allow-data-loss)"
        )
    return None


# A column's default (printed with every name qualified) and NOT NULL; an identity or
# generated column's are its own kind's (DROP DEFAULT and DROP NOT NULL refuse them).
_COLUMN = """
SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid), a.attnotnull, a.attidentity <> ''
       OR a.attgenerated <> ''
FROM pg_catalog.pg_attribute a
LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = %s AND a.attname = %s
"""


def _column_as_it_is(
    conn: Connection, table: int, record: CaptureRecord, column: str
) -> list[sql.Composable]:
    """The statements that set an existing column's default and NOT NULL back as they are
    now: the rollback's DROP COLUMN is kept (restore.keeps), but the later statements of the
    migration that it would have undone with the column (SET DEFAULT, SET NOT NULL) stand."""
    row = qualified_reads(conn, lambda: conn.execute(_COLUMN, [table, column]).fetchone())
    if row is None or row[2]:
        return []
    alter = sql.SQL("ALTER TABLE {} ALTER COLUMN {} ").format(
        sql.Identifier(record.schema, record.table), sql.Identifier(column)
    )
    default = sql.SQL("DROP DEFAULT") if row[0] is None else sql.SQL("SET DEFAULT " + row[0])
    not_null = sql.SQL("SET NOT NULL" if row[1] else "DROP NOT NULL")
    return [alter + default, alter + not_null]


def table_of(conn: Connection, spec: CaptureSpec, record: CaptureRecord) -> int | None:
    """The table a kept object lives on (a trigger's, policy's, index's, an added column's),
    locked against writers (what is read of it holds until the statement runs); None (nothing
    kept) when there is none: the statement then fails, or `IF EXISTS` makes it a no-op."""
    oid = resolve_relation(conn, spec.table)
    if oid is None:
        record.table = ".".join(spec.table)
        keep(conn, record, None, None)
        return None
    record.schema, record.table = relation_name(conn, oid)
    lock_against_writers(conn, oid, spec.kind)
    return oid


def _arguments(spec: CaptureSpec, table: int | None) -> dict[str, object]:
    schema = spec.table[-2] if len(spec.table) > 1 else None
    return {"schema": schema, "name": spec.name or spec.table[-1], "table": table}


def _drop_sql(
    conn: Connection, spec: CaptureSpec, record: CaptureRecord, schema: str | None
) -> str:
    """The DROP that removes what the statement made (never CASCADE), as SQL text."""
    if spec.kind is CaptureKind.ADD_COLUMN:
        target: sql.Composable = sql.Identifier(record.schema, record.table)
        parts = [target, sql.Identifier(spec.name or "")]
    elif schema is not None:
        record.schema, record.table = schema, spec.table[-1]
        parts = [sql.Identifier(schema, spec.table[-1])]
    else:
        record.table = spec.table[-1]
        parts = [sql.Identifier(record.table)]
    return sql.SQL(_DROPS[spec.kind]).format(*parts).as_string(conn)
