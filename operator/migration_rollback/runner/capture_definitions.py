"""Keep a definition before a statement drops or replaces it: triggers, policies and indexes
here, routines in capture_routines.py, views in capture_views.py.

What to keep is decided from the parse tree (capture_definition_plan.py); this reads it from the
server inside the migration's transaction, just before the statement (the trigger's, policy's
or index's table locked first, as the statement locks it): the definition as PostgreSQL itself
prints it (pg_get_triggerdef, pg_get_indexdef, a policy rebuilt from pg_policy with
pg_get_expr), its comment, a trigger's enabled state, an index's replica identity and
clustering; or that the object was absent (the usual `DROP ... IF EXISTS`). The restore
statements are composed here with psycopg's `sql` module and kept in the catalog row's detail
(capture_definition_read.py); restore_definitions.py checks their kinds (kept_statements.py)
and runs them at the statement's place in the rollback.
"""

from __future__ import annotations

from collections.abc import Callable

from psycopg import sql

from migration_rollback.runner.capture_catalog import CaptureRecord
from migration_rollback.runner.capture_definition_read import (
    After,
    keep,
    qualified_reads,
    refused,
)
from migration_rollback.runner.capture_if_not_exists import (
    created_index,
    created_object,
    table_of,
)
from migration_rollback.runner.capture_plan import CaptureKind, CaptureSpec
from migration_rollback.runner.capture_routines import routine
from migration_rollback.runner.capture_table import lock_against_writers
from migration_rollback.runner.capture_views import view
from migration_rollback.runner.relations import regclass_text, relation_name
from migration_rollback.runner.session import Connection
from migration_rollback.sql import Statement

# pg_trigger.tgenabled other than 'O' (fires in origin sessions): how to say it again.
_ENABLED = {"D": "DISABLE", "R": "ENABLE REPLICA", "A": "ENABLE ALWAYS"}
# pg_policy.polcmd
_COMMANDS = {"r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE", "*": "ALL"}


# --- triggers ------------------------------------------------------------------------------

_TRIGGER = """
SELECT pg_get_triggerdef(t.oid), t.tgenabled::text, obj_description(t.oid, 'pg_trigger')
FROM pg_trigger t WHERE t.tgrelid = %s AND t.tgname = %s AND NOT t.tgisinternal
"""


def _trigger(conn: Connection, spec: CaptureSpec, record: CaptureRecord) -> After | None:
    oid = table_of(conn, spec, record)
    if oid is None:
        return None
    table, name = sql.Identifier(record.schema, record.table), sql.Identifier(spec.name)
    drop = sql.SQL("DROP TRIGGER IF EXISTS {} ON {}").format(name, table)
    row = qualified_reads(conn, lambda: conn.execute(_TRIGGER, [oid, spec.name]).fetchone())
    if row is None:
        keep(conn, record, None, drop if spec.kind is CaptureKind.REPLACE_TRIGGER else None)
        return None
    definition, enabled, comment = row
    made: list[sql.Composable] = [sql.SQL(str(definition))]
    if enabled in _ENABLED:
        made.append(
            sql.SQL("ALTER TABLE {} {} TRIGGER {}").format(table, sql.SQL(_ENABLED[enabled]), name)
        )
    if comment is not None:
        made.append(
            sql.SQL("COMMENT ON TRIGGER {} ON {} IS {}").format(name, table, sql.Literal(comment))
        )
    keep(conn, record, [drop, *made], None)
    return None


# --- policies ------------------------------------------------------------------------------

_POLICY = """
SELECT p.polpermissive, p.polcmd::text,
       ARRAY(SELECT CASE WHEN r = 0 THEN NULL ELSE pg_get_userbyid(r) END
             FROM unnest(p.polroles) AS r ORDER BY 1),
       pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid),
       obj_description(p.oid, 'pg_policy')
FROM pg_policy p WHERE p.polrelid = %s AND p.polname = %s
"""


def _policy(conn: Connection, spec: CaptureSpec, record: CaptureRecord) -> After | None:
    oid = table_of(conn, spec, record)
    if oid is None:
        return None
    table, name = sql.Identifier(record.schema, record.table), sql.Identifier(spec.name)
    row = qualified_reads(conn, lambda: conn.execute(_POLICY, [oid, spec.name]).fetchone())
    if row is None:
        keep(conn, record, None, None)
        return None
    permissive, command, roles, qual, check, comment = row
    made: list[sql.Composable] = [
        sql.SQL("CREATE POLICY {} ON {} AS {} FOR {} TO {}{}{}").format(
            name,
            table,
            sql.SQL("PERMISSIVE" if permissive else "RESTRICTIVE"),
            sql.SQL(_COMMANDS[command]),
            _roles(roles),
            _clause(" USING ({})", qual),
            _clause(" WITH CHECK ({})", check),
        )
    ]
    if comment is not None:
        said = sql.Literal(comment)
        made.append(sql.SQL("COMMENT ON POLICY {} ON {} IS {}").format(name, table, said))
    drop = sql.SQL("DROP POLICY IF EXISTS {} ON {}").format(name, table)
    keep(conn, record, [drop, *made], None)
    return None


def _clause(template: str, expression: str | None) -> sql.Composable:
    """USING / WITH CHECK, when the policy has it (the server printed the expression)."""
    if expression is None:
        return sql.SQL("")
    return sql.SQL(template).format(sql.SQL(expression))


def _roles(roles: list[str | None]) -> sql.Composable:
    """pg_policy.polroles: role oids, 0 for PUBLIC."""
    return sql.SQL(", ").join(sql.Identifier(r) if r else sql.SQL("PUBLIC") for r in roles)


# --- indexes -------------------------------------------------------------------------------

_INDEX = """
SELECT pg_get_indexdef(c.oid), obj_description(c.oid, 'pg_class'),
       i.indisreplident, i.indisclustered,
       ARRAY(SELECT ARRAY[a.attnum, a.attstattarget] FROM pg_attribute a
             WHERE a.attrelid = c.oid AND a.attstattarget >= 0 ORDER BY a.attnum),
       c.relkind = 'I',
       c.reltablespace <> 0, EXISTS (SELECT FROM pg_constraint k WHERE k.conindid = c.oid)
FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid WHERE c.oid = %s
"""
# Why an index is not kept, in the order of the flags _INDEX reads after its comment.
_INDEX_REASONS = (
    "an index of a partitioned table: its partitions' indexes are not kept",
    "an index in its own tablespace: pg_get_indexdef does not say it",
    "a constraint uses this index: it is not dropped alone",
)


def _index(conn: Connection, spec: CaptureSpec, record: CaptureRecord) -> After | None:
    """An index, once its table is locked as DROP INDEX locks it."""
    record.table = ".".join(spec.table)
    found = conn.execute(
        "SELECT indexrelid, indrelid FROM pg_index WHERE indexrelid = to_regclass(%s)",
        [regclass_text(conn, spec.table)],
    ).fetchone()
    if found is None:
        keep(conn, record, None, None)
        return None
    oid, table = int(found[0]), int(found[1])
    lock_against_writers(conn, table, spec.kind)
    record.schema, record.table = relation_name(conn, oid)
    definition, comment, identity, clustered, targets, *flags = qualified_reads(
        conn, lambda: conn.execute(_INDEX, [oid]).fetchone()
    )
    if refused(record, _INDEX_REASONS, flags):
        return None
    name = sql.Identifier(record.schema, record.table)
    made: list[sql.Composable] = [sql.SQL(str(definition))]
    if comment is not None:
        made.append(sql.SQL("COMMENT ON INDEX {} IS {}").format(name, sql.Literal(comment)))
    made += _index_roles(conn, table, record.table, identity=identity, clustered=clustered)
    made += [
        sql.SQL("ALTER INDEX {} ALTER COLUMN {} SET STATISTICS {}").format(
            name, sql.Literal(int(column)), sql.Literal(int(target))
        )
        for column, target in targets
    ]  # an expression column's statistics target (ALTER INDEX ... SET STATISTICS)
    keep(conn, record, [sql.SQL("DROP INDEX IF EXISTS {}").format(name), *made], None)
    return None


def _index_roles(
    conn: Connection, table: int, index: str, *, identity: bool, clustered: bool
) -> list[sql.Composable]:
    """What the table says of the index and pg_get_indexdef does not: its replica identity
    (logical replication's key: dropped, the table's UPDATEs and DELETEs stop replicating)
    and the index CLUSTER uses."""
    on = sql.Identifier(*relation_name(conn, table))
    said: list[sql.Composable] = []
    if identity:
        said.append(
            sql.SQL("ALTER TABLE {} REPLICA IDENTITY USING INDEX {}").format(
                on, sql.Identifier(index)
            )
        )
    if clustered:
        said.append(sql.SQL("ALTER TABLE {} CLUSTER ON {}").format(on, sql.Identifier(index)))
    return said


# --- shared --------------------------------------------------------------------------------


# How each kind reads what it keeps; the kinds are capture_plan.CaptureKind's definitions.
_READERS: dict[CaptureKind, Callable[[Connection, CaptureSpec, CaptureRecord], After | None]] = {
    CaptureKind.DROP_TRIGGER: _trigger,
    CaptureKind.REPLACE_TRIGGER: _trigger,
    CaptureKind.DROP_POLICY: _policy,
    CaptureKind.DROP_ROUTINE: routine,
    CaptureKind.REPLACE_ROUTINE: routine,
    CaptureKind.DROP_INDEX: _index,
    CaptureKind.DROP_VIEW: view,
    CaptureKind.CREATE_INDEX: created_index,
    **{kind: created_object for kind in CaptureKind if kind.only_existence},
}


def _describe(spec: CaptureSpec) -> str:
    if spec.kind.only_existence and not spec.name:  # named as written (a column: on its table)
        return ".".join(spec.table)
    if spec.name:
        return f"{spec.name} on {'.'.join(spec.table)}"
    return f"{'.'.join(spec.table)}({', '.join(spec.arguments or ())})"


def capture_definition(
    conn: Connection, statement: Statement, number: int, spec: CaptureSpec
) -> tuple[CaptureRecord, After | None]:
    """The definition `spec` names, as it is just before the statement (or its `manual`
    reason), and what to check once the statement has run."""
    record = CaptureRecord(
        statement=number, line=statement.location.line, kind=spec.kind, status="captured",
        detail={"object": _describe(spec)},
    )  # fmt: skip
    if spec.manual:
        record.table, record.status, record.reason = ".".join(spec.table), "manual", spec.manual
        return record, None
    return record, _READERS[spec.kind](conn, spec, record)
