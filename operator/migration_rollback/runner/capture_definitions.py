"""Keep a trigger's, policy's or routine's definition before a statement drops or replaces it.

What to keep is decided from the parse tree (capture_definition_plan.py); this reads it from the
server inside the migration's transaction, just before the statement: the definition as
PostgreSQL itself prints it (pg_get_triggerdef, pg_get_functiondef, a policy rebuilt from
pg_policy with pg_get_expr), its comment, a trigger's enabled state, a routine's owner and
privileges; or that the object was absent (the usual `DROP ... IF EXISTS`). The restore
statements are composed here, with psycopg's `sql` module, and kept in the catalog row's
detail; restore_definitions.py runs them at the statement's place in the rollback.

The server prints names qualified only when they are not on the search_path: the definitions
are read with pg_catalog alone on it, so every name in them is qualified and the restore means
the same objects whatever path the rollback runs with.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from psycopg import sql

from migration_rollback.runner.capture_catalog import CaptureRecord
from migration_rollback.runner.capture_plan import CaptureKind, CaptureSpec
from migration_rollback.runner.capture_table import lock_against_writers
from migration_rollback.runner.relations import regclass_text, relation_name, resolve_relation
from migration_rollback.runner.session import Connection
from migration_rollback.sql import Statement

After = Callable[[Connection], None]  # run once the statement has run

_READ_PATH = "SELECT pg_catalog.current_setting('search_path')"
_SET_PATH = "SELECT pg_catalog.set_config('search_path', %s, true)"

# pg_trigger.tgenabled other than 'O' (fires in origin sessions): how to say it again.
_ENABLED = {"D": "DISABLE", "R": "ENABLE REPLICA", "A": "ENABLE ALWAYS"}
# pg_policy.polcmd
_COMMANDS = {"r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE", "*": "ALL"}


def qualified_reads(conn: Connection, read: Callable[[], Any]) -> Any:
    """`read()` with pg_catalog alone on the search_path (local to the transaction, put back
    after): the server then qualifies every name it prints."""
    row = conn.execute(_READ_PATH).fetchone()
    conn.execute(_SET_PATH, ["pg_catalog"])
    found = read()
    conn.execute(_SET_PATH, [row[0] if row else ""])
    return found


# --- triggers ------------------------------------------------------------------------------

_TRIGGER = """
SELECT pg_get_triggerdef(t.oid), t.tgenabled::text, obj_description(t.oid, 'pg_trigger')
FROM pg_trigger t WHERE t.tgrelid = %s AND t.tgname = %s AND NOT t.tgisinternal
"""


def _trigger(conn: Connection, spec: CaptureSpec, record: CaptureRecord) -> After | None:
    oid = _table_of(conn, spec, record)
    if oid is None:
        return None
    table, name = sql.Identifier(record.schema, record.table), sql.Identifier(spec.name)
    drop = sql.SQL("DROP TRIGGER IF EXISTS {} ON {}").format(name, table)
    row = qualified_reads(conn, lambda: conn.execute(_TRIGGER, [oid, spec.name]).fetchone())
    if row is None:
        _keep(conn, record, None, drop if spec.kind is CaptureKind.REPLACE_TRIGGER else None)
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
    _keep(conn, record, [drop, *made], None)
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
    oid = _table_of(conn, spec, record)
    if oid is None:
        return None
    table, name = sql.Identifier(record.schema, record.table), sql.Identifier(spec.name)
    row = qualified_reads(conn, lambda: conn.execute(_POLICY, [oid, spec.name]).fetchone())
    if row is None:
        _keep(conn, record, None, None)
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
    _keep(conn, record, [drop, *made], None)
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
SELECT pg_get_indexdef(c.oid), obj_description(c.oid, 'pg_class'), c.relkind = 'I',
       c.reltablespace <> 0, EXISTS (SELECT FROM pg_constraint k WHERE k.conindid = c.oid)
FROM pg_class c WHERE c.oid = %s
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
        _keep(conn, record, None, None)
        return None
    oid, table = int(found[0]), int(found[1])
    lock_against_writers(conn, table, spec.kind)
    record.schema, record.table = relation_name(conn, oid)
    definition, comment, *flags = qualified_reads(
        conn, lambda: conn.execute(_INDEX, [oid]).fetchone()
    )
    reason = next((r for r, flag in zip(_INDEX_REASONS, flags, strict=True) if flag), None)
    if reason is not None:
        record.status, record.reason = "manual", reason
        return None
    name = sql.Identifier(record.schema, record.table)
    made: list[sql.Composable] = [sql.SQL(str(definition))]
    if comment is not None:
        made.append(sql.SQL("COMMENT ON INDEX {} IS {}").format(name, sql.Literal(comment)))
    _keep(conn, record, [sql.SQL("DROP INDEX IF EXISTS {}").format(name), *made], None)
    return None


# --- routines ------------------------------------------------------------------------------

_ROUTINE = """
SELECT p.oid::regprocedure::text, p.prokind::text, pg_get_userbyid(p.proowner),
       obj_description(p.oid, 'pg_proc'),
       CASE WHEN p.prokind <> 'a' THEN pg_get_functiondef(p.oid) END
FROM pg_proc p WHERE p.oid = %s
"""
# Every privilege, the defaults spelled out (a NULL proacl means them).
GRANTS = """
SELECT coalesce(pg_get_userbyid(NULLIF(a.grantee, 0)), ''), a.privilege_type, a.is_grantable
FROM pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
WHERE p.oid = %s ORDER BY 1, 2, 3
"""


def routine_oid(conn: Connection, spec: CaptureSpec) -> int | None:
    """The routine the statement names, resolved as the server resolves it (without its
    arguments the name must be unique, as DROP FUNCTION requires)."""
    name = regclass_text(conn, spec.table)
    if spec.arguments and not _types_exist(conn, spec.arguments):
        return None  # to_regprocedure raises on them; the statement skips or fails alone
    if spec.arguments is None:
        row = conn.execute("SELECT to_regproc(%s)::oid", [name]).fetchone()
    else:
        text = f"{name}({', '.join(spec.arguments)})"
        row = conn.execute("SELECT to_regprocedure(%s)::oid", [text]).fetchone()
    return int(row[0]) if row and row[0] is not None else None


def _types_exist(conn: Connection, types: tuple[str, ...]) -> bool:
    row = conn.execute(
        "SELECT bool_and(to_regtype(t) IS NOT NULL) FROM unnest(%s::text[]) AS t", [list(types)]
    ).fetchone()
    return bool(row and row[0])


def _routine(conn: Connection, spec: CaptureSpec, record: CaptureRecord) -> After | None:
    record.table = ".".join(spec.table)
    before = routine_oid(conn, spec)
    if before is not None:
        _keep_routine(conn, spec, record, before)
    elif spec.kind is CaptureKind.DROP_ROUTINE:
        _keep(conn, record, None, None)
    if spec.kind is not CaptureKind.REPLACE_ROUTINE:
        return None

    def after(conn: Connection) -> None:
        """CREATE OR REPLACE keeps the oid of the routine it replaces: another oid (or none
        before) means it made a new one, in the schema it creates in."""
        made = routine_oid(conn, spec)
        if made is not None and made != before:
            identity = qualified_reads(conn, lambda: _identity(conn, made))
            drop = sql.SQL("DROP ROUTINE IF EXISTS {}").format(sql.SQL(identity))
            _keep(conn, record, None, drop)

    return after


def _identity(conn: Connection, oid: int) -> str:
    row = conn.execute("SELECT %s::regprocedure::text", [oid]).fetchone()
    assert row is not None
    return str(row[0])


def _keep_routine(conn: Connection, spec: CaptureSpec, record: CaptureRecord, oid: int) -> None:
    row = qualified_reads(conn, lambda: conn.execute(_ROUTINE, [oid]).fetchone())
    assert row is not None  # resolved just now, in this transaction
    identity, _kind, owner, comment, definition = row
    record.schema, record.table = _routine_name(conn, oid)
    if definition is None:
        record.status, record.reason = "manual", "an aggregate: its definition is not kept"
        return
    made: list[sql.Composable] = [sql.SQL(str(definition))]
    if comment is not None:
        said = sql.Literal(comment)
        made.append(sql.SQL("COMMENT ON ROUTINE {} IS {}").format(sql.SQL(identity), said))
    grants = [list(g) for g in conn.execute(GRANTS, [oid]).fetchall()]
    _keep(conn, record, made, None)
    assert record.detail is not None
    record.detail["routine"] = {"identity": identity, "owner": owner, "grants": grants}


def _routine_name(conn: Connection, oid: int) -> tuple[str, str]:
    row = conn.execute(
        "SELECT n.nspname, p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE p.oid = %s",
        [oid],
    ).fetchone()
    assert row is not None
    return str(row[0]), str(row[1])


# --- shared --------------------------------------------------------------------------------


def _table_of(conn: Connection, spec: CaptureSpec, record: CaptureRecord) -> int | None:
    """The trigger's or policy's table; None (nothing kept) when there is none: the statement
    then fails, or `IF EXISTS` makes it a no-op, and there is nothing to put back."""
    oid = resolve_relation(conn, spec.table)
    if oid is None:
        record.table = ".".join(spec.table)
        _keep(conn, record, None, None)
        return None
    record.schema, record.table = relation_name(conn, oid)
    lock_against_writers(conn, oid, spec.kind)  # its definition stays as kept until the statement
    return oid


def _keep(
    conn: Connection,
    record: CaptureRecord,
    made: list[sql.Composable] | None,
    absent_undo: sql.Composable | None,
) -> None:
    """The detail restore_definitions.py reads: the statements that put the object back as it
    was (its definition, or, absent before, the drop of what the statement made)."""
    restore = made if made is not None else [u for u in (absent_undo,) if u is not None]
    kept = {"absent": made is None, "restore": [s.as_string(conn) for s in restore]}
    record.detail = {**(record.detail or {}), **kept}


# How each kind reads what it keeps; the kinds are capture_plan.CaptureKind's definitions.
_READERS: dict[CaptureKind, Callable[[Connection, CaptureSpec, CaptureRecord], After | None]] = {
    CaptureKind.DROP_TRIGGER: _trigger,
    CaptureKind.REPLACE_TRIGGER: _trigger,
    CaptureKind.DROP_POLICY: _policy,
    CaptureKind.DROP_ROUTINE: _routine,
    CaptureKind.REPLACE_ROUTINE: _routine,
    CaptureKind.DROP_INDEX: _index,
}


def _describe(spec: CaptureSpec) -> str:
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
