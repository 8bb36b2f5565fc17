"""Put back a definition `apply` kept (capture_definitions.py), inside the rollback.

The kept statements run where the rollback undoes the forward statement, and only where the
rollback itself does nothing for it (its MANUAL item; restore.py places them): a dropped
trigger, policy, routine, index or view is recreated as the server printed it (after a DROP IF
EXISTS, should a hand-made step have made one); a routine or trigger replaced with OR REPLACE
gets its prior definition back, or is dropped when it did not exist before; a DROP of what did
not exist puts nothing back. A recreated routine or view also gets its owner and privileges
back, where they differ from what the new one has (definition_rights.py).
"""

from __future__ import annotations

from typing import Any

from psycopg import sql

from migration_rollback.runner.capture_definition_read import local_setting
from migration_rollback.runner.definition_rights import restore_rights
from migration_rollback.runner.restore_captures import Capture
from migration_rollback.runner.session import Connection


def restore_definition(conn: Connection, capture: Capture) -> str:
    """Run the kept statements; what was done, for the result."""
    detail = capture.detail or {}
    # A routine put back as the catalog held it is not checked again (as pg_dump's output is
    # not): its body was accepted when it was made, and may name what an earlier migration
    # renamed or dropped since (a SQL function's body is checked at CREATE: the restore failed,
    # and the whole rollback with it).
    with local_setting(conn, "check_function_bodies", "off"):
        for statement in detail.get("restore", []):
            conn.execute(sql.SQL(statement))  # composed with psycopg's sql when kept
    rights = detail.get("rights")
    notes = restore_rights(conn, rights) if rights and not detail.get("absent") else []
    return "; ".join([_done(capture, detail), *notes])


def _done(capture: Capture, detail: dict[str, Any]) -> str:
    if not detail.get("absent"):
        return "recreated from the definition kept before the migration"
    if detail.get("restore"):
        return "dropped: it did not exist before the migration"
    return "nothing to recreate: it did not exist before the migration"
