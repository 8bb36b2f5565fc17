"""Rows written since the migration: counted before the run, and frozen as conflicts at its start.

"Since" is measured with row versions (`xmin` newer than the migration's transaction id). The
accounting tells the operator what a restore or a removal would overwrite before anything runs;
the frozen conflict keys let `--on-conflict keep-current` leave those rows alone once the
rollback's own writes have changed every row version.
"""

from __future__ import annotations

from typing import Any

from psycopg import sql

from migration_rollback.runner.capture_plan import CaptureKind
from migration_rollback.runner.kept_statements import require_kept_statements
from migration_rollback.runner.plan import Plan
from migration_rollback.runner.relations import relation_exists
from migration_rollback.runner.restore_captures import Capture
from migration_rollback.runner.session import Connection


def _since(xid: int) -> sql.Composable:
    """`xmin` newer than the migration's transaction: written after it."""
    return sql.SQL("age(t.xmin) < age(xid({}::xid8))").format(sql.Literal(str(xid)))


def key_match(capture: Capture, left: str, right: str) -> sql.Composable:
    return sql.SQL(" AND ").join(
        sql.SQL("{}.{} = {}.{}").format(
            sql.Identifier(left), sql.Identifier(k), sql.Identifier(right), sql.Identifier(k)
        )
        for k in capture.key
    )


def table_exists(conn: Connection, capture: Capture) -> bool:
    return relation_exists(conn, capture.target)


def conflict_query(capture: Capture) -> sql.Composable | None:
    """Captured keys whose row was written since the migration (or, for removed rows, exists
    again); None when there is nothing to conflict with."""
    if not capture.key or capture.kind is CaptureKind.DROP_COLUMN:
        return None  # the app could not write a dropped column: refilling it overwrites nothing
    assert capture.xid is not None
    match = key_match(capture, "t", "c")
    keys = sql.SQL(", ").join(sql.SQL("c.{}").format(sql.Identifier(k)) for k in capture.key)
    if capture.kind.removes_rows:
        where = match
    else:
        where = sql.SQL("{} AND {}").format(match, _since(capture.xid))
    return sql.SQL("SELECT {} FROM {} c JOIN {} t ON {}").format(
        keys, capture.kept, capture.target, where
    )


def account_capture(conn: Connection, capture: Capture) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "object": capture.describe(),
        "version": capture.version,
        "statement": capture.statement,
        "capture": capture.id,
        "action": "restore",
        "captured_rows": capture.rows,
    }
    if capture.kind is CaptureKind.SEQUENCE:
        return entry
    if not table_exists(conn, capture):
        entry["note"] = "the table does not exist now"
        return entry
    assert capture.xid is not None
    row = conn.execute(
        sql.SQL("SELECT count(*) FROM {} t WHERE {}").format(capture.target, _since(capture.xid))
    ).fetchone()
    entry["rows_written_since"] = int(row[0]) if row else 0
    query = conflict_query(capture)
    if query is not None:
        row = conn.execute(sql.SQL("SELECT count(*) FROM ({}) x").format(query)).fetchone()
        entry["conflicts"] = int(row[0]) if row else 0
    return entry


def account_definition(capture: Capture) -> dict[str, Any]:
    """A kept definition: no rows, so nothing written since can conflict with it. Its kept
    statements are checked here, before anything runs (and again when they run)."""
    detail = capture.detail or {}
    require_kept_statements(capture.describe(), [str(s) for s in detail.get("restore", [])])
    return {
        "object": capture.describe(),
        "version": capture.version,
        "statement": capture.statement,
        "capture": capture.id,
        "action": "restore definition",
        "note": _kept_note(detail),
    }


def _kept_note(detail: dict[str, Any]) -> str:
    if detail.get("existed"):
        return "existed before the migration: kept, nothing to undo"
    return "absent before the migration" if detail.get("absent") else "definition kept"


def account_removed(conn: Connection, plan: Plan, captures: list[Capture]) -> list[dict[str, Any]]:
    """Rows written since the migration into tables and columns the rollback removes."""
    xids = {c.version: c.xid for c in captures if c.xid is not None}
    entries = []
    for planned in plan.all:
        xid = xids.get(planned.version)
        if xid is None:
            continue
        for drop in planned.drops:
            if drop.kind not in ("relation", "column"):
                continue
            row = conn.execute(
                "SELECT oid FROM pg_class WHERE oid = to_regclass(%s) AND relkind IN ('r', 'p')",
                [sql.Identifier(*drop.name).as_string(conn)],
            ).fetchone()
            if row is None or row[0] is None:
                continue
            count = conn.execute(
                sql.SQL("SELECT count(*) FROM {} t WHERE {}").format(
                    sql.Identifier(*drop.name), _since(xid)
                )
            ).fetchone()
            entries.append(
                {
                    "object": drop.describe(),
                    "version": planned.version,
                    "statement": planned.number,
                    "action": "removed by the rollback",
                    "rows_written_since": int(count[0]) if count else 0,
                }
            )
    return entries


def _conflicts_table(capture: Capture) -> sql.Identifier:
    return sql.Identifier(_conflicts_name(capture))


def _conflicts_name(capture: Capture) -> str:
    return f"migration_rollback_conflicts_{capture.id}"


def freeze_conflicts(conn: Connection, capture: Capture) -> None:
    query = conflict_query(capture)
    if query is None or not table_exists(conn, capture):
        return
    conn.execute(
        sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS {}").format(
            _conflicts_table(capture), query
        )
    )


def not_conflicting(
    conn: Connection, capture: Capture, alias: str, on_conflict: str
) -> sql.Composable:
    """`AND NOT EXISTS (conflicting key)` under keep-current; nothing otherwise."""
    if on_conflict != "keep-current" or conflict_query(capture) is None:
        return sql.SQL("")
    if not relation_exists(conn, sql.Identifier("pg_temp", _conflicts_name(capture))):
        return sql.SQL("")
    return sql.SQL(" AND NOT EXISTS (SELECT 1 FROM pg_temp.{} x WHERE {})").format(
        _conflicts_table(capture), key_match(capture, "x", alias)
    )
