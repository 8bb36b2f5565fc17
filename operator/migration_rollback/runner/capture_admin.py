"""`captures list|prune`: what the capture schema holds, and its explicit cleanup.

Captures are never removed silently: a restore only marks them `restored`. Pruning drops the
capture tables and their catalog rows for exactly the versions asked for (or every restored
one), under the same advisory lock as apply and execute, and says what it dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from psycopg import sql

from migration_rollback.runner.capture_catalog import CAPTURE_SCHEMA, catalog_ident, catalog_present
from migration_rollback.runner.errors import PreconditionError
from migration_rollback.runner.session import Connection, acquire_run_lock, release_run_lock


@dataclass(frozen=True, slots=True)
class CaptureSummary:
    version: str
    migration: str
    statement: int
    kind: str
    status: str
    target: str
    rows: int
    bytes: int
    capture_table: str | None
    created_at: str
    restored_at: str | None


def _catalog_exists(conn: Connection) -> bool:
    return catalog_present(conn)


def list_captures(conn: Connection) -> list[CaptureSummary]:
    if not _catalog_exists(conn):
        return []
    rows = conn.execute(
        sql.SQL(
            "SELECT version, migration, statement, kind, status, "
            "concat_ws('.', target_schema, target_table), coalesce(rows, 0), "
            "coalesce(bytes, 0), capture_table, created_at::text, restored_at::text "
            "FROM {} ORDER BY version, statement, id"
        ).format(catalog_ident())
    ).fetchall()
    return [
        CaptureSummary(
            version=str(r[0]),
            migration=str(r[1]),
            statement=int(r[2]),
            kind=str(r[3]),
            status=str(r[4]),
            target=str(r[5]),
            rows=int(r[6]),
            bytes=int(r[7]),
            capture_table=r[8],
            created_at=str(r[9]),
            restored_at=r[10],
        )
        for r in rows
    ]


def prune_captures(
    conn: Connection,
    *,
    versions: list[str],
    restored: bool,
    dry_run: bool,
    lock_timeout: timedelta,
) -> list[CaptureSummary]:
    """Drop the chosen captures (tables and catalog rows); returns what was (or would go).

    The lock is taken on the session that commits (unlike apply and execute, whose lock lives
    on a session of its own): it cannot be lost without the transaction. It is taken before
    the captures are chosen, so none is chosen while an apply writes the catalog."""
    if dry_run:
        return _chosen(conn, versions, restored)
    acquire_run_lock(conn, lock_timeout)
    try:
        chosen = _chosen(conn, versions, restored)
        if not chosen:
            return chosen
        with conn.transaction():
            for capture in chosen:
                if capture.capture_table:
                    conn.execute(
                        sql.SQL("DROP TABLE IF EXISTS {}").format(
                            sql.Identifier(CAPTURE_SCHEMA, capture.capture_table)
                        )
                    )
            conn.execute(
                sql.SQL(
                    "DELETE FROM {} WHERE version = ANY(%s) OR (%s AND status = 'restored')"
                ).format(catalog_ident()),
                [versions, restored],
            )
    finally:
        release_run_lock(conn)
    return chosen


def _chosen(conn: Connection, versions: list[str], restored: bool) -> list[CaptureSummary]:
    """What goes; a --version without any capture is refused (a typo must not read as done)."""
    captures = list_captures(conn)
    held = sorted({c.version for c in captures})
    unknown = [v for v in versions if v not in held]
    if unknown:
        raise PreconditionError(
            f"--version {', '.join(unknown)}: no capture is kept for this version; captures "
            f"exist for: {', '.join(held) if held else 'no version (the catalog is empty)'}"
        )
    return [c for c in captures if c.version in versions or (restored and c.status == "restored")]
