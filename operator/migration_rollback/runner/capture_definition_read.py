"""How a kept definition is read from the server and recorded in its catalog row.

The server prints names qualified only when they are not on the search_path: definitions are
read with pg_catalog alone on it (`qualified_reads`), so every name outside a routine's body is
qualified and means the same object whatever path the rollback runs with (a body written as a
string is kept as written: it resolves names as it always did, at each call). `keep` writes what the
restore runs (restore_definitions.py) into the catalog row's detail.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from psycopg import sql
from psycopg.pq import TransactionStatus

from migration_rollback.runner.capture_catalog import CaptureRecord
from migration_rollback.runner.session import Connection

After = Callable[[Connection], None]  # run once the statement has run


def qualified_reads(conn: Connection, read: Callable[[], Any]) -> Any:
    """`read()` with pg_catalog alone on the search_path: the server then qualifies every
    name it prints (a routine's string body is not printed but kept as written)."""
    with local_setting(conn, "search_path", "pg_catalog"):
        return read()


@contextmanager
def local_setting(conn: Connection, name: str, value: str) -> Iterator[None]:
    """`name` set to `value` for the block, local to the transaction, then put back, also when
    the block raises: a caller that goes on in the same transaction (a refusal caught, a
    savepoint rolled back around the block) must not run on with pg_catalog alone on its
    path. A failed transaction (or a savepoint rolled back over the SET) has undone the
    setting itself, and takes no statement: nothing is put back then."""
    row = conn.execute("SELECT pg_catalog.current_setting(%s)", [name]).fetchone()
    conn.execute(_SET, [name, value])
    try:
        yield
    finally:
        if conn.info.transaction_status is not TransactionStatus.INERROR:
            conn.execute(_SET, [name, str(row[0]) if row else ""])


_SET = "SELECT pg_catalog.set_config(%s, %s, true)"


def refused(record: CaptureRecord, reasons: Sequence[str], flags: Sequence[Any]) -> bool:
    """The first reason whose flag the catalog read raised makes the capture a MANUAL one
    (its definition not kept); False: none did."""
    reason = next((r for r, flag in zip(reasons, flags, strict=True) if flag), None)
    if reason is not None:
        record.status, record.reason = "manual", reason
    return reason is not None


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
