"""Bookkeeping of the statements that run after COMMIT, so a run stopped between them is seen.

`CREATE INDEX CONCURRENTLY` and the other statements PostgreSQL refuses in a transaction run
after the COMMIT that records the migration (apply) or forgets it (execute). A run killed in
between left a history that claims the work done while the index is missing, and nothing said
so. Each such statement is now written here as pending in the same transaction as the history
change, and marked done once it ran: a later run finds what is left. A step whose SQL is proven
safe to run again (the IF [NOT] EXISTS form, an INVALID index from a stopped build dropped
first) is finished by the later run; any other is refused with the exact statement to run.
Rows are keyed by the history table, so two projects sharing a database do not see each
other's steps. A step is closed as `done` (it ran), `superseded` (the rollback of its version
took over, in the transaction that deleted the history row) or `obsolete` (its version's
history changed since: the step no longer means anything).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import psycopg
from pglast import ast
from psycopg import sql

from migration_rollback.runner.deferred_index import check_created, check_drop, prepare_create
from migration_rollback.runner.errors import PreconditionError
from migration_rollback.runner.options import TableName
from migration_rollback.runner.plan import QName
from migration_rollback.runner.relations import relation_exists, resolve_relation
from migration_rollback.runner.session import Connection
from migration_rollback.runner.table_shape import require_own_table

SCHEMA = "migration_rollback"
TABLE = "deferred_steps"
_IDENT = sql.Identifier(SCHEMA, TABLE)
# Statements whose IF [NOT] EXISTS form (see plan.idempotent_form) is safe to run again.
_RESUMABLE = (
    ast.DropStmt,
    ast.IndexStmt,
    ast.AlterEnumStmt,
    ast.VacuumStmt,
    ast.ReindexStmt,
    ast.AlterSystemStmt,
)
_TABLE_SQL = sql.SQL(
    """
    CREATE TABLE {} (
      id            bigserial PRIMARY KEY,
      history_table text NOT NULL,
      command       text NOT NULL,
      version       text NOT NULL,
      statement     integer NOT NULL,
      location      text NOT NULL,
      sql           text NOT NULL,
      resume_sql    text,
      invalid_index text[],
      dropped_index text[],
      index_oid     oid,
      recorded_at   timestamptz NOT NULL DEFAULT now(),
      done_at       timestamptz,
      closed_as     text
    )
    """
).format(_IDENT)
# The columns written and read (`format_type` spelling): see table_shape.
_COLUMNS: dict[str, str | None] = {
    "id": "bigint",
    **dict.fromkeys(("history_table", "command", "version", "location", "sql"), "text"),
    "statement": "integer",
    "resume_sql": "text",
    "invalid_index": "text[]",
    "dropped_index": "text[]",
    "index_oid": "oid",
    "recorded_at": "timestamp with time zone",
    "done_at": "timestamp with time zone",
    "closed_as": "text",
}
_SCHEMA_EXISTS = "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = %s)"


@dataclass(frozen=True, slots=True)
class Step:
    """One statement to run after COMMIT, as recorded before it."""

    version: str
    number: int
    location: str
    sql: str
    resume_sql: str | None  # None: running it again is not proven safe
    invalid_index: QName | None = None  # the index a CREATE INDEX makes
    dropped_index: QName | None = None  # the index a DROP INDEX removes


@dataclass(frozen=True, slots=True)
class PendingStep:
    id: int
    command: str
    step: Step
    recorded_at: str
    index_oid: int | None = None  # the dropped index, as it was when the step was recorded


def resumable(node: object) -> bool:
    """Whether the statement's idempotent form may be run again after a stopped run."""
    return isinstance(node, _RESUMABLE) and not (
        isinstance(node, ast.IndexStmt) and not node.idxname
    )


def record_pending(
    conn: Connection, command: str, history: TableName, steps: Sequence[Step]
) -> list[int]:
    """In the caller's transaction (the one that changes the history): the steps, pending."""
    if not steps:
        return []
    ensure_table(conn)
    return [_insert(conn, command, history, step) for step in steps]


def _insert(conn: Connection, command: str, history: TableName, step: Step) -> int:
    oid = resolve_relation(conn, step.dropped_index) if step.dropped_index else None
    row = conn.execute(
        sql.SQL(
            "INSERT INTO {} (history_table, command, version, statement, location, sql, "
            "resume_sql, invalid_index, dropped_index, index_oid) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id"
        ).format(_IDENT),
        [str(history), command, step.version, step.number, step.location, step.sql,
         step.resume_sql, _array(step.invalid_index), _array(step.dropped_index), oid],
    ).fetchone()  # fmt: skip
    assert row is not None
    return int(row[0])


def _array(name: QName | None) -> list[str] | None:
    return list(name) if name else None


def ensure_table(conn: Connection) -> None:
    """Create the schema and table only when missing: `IF NOT EXISTS` needs CREATE even when
    they exist, which a role that only applies migrations may not have."""
    if _exists(conn):
        return
    try:
        if not _row(conn, _SCHEMA_EXISTS, [SCHEMA]):
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(SCHEMA)))
        conn.execute(_TABLE_SQL)
    except psycopg.errors.InsufficientPrivilege:
        raise PreconditionError(
            f"table {SCHEMA}.{TABLE} does not exist and this role cannot create it: it needs "
            f"CREATE on schema {SCHEMA} (or on the database, to create that schema) once, or "
            "an owner creates it first; see the README (privileges)"
        ) from None


def _exists(conn: Connection) -> bool:
    """The table is there, and is the runner's own (else refused, saying what it is)."""
    if not relation_exists(conn, _IDENT):
        return False
    require_own_table(conn, SCHEMA, TABLE, _COLUMNS, "the deferred-steps table")
    return True


def _row(conn: Connection, query: str, params: list[object]) -> object:
    row = conn.execute(query, params).fetchone()
    return row[0] if row else None


def close(conn: Connection, step_ids: Sequence[int], how: str) -> None:
    """Mark steps closed: `done`, `superseded` or `obsolete` (see the module docstring)."""
    if step_ids:
        conn.execute(
            sql.SQL("UPDATE {} SET done_at = now(), closed_as = %s WHERE id = ANY(%s)").format(
                _IDENT
            ),
            [how, list(step_ids)],
        )


def mark_done(conn: Connection, step_id: int) -> None:
    close(conn, [step_id], "done")


def pending_steps(conn: Connection, history: TableName) -> list[PendingStep]:
    """Every step of this history table recorded and not closed, oldest first."""
    if not _exists(conn):
        return []
    rows = conn.execute(
        sql.SQL(
            "SELECT id, command, version, statement, location, sql, resume_sql, invalid_index, "
            "dropped_index, index_oid, recorded_at::text FROM {} "
            "WHERE done_at IS NULL AND history_table = %s ORDER BY id"
        ).format(_IDENT),
        [str(history)],
    ).fetchall()
    return [_pending(r) for r in rows]


def _pending(r: tuple[object, ...]) -> PendingStep:
    step = Step(
        str(r[2]), int(str(r[3])), str(r[4]), str(r[5]), _text(r[6]), _name(r[7]), _name(r[8])
    )
    oid = int(str(r[9])) if r[9] is not None else None
    return PendingStep(id=int(str(r[0])), command=str(r[1]), step=step, recorded_at=str(r[10]),
                       index_oid=oid)  # fmt: skip


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _name(value: object) -> QName | None:
    return tuple(str(part) for part in value) if isinstance(value, list) and value else None


def describe(pending: Sequence[PendingStep]) -> str:
    """Which migrations are half done, and each statement left (the form to run)."""
    lines = [
        f"{p.command} of {p.step.version} committed at {p.recorded_at}, but statement "
        f"{p.step.number} ({p.step.location}), which runs after COMMIT, failed or did not "
        "finish: "
        f"{p.step.resume_sql or p.step.sql}"
        for p in pending
    ]
    return "; ".join(lines)


def refuse_unproven(pending: Sequence[PendingStep]) -> None:
    """Steps that cannot be proven safe to run again stop the run, with how to finish them."""
    unproven = [p for p in pending if p.step.resume_sql is None]
    if unproven:
        raise PreconditionError(
            "a statement an earlier run left after its COMMIT (failed or stopped) is pending: "
            + describe(unproven)
            + ". Running it again is not proven safe: run each statement by hand (check first "
            "what it already did), then " + mark_done_hint(unproven)
        )


def mark_done_hint(pending: Sequence[PendingStep]) -> str:
    ids = ", ".join(str(p.id) for p in pending)
    return (
        f"mark it done: UPDATE {SCHEMA}.{TABLE} SET done_at = now(), closed_as = 'done' "
        f"WHERE id IN ({ids})"
    )


def run_step(conn: Connection, step_id: int | None, text: str, step: Step,
             index_oid: int | None = None) -> str:  # fmt: skip
    """One statement after COMMIT (autocommit), proven to act on the index it means (see
    deferred_index.py), then its record marked done; its status."""
    if step.dropped_index:
        check_drop(conn, step.dropped_index, index_oid)
    if step.invalid_index:
        prepare_create(conn, step.invalid_index, text)
    status = conn.execute(text).statusmessage or ""
    if step.invalid_index:
        check_created(conn, step.invalid_index, text)
    if step_id is not None:
        mark_done(conn, step_id)
    return status


def count_recorded(conn: Connection, step_ids: Sequence[int]) -> int:
    """How many of these steps exist (a COMMIT's read-back: they were written with it)."""
    if not step_ids or not relation_exists(conn, _IDENT):
        return 0
    found = _row(
        conn, f"SELECT count(*) FROM {SCHEMA}.{TABLE} WHERE id = ANY(%s)", [list(step_ids)]
    )
    return int(str(found))
