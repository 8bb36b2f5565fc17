"""Whether an object created `IF NOT EXISTS` was already there, read just before the statement.

A rollback cannot tell whether `CREATE INDEX IF NOT EXISTS` of an index no earlier migration
made met one (made in the dashboard: keep it) or made it (drop it): its item stays MANUAL.
`apply` answers it here, inside the migration's transaction, resolving the name as the server
resolves the statement: the table as written (search_path), the index in that table's schema.
Existed: nothing to undo, the restore runs nothing and says so. Absent: the restore drops the
index the statement made (never CASCADE; dropping an index loses no row).
"""

from __future__ import annotations

from psycopg import sql

from migration_rollback.runner.capture_catalog import CaptureRecord
from migration_rollback.runner.capture_definition_read import After, keep
from migration_rollback.runner.capture_plan import CaptureSpec
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
    oid = resolve_relation(conn, spec.table)
    if oid is None:  # the statement fails: its transaction keeps nothing
        record.table = ".".join(spec.table)
        keep(conn, record, None, None)
        return None
    lock_against_writers(conn, oid, spec.kind)
    schema, _ = relation_name(conn, oid)
    record.schema, record.table = schema, spec.name
    row = conn.execute(_TAKEN, [oid, spec.name]).fetchone()
    if row is not None and row[0]:
        keep(conn, record, [], None)
        record.detail = {**(record.detail or {}), "existed": True}
        return None
    keep(conn, record, None, sql.SQL("DROP INDEX {}").format(sql.Identifier(schema, spec.name)))
    return None
