"""Keep the definition of a routine, with its owner and privileges, before a statement drops
or replaces it (called from capture_definitions.py, which keeps the other kinds).

A routine's identity is resolved as the statement resolves it (to_regprocedure of its name and
argument types as written; to_regproc of its name alone). CREATE OR REPLACE keeps the oid of the
routine it replaces: an oid after the statement other than the one before (or none before)
means the statement made a new routine, which the restore drops.
"""

from __future__ import annotations

from psycopg import sql

from migration_rollback.runner.capture_catalog import CaptureRecord
from migration_rollback.runner.capture_definition_read import After, keep, qualified_reads
from migration_rollback.runner.capture_plan import CaptureKind, CaptureSpec
from migration_rollback.runner.definition_rights import kept_rights
from migration_rollback.runner.relations import regclass_text
from migration_rollback.runner.session import Connection

_ROUTINE = """
SELECT p.oid::regprocedure::text, p.prokind::text, obj_description(p.oid, 'pg_proc'),
       CASE WHEN p.prokind <> 'a' THEN pg_get_functiondef(p.oid) END
FROM pg_proc p WHERE p.oid = %s
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


def routine(conn: Connection, spec: CaptureSpec, record: CaptureRecord) -> After | None:
    record.table = ".".join(spec.table)
    before = routine_oid(conn, spec)
    if before is not None:
        _keep_routine(conn, spec, record, before)
    elif spec.kind is CaptureKind.DROP_ROUTINE:
        keep(conn, record, None, None)
    if spec.kind is not CaptureKind.REPLACE_ROUTINE:
        return None

    def after(conn: Connection) -> None:
        """CREATE OR REPLACE keeps the oid of the routine it replaces: another oid (or none
        before) means it made a new one, in the schema it creates in."""
        made = routine_oid(conn, spec)
        if made is not None and made != before:
            identity = qualified_reads(conn, lambda: _identity(conn, made))
            drop = sql.SQL("DROP ROUTINE IF EXISTS {}").format(sql.SQL(identity))
            keep(conn, record, None, drop)

    return after


def _identity(conn: Connection, oid: int) -> str:
    row = conn.execute("SELECT %s::regprocedure::text", [oid]).fetchone()
    assert row is not None
    return str(row[0])


def _keep_routine(conn: Connection, spec: CaptureSpec, record: CaptureRecord, oid: int) -> None:
    row = qualified_reads(conn, lambda: conn.execute(_ROUTINE, [oid]).fetchone())
    assert row is not None  # resolved just now, in this transaction
    identity, _kind, comment, definition = row
    record.schema, record.table = _routine_name(conn, oid)
    if definition is None:
        record.status, record.reason = "manual", "an aggregate: its definition is not kept"
        return
    made: list[sql.Composable] = [sql.SQL(str(definition))]
    if comment is not None:
        said = sql.Literal(comment)
        made.append(sql.SQL("COMMENT ON ROUTINE {} IS {}").format(sql.SQL(identity), said))
    keep(conn, record, made, None)
    assert record.detail is not None
    record.detail["rights"] = kept_rights(conn, "routine", oid, identity)


def _routine_name(conn: Connection, oid: int) -> tuple[str, str]:
    row = conn.execute(
        "SELECT n.nspname, p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE p.oid = %s",
        [oid],
    ).fetchone()
    assert row is not None
    return str(row[0]), str(row[1])
