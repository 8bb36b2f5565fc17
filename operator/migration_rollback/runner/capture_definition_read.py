"""How a kept definition is read from the server and recorded in its catalog row.

The server prints names qualified only when they are not on the search_path: definitions are
read with pg_catalog alone on it (`qualified_reads`), so every name in them is qualified and the
restore means the same objects whatever path the rollback runs with. `keep` writes what the
restore runs (restore_definitions.py) into the catalog row's detail.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from psycopg import sql

from migration_rollback.runner.capture_catalog import CaptureRecord
from migration_rollback.runner.session import Connection

After = Callable[[Connection], None]  # run once the statement has run

_READ_PATH = "SELECT pg_catalog.current_setting('search_path')"
_SET_PATH = "SELECT pg_catalog.set_config('search_path', %s, true)"


def qualified_reads(conn: Connection, read: Callable[[], Any]) -> Any:
    """`read()` with pg_catalog alone on the search_path (local to the transaction, put back
    after): the server then qualifies every name it prints."""
    row = conn.execute(_READ_PATH).fetchone()
    conn.execute(_SET_PATH, ["pg_catalog"])
    found = read()
    conn.execute(_SET_PATH, [row[0] if row else ""])
    return found


def keep(
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
