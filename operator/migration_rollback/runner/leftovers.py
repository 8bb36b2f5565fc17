"""What earlier runs left unfinished, looked at by every run once it holds the run lock.

A run killed after its COMMIT leaves statements that run after it (see deferred_steps.py) and
an audit row that still says `running`. Holding the run lock proves no other run is alive, so
both are leftovers of a dead run: steps proven safe to run again are finished (a dry run only
lists them), any other stops the run with the statement to run, and each such audit row is
reported as left by a run that died, its outcome unknown.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import psycopg
from psycopg import sql

from migration_rollback.redact import Redactor
from migration_rollback.runner.audit import AUDIT_SCHEMA, AUDIT_TABLE
from migration_rollback.runner.deferred_steps import (
    PendingStep,
    describe,
    mark_done_hint,
    pending_steps,
    refuse_unproven,
    run_step,
)
from migration_rollback.runner.errors import PreconditionError
from migration_rollback.runner.relations import relation_exists
from migration_rollback.runner.session import Connection, translate

_AUDIT = sql.Identifier(AUDIT_SCHEMA, AUDIT_TABLE)


def settle_leftovers(
    conn: Connection,
    *,
    dry_run: bool,
    check_lock: Callable[[], None],
    lock_wait: timedelta,
    redactor: Redactor,
    own_audit_id: int | None = None,
) -> list[str]:
    """Finish or refuse what earlier runs left; the warnings to report (autocommit `conn`)."""
    warnings = dead_runs(conn, own_audit_id, lock_wait)
    pending = pending_steps(conn)
    if not pending:
        return warnings
    refuse_unproven(pending)
    if dry_run:
        return [*warnings, "a real run would first finish: " + describe(pending)]
    for step in pending:
        check_lock()
        warnings.append(_finish(conn, step, redactor))
    return warnings


def _finish(conn: Connection, pending: PendingStep, redactor: Redactor) -> str:
    """One step an earlier run left, in its form safe to run again; what was done."""
    step = pending.step
    assert step.resume_sql is not None  # refuse_unproven let only these through
    try:
        run_step(conn, pending.id, step.resume_sql, step.invalid_index)
    except psycopg.Error as exc:
        error = translate(exc, redactor, location=step.location)
        raise PreconditionError(
            f"an earlier run was stopped before it finished: {describe([pending])}; finishing "
            f"it failed: {error.message}. Fix the cause and run again, or run it by hand and "
            + mark_done_hint([pending])
        ) from None
    return (
        f"finished what an earlier {pending.command} of {step.version} left (stopped after "
        f"COMMIT): statement {step.number} ({step.location}): {step.resume_sql}"
    )


def dead_runs(conn: Connection, own_audit_id: int | None, lock_wait: timedelta) -> list[str]:
    """Audit rows still `running` while this run holds the lock: their runs died.

    A run writes its row before it waits for the lock, so a row younger than this run's lock
    wait may belong to a run still waiting behind this one: those are left out (a run waiting
    with a longer --lock-timeout is the one case the wording allows for)."""
    if not relation_exists(conn, _AUDIT):
        return []
    rows = conn.execute(
        sql.SQL(
            "SELECT id, migration, started_at::text, dry_run FROM {} "
            "WHERE outcome = 'running' AND id IS DISTINCT FROM %s "
            "AND started_at < now() - %s ORDER BY id"
        ).format(_AUDIT),
        [own_audit_id, lock_wait],
    ).fetchall()
    return [
        f"audit row {r[0]} ({'dry run of ' if r[3] else ''}{r[1]}, started {r[2]}) still says "
        "'running' while this run holds the run lock: that run died without recording how it "
        "ended (or still waits for the lock with a longer --lock-timeout); check what it did"
        for r in rows
    ]
