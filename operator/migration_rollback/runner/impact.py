"""Impact assessment: which objects the rollback drops or rewrites, how big, which lock.

Read-only and run before anything changes, so that a human (and the result file) can see that
"drop column bio" means 2.3 million values and an ACCESS EXCLUSIVE lock. Row counts come from
the planner's statistics (`pg_class.reltuples`); small or never-analysed tables are counted
exactly, under the session's lock and statement timeouts.
"""

from __future__ import annotations

import re

import psycopg
from psycopg import sql

from migration_rollback.runner.plan import Action, Plan, PlannedStatement
from migration_rollback.runner.result import ImpactEntry
from migration_rollback.runner.session import Connection
from migration_rollback.sql import ObjectRef, kinds

EXACT_COUNT_BELOW = 100_000
UNANALYSED_COUNT_MAX_BYTES = 64 * 1024 * 1024
_ACTION_LABEL = {
    Action.ARCHIVE_TABLES: "move to archive",
    Action.COPY_COLUMNS: "copy to archive, then drop",
    Action.DEFERRED: "after commit",
}


def assess(conn: Connection, plan: Plan) -> list[ImpactEntry]:
    entries: list[ImpactEntry] = []
    seen: set[tuple[int, str]] = set()
    for planned in plan.all:
        for ref in planned.classification.targets:
            if (planned.number, ref.key) in seen:
                continue
            seen.add((planned.number, ref.key))
            entry = _assess_target(conn, planned, ref)
            if entry is not None:
                entries.append(entry)
    return entries


def _action(planned: PlannedStatement, ref: ObjectRef) -> str:
    label = _ACTION_LABEL.get(planned.action)
    if label and (planned.action is not Action.COPY_COLUMNS or ref.kind == "column"):
        return label
    verb = _words(planned.statement.kind.removesuffix("Stmt"))
    return f"{verb} (destroys data)" if planned.destroys_data else verb


def _words(camel: str) -> str:
    """`AlterTable` -> `alter table`."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", camel).lower()


def _assess_target(
    conn: Connection, planned: PlannedStatement, ref: ObjectRef
) -> ImpactEntry | None:
    if not kinds.names_a_relation(ref.kind) and ref.kind != "schema":
        return None
    entry = ImpactEntry(
        object=ref.describe(),
        kind=ref.kind,
        statement=planned.number,
        action=_action(planned, ref),
        lock=planned.classification.lock.label,
        exists=False,
    )
    if ref.kind == "schema":
        return _assess_schema(conn, entry, ref.name)
    regclass = sql.Identifier(*(p for p in (ref.schema, ref.name) if p)).as_string(conn)
    row = conn.execute(
        """
        SELECT c.oid, n.nspname, c.relname, c.relkind,
               CASE WHEN c.relkind = 'p' THEN
                 (SELECT sum(greatest(p.reltuples, 0))::bigint FROM pg_partition_tree(c.oid) t
                  JOIN pg_class p ON p.oid = t.relid WHERE t.isleaf)
               ELSE c.reltuples::bigint END,
               CASE WHEN c.relkind = 'p' THEN
                 (SELECT sum(pg_relation_size(t.relid))::bigint FROM pg_partition_tree(c.oid) t)
               ELSE pg_relation_size(c.oid) END
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.oid = to_regclass(%s)
        """,
        [regclass],
    ).fetchone()
    if row is None:
        entry.note = "does not exist (nothing to do)"
        return entry
    _oid, schema, name, relkind, reltuples, size = row
    entry.exists = True
    if ref.kind == "column" and ref.column and not _has_column(conn, int(_oid), ref.column):
        entry.exists = False
        entry.note = "column does not exist (nothing to do)"
        return entry
    entry.rows = int(reltuples) if reltuples is not None and reltuples >= 0 else None
    countable = relkind in ("r", "p", "m")
    small = entry.rows is not None and entry.rows < EXACT_COUNT_BELOW
    unanalysed_but_small = entry.rows is None and int(size or 0) <= UNANALYSED_COUNT_MAX_BYTES
    if countable and (small or unanalysed_but_small):
        _count_exactly(conn, entry, str(schema), str(name))
    elif entry.rows is None:
        entry.note = "never analysed; row count unknown"
    return entry


def _has_column(conn: Connection, oid: int, column: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM pg_attribute WHERE attrelid = %s AND attname = %s AND NOT attisdropped",
        [oid, column],
    ).fetchone()
    return row is not None


def _count_exactly(conn: Connection, entry: ImpactEntry, schema: str, name: str) -> None:
    try:
        row = conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, name))
        ).fetchone()
    except psycopg.errors.LockNotAvailable:
        entry.note = "not counted: the table is locked by another session"
        return
    except psycopg.errors.QueryCanceled:
        entry.note = "not counted: count(*) exceeded statement_timeout"
        return
    if row is not None:
        entry.rows = int(row[0])
        entry.rows_exact = True


def _assess_schema(conn: Connection, entry: ImpactEntry, schema: str) -> ImpactEntry:
    row = conn.execute(
        """
        SELECT count(c.oid), coalesce(sum(greatest(c.reltuples, 0)), 0)::bigint
        FROM pg_namespace n LEFT JOIN pg_class c
          ON c.relnamespace = n.oid AND c.relkind IN ('r', 'p')
        WHERE n.nspname = %s
        GROUP BY n.oid
        """,
        [schema],
    ).fetchone()
    if row is None:
        entry.note = "does not exist (nothing to do)"
        return entry
    entry.exists = True
    entry.rows = int(row[1])
    entry.note = f"{row[0]} table(s), estimated rows"
    return entry
