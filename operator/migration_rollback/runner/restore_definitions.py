"""Put back a definition `apply` kept (capture_definitions.py), inside the rollback.

The kept statements run where the rollback undoes the forward statement (restore.py places
them): a dropped trigger, policy or routine is recreated as the server printed it, after
dropping whatever the rollback may have recreated there from an earlier migration (the kept
definition is what the object really was); a routine or trigger replaced with OR REPLACE gets
its prior definition back, or is dropped when it did not exist before; a DROP of what did not
exist puts nothing back. A recreated routine also gets its owner and privileges back, when they
differ from what the new one has (a replaced routine keeps its own).
"""

from __future__ import annotations

from typing import Any

from psycopg import sql

from migration_rollback.runner.capture_routines import GRANTS
from migration_rollback.runner.restore_captures import Capture
from migration_rollback.runner.session import Connection


def restore_definition(conn: Connection, capture: Capture) -> str:
    """Run the kept statements; what was done, for the result."""
    detail = capture.detail or {}
    for statement in detail.get("restore", []):
        conn.execute(sql.SQL(statement))  # composed with psycopg's sql when kept
    routine = detail.get("routine")
    notes = _rights(conn, routine) if routine and not detail.get("absent") else []
    return "; ".join([_done(capture, detail), *notes])


def _done(capture: Capture, detail: dict[str, Any]) -> str:
    if not detail.get("absent"):
        return "recreated from the definition kept before the migration"
    if detail.get("restore"):
        return "dropped: it did not exist before the migration"
    return "nothing to recreate: it did not exist before the migration"


def _rights(conn: Connection, routine: dict[str, Any]) -> list[str]:
    """The routine's owner and privileges as kept, where the recreated one differs."""
    identity = sql.SQL(routine["identity"])
    row = conn.execute(
        "SELECT oid, pg_get_userbyid(proowner) FROM pg_proc WHERE oid = to_regprocedure(%s)",
        [routine["identity"]],
    ).fetchone()
    if row is None:
        return [f"{routine['identity']} not found after recreating it: owner and grants not set"]
    oid, owner = row
    kept = [tuple(g) for g in routine["grants"]]
    notes = []
    if [tuple(g) for g in conn.execute(GRANTS, [oid]).fetchall()] != kept:
        _regrant(conn, identity, oid, kept)
        notes.append("privileges restored")
    if owner != routine["owner"]:
        notes.append(_owner(conn, identity, routine["owner"]))
    return notes


def _regrant(conn: Connection, identity: sql.Composable, oid: int, kept: list[Any]) -> None:
    """Every grantee's privileges revoked, then the kept ones granted again."""
    for (grantee,) in conn.execute(
        "SELECT DISTINCT coalesce(pg_get_userbyid(NULLIF(a.grantee, 0)), '') FROM pg_proc p, "
        "aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a WHERE p.oid = %s",
        [oid],
    ).fetchall():
        conn.execute(sql.SQL("REVOKE ALL ON ROUTINE {} FROM {}").format(identity, _role(grantee)))
    for grantee, privilege, grantable in kept:
        option = sql.SQL(" WITH GRANT OPTION") if grantable else sql.SQL("")
        conn.execute(
            sql.SQL("GRANT {} ON ROUTINE {} TO {}{}").format(
                sql.SQL(privilege), identity, _role(grantee), option
            )
        )


def _role(name: str) -> sql.Composable:
    return sql.Identifier(name) if name else sql.SQL("PUBLIC")


def _owner(conn: Connection, identity: sql.Composable, owner: str) -> str:
    """ALTER ... OWNER needs membership in the owner role: without it the owner is said, not
    set (the rollback's role owns the routine then)."""
    row = conn.execute("SELECT pg_has_role(%s, 'MEMBER')", [owner]).fetchone()
    if not (row and row[0]):
        return f"owner {owner} not set back (the rollback's role is not a member of it)"
    conn.execute(sql.SQL("ALTER ROUTINE {} OWNER TO {}").format(identity, sql.Identifier(owner)))
    return f"owner {owner} set back"
