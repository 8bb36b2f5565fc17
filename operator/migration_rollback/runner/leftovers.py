"""What earlier runs left unfinished, looked at by every run once it holds the run lock.

A run killed (or failed) after its COMMIT leaves statements that run after it (see
deferred_steps.py) and an audit row that still says `running`. Holding the run lock proves no
other run is alive, so both are leftovers of a dead run. `apply` finishes the steps proven safe
to run again (a dry run only lists them) and refuses any other with the statement to run.
`execute` is the emergency path: it never finishes and never refuses on them. The steps of the
versions it rolls back are superseded by the rollback (closed in the transaction that deletes
their history rows); the others are only reported. A step whose version's history changed
since it was recorded is obsolete either way: closed, not run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import psycopg
from psycopg import sql

from migration_rollback.redact import Redactor
from migration_rollback.runner.audit import AUDIT_SCHEMA, AUDIT_TABLE
from migration_rollback.runner.audit import check_shape as check_audit_shape
from migration_rollback.runner.deferred_steps import (
    PendingStep,
    close,
    describe,
    mark_done_hint,
    refuse_unproven,
    run_step,
)
from migration_rollback.runner.errors import PostCheckError, PreconditionError
from migration_rollback.runner.relations import regclass_text, relation_exists
from migration_rollback.runner.session import Connection, translate

_AUDIT = sql.Identifier(AUDIT_SCHEMA, AUDIT_TABLE)


def obsolete(pending: PendingStep, applied: Sequence[str]) -> bool:
    """An apply's step of a version no longer applied, or an execute's of one applied again."""
    return (pending.step.version in applied) == (pending.command == "execute")


def settle_for_apply(
    conn: Connection,
    pending: list[PendingStep],
    *,
    applied: Sequence[str],
    dry_run: bool,
    check_lock: Callable[[], None],
    redactor: Redactor,
) -> list[str]:
    """Finish or refuse what earlier runs left; the warnings to report (autocommit `conn`)."""
    stale = [p for p in pending if obsolete(p, applied)]
    warnings = [_obsolete_warning(p, dry_run) for p in stale]
    if not dry_run:
        close(conn, [p.id for p in stale], "obsolete")
    live = [p for p in pending if p not in stale]
    if not live:
        return warnings
    refuse_unproven(live)
    if dry_run:
        return [*warnings, "a real run would first finish: " + describe(live)]
    for step in live:
        check_lock()
        warnings.append(_finish(conn, step, redactor))
    return warnings


def _obsolete_warning(pending: PendingStep, dry_run: bool) -> str:
    return (
        f"ignored{' (a real run marks it obsolete)' if dry_run else ', marked obsolete'}: "
        f"{describe([pending])}; version {pending.step.version}'s history changed since"
    )


def _finish(conn: Connection, pending: PendingStep, redactor: Redactor) -> str:
    """One step an earlier run left, in its form safe to run again; what was done."""
    step = pending.step
    assert step.resume_sql is not None  # refuse_unproven let only these through
    try:
        run_step(conn, pending.id, step.resume_sql, step, pending.index_oid)
    except (psycopg.Error, PostCheckError) as exc:
        message = translate(exc, redactor, location=step.location).message  # both kinds
        raise PreconditionError(
            f"{describe([pending])}; finishing it failed: {message}. Fix the cause and run "
            "again, or run it by hand and " + mark_done_hint([pending])
        ) from None
    return (
        f"finished what an earlier {pending.command} of {step.version} left (failed or stopped "
        f"after COMMIT): statement {step.number} ({step.location}): {step.resume_sql}"
    )


@dataclass
class ExecuteLeftovers:
    """How `execute` treats each pending step: closed with the history delete, or reported."""

    superseded: list[PendingStep] = field(default_factory=list)
    obsolete: list[PendingStep] = field(default_factory=list)
    reported: list[PendingStep] = field(default_factory=list)

    def closes(self) -> dict[str, list[int]]:
        return {
            "superseded": [p.id for p in self.superseded],
            "obsolete": [p.id for p in self.obsolete],
        }

    def warnings(self) -> list[str]:
        return [
            *(f"superseded by this rollback (not run): {describe([p])}" for p in self.superseded),
            *(f"ignored, obsolete: {describe([p])}" for p in self.obsolete),
            *(
                f"left pending, not run by execute: {describe([p])}; the next apply finishes "
                "it when that is proven safe, else says what to run"
                for p in self.reported
            ),
        ]


def sort_for_execute(
    pending: Sequence[PendingStep], applied: Sequence[str], rolled_back: Sequence[str]
) -> ExecuteLeftovers:
    sorted_ = ExecuteLeftovers()
    for p in pending:
        if obsolete(p, applied):
            sorted_.obsolete.append(p)
        elif p.step.version in rolled_back:
            sorted_.superseded.append(p)
        else:
            sorted_.reported.append(p)
    return sorted_


_INVALID = "SELECT NOT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)"


def invalid_left(conn: Connection, superseded: Sequence[PendingStep]) -> list[str]:
    """After the rollback: an INVALID index the failed build of a rolled-back migration left,
    which the rollback did not drop, named so the user can drop it (never dropped here: only
    the rollback's own statements act)."""
    names = [p.step.invalid_index for p in superseded if p.step.invalid_index]
    left = [name for name in names if _row(conn, _INVALID, [regclass_text(conn, name)])]
    return [
        f"INVALID index {sql.Identifier(*name).as_string(conn)} from a failed CREATE INDEX "
        "CONCURRENTLY of a rolled-back migration is still there (its rollback does not drop "
        f"it): DROP INDEX CONCURRENTLY {sql.Identifier(*name).as_string(conn)}"
        for name in left
    ]


def _row(conn: Connection, query: str, params: list[object]) -> bool:
    row = conn.execute(query, params).fetchone()
    return bool(row and row[0])


def dead_runs(
    conn: Connection, own_audit_id: int | None, lock_wait: timedelta, *, dry_run: bool = False
) -> list[str]:
    """Audit rows still `running` while this run holds the lock: their runs died. Each is
    reported once: then marked `died` (a dry run writes nothing; a role that may not update
    the audit log reports it again, nothing else).

    A run writes its row before it waits for the lock, so a row younger than this run's lock
    wait may belong to a run still waiting behind this one: those are left out (a run waiting
    with a longer --lock-timeout is the one case the wording allows for)."""
    if not relation_exists(conn, _AUDIT):
        return []
    check_audit_shape(conn)
    rows = conn.execute(
        sql.SQL(
            "SELECT id, migration, started_at::text, dry_run FROM {} "
            "WHERE outcome = 'running' AND id IS DISTINCT FROM %s "
            "AND started_at < now() - %s ORDER BY id"
        ).format(_AUDIT),
        [own_audit_id, lock_wait],
    ).fetchall()
    if rows and not dry_run:
        _mark_died(conn, [int(r[0]) for r in rows])
    return [
        f"audit row {r[0]} ({'dry run of ' if r[3] else ''}{r[1]}, started {r[2]}) still said "
        "'running' while this run holds the run lock: that run died without recording how it "
        "ended (or still waits for the lock with a longer --lock-timeout); check what it did"
        + ("" if dry_run else " (the row now says 'died')")
        for r in rows
    ]


def _mark_died(conn: Connection, ids: list[int]) -> None:
    # A role that may not update the audit log reports the row again next time: better than
    # stopping the run over bookkeeping.
    with contextlib.suppress(psycopg.errors.InsufficientPrivilege):
        conn.execute(
            sql.SQL("UPDATE {} SET outcome = 'died' WHERE id = ANY(%s) AND outcome = 'running'")
            .format(_AUDIT),
            [ids],
        )  # fmt: skip
