"""The parts of `apply` that shape one migration: its statements, history row and tallies.

apply.py runs the migrations (sessions, lock, order, transactions); this module holds what it
does to each file's text and record, as the Supabase CLI does it: the file's own BEGIN/COMMIT
dropped (apply owns the transaction), the history row with the columns the table has, and the
statements run after COMMIT as recorded beforehand (see deferred_steps.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
from pglast import ast
from pglast.enums.parsenodes import TransactionStmtKind as TK
from psycopg import sql

from migration_rollback.redact import Redactor
from migration_rollback.runner.apply_result import AppliedMigration, describe_capture
from migration_rollback.runner.capture import PendingCapture
from migration_rollback.runner.capture_catalog import CaptureRecord
from migration_rollback.runner.deferred_index import dropped_index
from migration_rollback.runner.deferred_steps import Step, count_recorded, resumable, run_step
from migration_rollback.runner.errors import (
    DeferredStatementError,
    PostCheckError,
    PreconditionError,
    RunnerError,
)
from migration_rollback.runner.history import present_versions
from migration_rollback.runner.options import TableName
from migration_rollback.runner.plan import idempotent_form
from migration_rollback.runner.session import Connection, translate
from migration_rollback.sql import Script, Statement
from migration_rollback.sql.uncommitted import uncommitted

_OPENERS = {TK.TRANS_STMT_BEGIN, TK.TRANS_STMT_START}


def record_history(
    conn: Connection, table: TableName, item: AppliedMigration, statements: list[str]
) -> None:
    """The row as the Supabase CLI writes it: version, name and the statements array."""
    present = {
        str(r[0])
        for r in conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) "
            "AND attnum > 0 AND NOT attisdropped",
            [sql.Identifier(table.schema, table.name).as_string(conn)],
        )
    }
    values: dict[str, Any] = {"version": item.version}
    if "name" in present:
        values["name"] = item.name
    if "statements" in present:
        values["statements"] = statements
    conn.execute(
        sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            sql.Identifier(table.schema, table.name),
            sql.SQL(", ").join(sql.Identifier(k) for k in values),
            sql.SQL(", ").join(sql.Placeholder() for _ in values),
        ),
        list(values.values()),
    )


def span(versions: list[str]) -> str:
    if len(versions) <= 3:
        return ", ".join(versions)
    return f"{len(versions)} migrations, {versions[0]} to {versions[-1]}"


def deferred_step(version: str, number: int, stmt: Statement) -> Step:
    """As recorded before COMMIT: the text to run now, and the form safe to run again."""
    resume, invalid_index = idempotent_form(stmt.node) if resumable(stmt.node) else (None, None)
    location = str(stmt.location)
    return Step(
        version, number, location, stmt.text, resume, invalid_index, dropped_index(stmt.node)
    )


def body_of(script: Script) -> list[tuple[int, Statement]]:
    """Numbered statements without the file's own BEGIN/COMMIT (apply owns the transaction)."""
    found = uncommitted(script.statements)
    if found is not None:
        at = found.statement
        raise PreconditionError(f"{at.location}: {at.first_line!r}: {found.message}")
    numbered = list(enumerate(script.statements, start=1))
    kept = []
    for position, (number, stmt) in enumerate(numbered):
        node = stmt.node
        if isinstance(node, ast.TransactionStmt):
            first = position == 0 and node.kind in _OPENERS
            last = position == len(numbered) - 1 and node.kind == TK.TRANS_STMT_COMMIT
            if first or last:
                continue
            raise PreconditionError(
                f"{stmt.location}: {stmt.first_line!r}: apply runs each migration in one "
                "transaction; a migration may only wrap itself in one BEGIN ... COMMIT"
            )
        kept.append((number, stmt))
    return kept


def tally(
    item: AppliedMigration,
    statements: int,
    deferred: list[tuple[int, Statement]],
    records: list[CaptureRecord],
) -> None:
    item.statements = statements
    item.deferred = len(deferred)
    item.captures = [describe_capture(r) for r in records]
    item.captured_rows = sum(r.rows for r in records)
    item.captured_bytes = sum(r.bytes for r in records)


def opted_out(stmt: Statement, number: int, kind: Any, table: tuple[str, ...]) -> PendingCapture:
    return PendingCapture(
        CaptureRecord(
            statement=number,
            line=stmt.location.line,
            kind=kind,
            status="opted-out",
            table=".".join(table),
            reason="--no-capture: not kept; the rollback restores from the backup",
        )
    )


def run_after_commit(
    conn: Connection,
    deferred: list[tuple[int, Step]],
    check_lock: Callable[[], None],
    redactor: Redactor,
) -> None:
    """After COMMIT, one by one, each in its own implicit transaction (as execute does);
    each recorded as pending until it ran, so a run stopped here is seen by the next."""
    if not deferred:
        return
    conn.autocommit = True
    try:
        for step_id, step in deferred:
            try:
                check_lock()
                run_step(conn, step_id, step.sql, step)
            except (psycopg.Error, PostCheckError) as exc:
                raise _after_commit_failure(exc, step, redactor) from None
    finally:
        conn.autocommit = False


def _after_commit_failure(exc: Exception, step: Step, redactor: Redactor) -> RunnerError:
    # Never a retryable error: the history row is committed; the step stays pending, so the
    # next run finishes it or says what to run.
    error = translate(exc, redactor, location=step.location)
    return DeferredStatementError(
        "committed, but a statement that runs after COMMIT failed: "
        f"{error.message}; it and the ones after it are recorded as pending: "
        "the next apply finishes them when that is proven safe, else says what to run by hand",
        sqlstate=error.sqlstate,
        location=step.location,
    )


def committed_then_lost(landed: str, deferred: int, later: list[str]) -> str:
    """What a run stopped after a COMMIT that landed on a lost session says did not run."""
    left = []
    if deferred:
        left.append(
            f"its {deferred} statement(s) that run after COMMIT did not run: they are "
            "recorded as pending, and the next apply finishes them"
        )
    if later:
        left.append(f"not applied: {span(later)} (the next apply applies them)")
    return f"{landed}: committed; the session is gone, so the run stopped: {'; '.join(left)}"


def landed_probe(
    table: TableName, version: str, step_ids: list[int]
) -> Callable[[Connection], bool | None]:
    """After a COMMIT whose answer was lost: landed when the history row and every step
    written with it are there, not landed when none is; anything between is unknown."""

    def landed(conn: Connection) -> bool | None:
        row = bool(present_versions(conn, table, [version]))
        steps = count_recorded(conn, step_ids)
        if row and steps == len(step_ids):
            return True
        return False if not row and steps == 0 else None

    return landed
