"""Bookkeeping of the statements that run after COMMIT, so a run stopped between them is seen.

`CREATE INDEX CONCURRENTLY` and the other statements PostgreSQL refuses in a transaction run
after the COMMIT that records the migration (apply) or forgets it (execute). A run killed in
between left a history that claims the work done while the index is missing, and nothing said
so. Each such statement is now written here as pending in the same transaction as the history
change, and marked done once it ran: a later run finds what is left. A step whose SQL is proven
safe to run again (the IF [NOT] EXISTS form, an INVALID index from a stopped build dropped
first) is finished by the later run; any other is refused with the exact statement to run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pglast import ast
from psycopg import sql

from migration_rollback.runner.errors import PreconditionError
from migration_rollback.runner.relations import regclass_text, relation_exists
from migration_rollback.runner.session import Connection

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
_CREATE = [
    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(SCHEMA)),
    sql.SQL(
        """
        CREATE TABLE IF NOT EXISTS {} (
          id            bigserial PRIMARY KEY,
          command       text NOT NULL,
          version       text NOT NULL,
          statement     integer NOT NULL,
          location      text NOT NULL,
          sql           text NOT NULL,
          resume_sql    text,
          invalid_index text[],
          recorded_at   timestamptz NOT NULL DEFAULT now(),
          done_at       timestamptz
        )
        """
    ).format(_IDENT),
]


@dataclass(frozen=True, slots=True)
class Step:
    """One statement to run after COMMIT, as recorded before it."""

    version: str
    number: int
    location: str
    sql: str
    resume_sql: str | None  # None: running it again is not proven safe
    invalid_index: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class PendingStep:
    id: int
    command: str
    step: Step
    recorded_at: str


def resumable(node: object) -> bool:
    """Whether the statement's idempotent form may be run again after a stopped run."""
    return isinstance(node, _RESUMABLE) and not (
        isinstance(node, ast.IndexStmt) and not node.idxname
    )


def record_pending(conn: Connection, command: str, steps: Sequence[Step]) -> list[int]:
    """In the caller's transaction (the one that changes the history): the steps, pending."""
    if not steps:
        return []
    for statement in _CREATE:
        conn.execute(statement)
    ids: list[int] = []
    for step in steps:
        row = conn.execute(
            sql.SQL(
                "INSERT INTO {} (command, version, statement, location, sql, resume_sql, "
                "invalid_index) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id"
            ).format(_IDENT),
            [command, step.version, step.number, step.location, step.sql, step.resume_sql,
             list(step.invalid_index) if step.invalid_index else None],
        ).fetchone()  # fmt: skip
        assert row is not None
        ids.append(int(row[0]))
    return ids


def mark_done(conn: Connection, step_id: int) -> None:
    conn.execute(sql.SQL("UPDATE {} SET done_at = now() WHERE id = %s").format(_IDENT), [step_id])


def pending_steps(conn: Connection) -> list[PendingStep]:
    """Every step recorded and not done, oldest first (none when the table does not exist)."""
    if not relation_exists(conn, _IDENT):
        return []
    rows = conn.execute(
        sql.SQL(
            "SELECT id, command, version, statement, location, sql, resume_sql, invalid_index, "
            "recorded_at::text FROM {} WHERE done_at IS NULL ORDER BY id"
        ).format(_IDENT)
    ).fetchall()
    return [
        PendingStep(
            id=int(r[0]),
            command=str(r[1]),
            step=Step(str(r[2]), int(r[3]), str(r[4]), str(r[5]), r[6], tuple(r[7] or ()) or None),
            recorded_at=str(r[8]),
        )
        for r in rows
    ]


def describe(pending: Sequence[PendingStep]) -> str:
    """Which migrations are half done, and each statement left (the form to run)."""
    lines = [
        f"{p.command} of {p.step.version} committed at {p.recorded_at}, but statement "
        f"{p.step.number} ({p.step.location}), which runs after COMMIT, did not finish: "
        f"{p.step.resume_sql or p.step.sql}"
        for p in pending
    ]
    return "; ".join(lines)


def refuse_unproven(pending: Sequence[PendingStep]) -> None:
    """Steps that cannot be proven safe to run again stop the run, with how to finish them."""
    unproven = [p for p in pending if p.step.resume_sql is None]
    if unproven:
        raise PreconditionError(
            "an earlier run was stopped before it finished: "
            + describe(unproven)
            + ". Running it again is not proven safe: run each statement by hand (check first "
            "what it already did), then " + mark_done_hint(unproven)
        )


def mark_done_hint(pending: Sequence[PendingStep]) -> str:
    ids = ", ".join(str(p.id) for p in pending)
    return f"mark it done: UPDATE {SCHEMA}.{TABLE} SET done_at = now() WHERE id IN ({ids})"


def run_step(
    conn: Connection, step_id: int | None, text: str, invalid_index: tuple[str, ...] | None
) -> str:
    """One statement after COMMIT (autocommit), then its record marked done; its status."""
    if invalid_index:
        drop_invalid_index(conn, invalid_index)
    status = conn.execute(text).statusmessage or ""
    if step_id is not None:
        mark_done(conn, step_id)
    return status


def drop_invalid_index(conn: Connection, name: tuple[str, ...]) -> None:
    """A stopped CREATE INDEX CONCURRENTLY leaves an INVALID index IF NOT EXISTS would keep."""
    row = conn.execute(
        "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)",
        [regclass_text(conn, name)],
    ).fetchone()
    if row is not None and not row[0]:
        conn.execute(sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(sql.Identifier(*name)))
