"""Put back a definition `apply` kept (capture_definitions.py), inside the rollback.

The kept statements run where the rollback undoes the forward statement, and only where the
rollback itself does nothing for it (its MANUAL item; restore.py places them): a dropped
trigger, policy, routine, index or view is recreated as the server printed it (after a DROP IF
EXISTS, should a hand-made step have made one); a routine or trigger replaced with OR REPLACE
gets its prior definition back, or is dropped when it did not exist before; a DROP of what did
not exist puts nothing back; an index created IF NOT EXISTS is kept when it existed before,
dropped when the statement made it (capture_if_not_exists.py). A recreated routine or view also
gets its owner and privileges back, where they differ from what the new one has
(definition_rights.py). A routine whose return type, OUT parameters or parameter defaults the
migration changed cannot be put back by CREATE OR REPLACE: it is dropped and created again when
nothing depends on it; otherwise the restore is refused, naming what depends on it (never a
CASCADE).
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import errors, sql

from migration_rollback.runner.capture_definition_read import local_setting, qualified_reads
from migration_rollback.runner.definition_rights import restore_rights
from migration_rollback.runner.errors import PreconditionError
from migration_rollback.runner.kept_statements import kept_statement_kind, require_kept_statements
from migration_rollback.runner.restore_captures import Capture
from migration_rollback.runner.session import Connection


def restore_definition(conn: Connection, capture: Capture) -> str:
    """Run the kept statements, each checked first (kept_statements.py); what was done, for
    the result."""
    detail = capture.detail or {}
    statements = [str(s) for s in detail.get("restore", [])]
    require_kept_statements(capture.describe(), statements)
    notes: list[str] = []
    # A routine put back as the catalog held it is not checked again (as pg_dump's output is
    # not): its body was accepted when it was made, and may name what an earlier migration
    # renamed or dropped since (a SQL function's body is checked at CREATE: the restore failed,
    # and the whole rollback with it).
    with local_setting(conn, "check_function_bodies", "off"):
        for statement in statements:
            notes += _run(conn, statement, detail)
    rights = detail.get("rights")
    if rights and not detail.get("absent"):
        notes += restore_rights(conn, rights)
    return "; ".join([_done(capture, detail), *notes])


def _run(conn: Connection, statement: str, detail: dict[str, Any]) -> list[str]:
    """One kept statement (composed with psycopg's sql when kept). A routine's CREATE OR
    REPLACE runs in a savepoint: what it cannot change back (a return type, OUT parameters,
    parameter defaults the migration added, an input parameter's name: 42P13) needs the
    routine dropped first (_recreate)."""
    if kept_statement_kind(statement) != "CreateFunctionStmt":
        conn.execute(sql.SQL(statement))
        return []
    try:
        with conn.transaction():
            conn.execute(sql.SQL(statement))
    except errors.InvalidFunctionDefinition as exc:
        return _recreate(conn, statement, detail, exc)
    return []


# What depends on a routine (a trigger, a view, a default, a policy, another routine's body):
# DROP without CASCADE refuses it, and a CASCADE would take it silently.
_DEPENDENTS = """
SELECT pg_describe_object(classid, objid, objsubid) FROM pg_depend
WHERE refclassid = 'pg_proc'::regclass AND refobjid = %s ORDER BY 1 LIMIT 5
"""


def _recreate(
    conn: Connection, statement: str, detail: dict[str, Any], exc: psycopg.Error
) -> list[str]:
    """The routine the migration replaced dropped (nothing depends on it) and made again;
    refused when something depends on it, naming what."""
    why = exc.diag.message_primary or "CREATE OR REPLACE refused it"
    kept_as = str((detail.get("rights") or {}).get("identity") or "")
    row = conn.execute("SELECT to_regprocedure(%s)::oid", [kept_as]).fetchone()
    if not kept_as or row is None or row[0] is None:
        raise exc
    oid = int(row[0])
    identity = qualified_reads(conn, lambda: _identity(conn, oid))
    dependents = qualified_reads(conn, lambda: _dependents(conn, oid))
    if dependents:
        raise PreconditionError(
            f"{identity} cannot be given its earlier definition back: {why}, so it must be "
            f"dropped and created again, and {', '.join(dependents)} depend(s) on it (a DROP "
            "would need CASCADE). Put it back by hand; nothing was rolled back"
        )
    conn.execute(sql.SQL("DROP ROUTINE {}").format(sql.SQL(identity)))
    conn.execute(sql.SQL(statement))
    return [f"dropped and created again ({why})"]


def _dependents(conn: Connection, oid: int) -> list[str]:
    return [str(r[0]) for r in conn.execute(_DEPENDENTS, [oid]).fetchall()]


def _identity(conn: Connection, oid: int) -> str:
    row = conn.execute("SELECT %s::regprocedure::text", [oid]).fetchone()
    assert row is not None
    return str(row[0])


# What a restore says of an IF NOT EXISTS object that was there before the statement; a
# rollback step that would have removed it says the same (run.py: kept, not run).
KEPT_EXISTED = "kept: it existed before the migration (IF NOT EXISTS left it), nothing to undo"


def _done(capture: Capture, detail: dict[str, Any]) -> str:
    if detail.get("existed"):
        return KEPT_EXISTED
    if not detail.get("absent"):
        return "recreated from the definition kept before the migration"
    if detail.get("restore"):
        return "dropped: it did not exist before the migration"
    return "nothing to recreate: it did not exist before the migration"
