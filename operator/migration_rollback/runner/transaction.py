"""The one transaction that applies the rollback, its checks before COMMIT, and what follows.

All statements of all migrations being rolled back, the archive moves and the history-row
deletion share a single transaction: either the database is rolled back completely or not at
all. Before COMMIT the runner checks its own work (dropped objects gone, history rows gone, no
unannounced data loss, the run lock still ours); a dry run stops there with ROLLBACK. If the
connection breaks during COMMIT, the outcome is read back from the history table instead of
guessed. Statements PostgreSQL refuses in a transaction run afterwards, one by one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import psycopg
from psycopg import sql

from migration_rollback.redact import Redactor
from migration_rollback.runner.archive import ArchiveOutcome, archive_tables
from migration_rollback.runner.archive_columns import copy_columns
from migration_rollback.runner.audit import AUDIT_SCHEMA
from migration_rollback.runner.catalog_path import CatalogPath, guard_session
from migration_rollback.runner.commit_readback import ReadBack, commit_or_read_back, raise_for
from migration_rollback.runner.deferred_index import dropped_index
from migration_rollback.runner.deferred_steps import (
    Step,
    close,
    record_pending,
    resumable,
    run_step,
)
from migration_rollback.runner.errors import (
    DeferredStatementError,
    PostCheckError,
)
from migration_rollback.runner.guard import RelationState, Snapshot, lost_data, snapshot_of
from migration_rollback.runner.history import delete_versions, present_versions
from migration_rollback.runner.naming import ARCHIVE_SCHEMA
from migration_rollback.runner.options import TableName
from migration_rollback.runner.plan import Action, DropTarget, Plan, PlannedStatement
from migration_rollback.runner.relations import regclass_text, resolve_relation
from migration_rollback.runner.result import StatementOutcome
from migration_rollback.runner.session import RUN_LOCK_LOST, Connection, Session, translate


@dataclass
class TransactionSettings:
    history_table: TableName
    versions: list[str]
    when: datetime
    dry_run: bool
    data_loss_permitted: bool
    redactor: Redactor
    still_locked: Callable[[], bool]
    committed_after_all: Callable[[Session], ReadBack]  # after a COMMIT whose answer was lost
    restore: RestoreHook | None = None  # data restored from `apply` captures, if any
    # Leftover steps closed with the history delete (leftovers.ExecuteLeftovers.closes).
    closes: dict[str, list[int]] = field(default_factory=dict)

    def check_lock(self) -> None:
        """Before each statement after COMMIT too: another runner may hold the lock now."""
        if not self.still_locked():
            raise PostCheckError(RUN_LOCK_LOST)


class RestoreHook(Protocol):
    """Restore steps placed between the rollback's statements (runner/restore.py)."""

    def begin(self, conn: Connection) -> None: ...

    def before_statement(self, conn: Connection, number: int) -> None: ...

    def finish(self, conn: Connection) -> None: ...


@dataclass
class TransactionReport:
    """What the transaction did (also filled in when it fails, as far as it got)."""

    archive: ArchiveOutcome = field(default_factory=ArchiveOutcome)
    data_loss: list[str] = field(default_factory=list)
    committed: bool = False
    read_back: str | None = None  # of a COMMIT whose answer was lost (commit_readback.py)
    warnings: list[str] = field(default_factory=list)
    deferred_ids: list[int] = field(default_factory=list)  # their pending records, in order


@dataclass(frozen=True, slots=True)
class ResolvedDrop:
    target: DropTarget
    oid: int
    attnum: int | None = None


def run_transaction(
    conn: Connection,
    plan: Plan,
    outcomes: dict[int, StatementOutcome],
    settings: TransactionSettings,
    report: TransactionReport,
) -> None:
    """Apply the plan's transactional part and COMMIT (ROLLBACK for a dry run)."""
    conn.autocommit = False
    path = CatalogPath(conn)
    try:
        path.guard()  # a role's search_path may already put another schema first
        before = _snapshot(conn, include_archive=False)
        resolved: list[ResolvedDrop] = []
        hook = settings.restore
        if hook is not None:
            hook.begin(conn)
        for planned in plan.statements:
            if hook is not None:
                hook.before_statement(conn, planned.number)
            outcome = outcomes[planned.number]
            resolved += _run_statement(path, planned, outcome, settings, report)
        if hook is not None:
            hook.finish(conn)
        _forget_versions(conn, settings)
        if not settings.dry_run:  # pending with the history change: a stop after COMMIT shows
            history = settings.history_table
            report.deferred_ids = record_pending(conn, "execute", history, deferred_steps(plan))
            for how, ids in settings.closes.items():
                close(conn, ids, how)
        _post_checks(conn, resolved, before, settings, report)
    except BaseException as exc:
        _abandon(conn)
        if isinstance(exc, psycopg.Error):
            raise translate(exc, settings.redactor) from None
        raise
    if settings.dry_run:
        conn.rollback()
        conn.autocommit = True
        return
    _commit(conn, settings, report)
    conn.autocommit = True
    guard_session(conn)  # a plain SET search_path of the rollback outlives its COMMIT


def _abandon(conn: Connection) -> None:
    """Roll back; if the connection is already gone the server has rolled back for us."""
    if conn.closed or conn.broken:
        return
    try:
        conn.rollback()
    except psycopg.Error:
        conn.close()


def _run_statement(
    path: CatalogPath,
    planned: PlannedStatement,
    outcome: StatementOutcome,
    settings: TransactionSettings,
    report: TransactionReport,
) -> list[ResolvedDrop]:
    start, conn = time.monotonic(), path.conn
    try:
        resolved = _resolve_drops(conn, planned.drops)
        if planned.action is Action.ARCHIVE_TABLES:
            archived = archive_tables(conn, planned, settings.when)
            _merge(report.archive, archived)
            outcome.command = f"ARCHIVED {len(archived.archived)} TABLE(S)"
            outcome.rows = sum(a.rows or 0 for a in archived.archived)
        else:
            if planned.action is Action.COPY_COLUMNS:
                _merge(report.archive, copy_columns(conn, planned, settings.when))
            cur = path.run(planned.sql)
            outcome.command = cur.statusmessage
            outcome.rows = cur.rowcount if cur.rowcount >= 0 else None
        outcome.status = "done"
        return resolved
    except psycopg.Error as exc:
        error = translate(
            exc, settings.redactor, statement=planned.number, location=planned.location
        )
        outcome.status = "failed"
        outcome.error = error.message
        raise error from None
    finally:
        outcome.duration_ms = int((time.monotonic() - start) * 1000)


def _merge(into: ArchiveOutcome, new: ArchiveOutcome) -> None:
    into.archived += new.archived
    into.dependents += new.dependents
    into.moved_oids += new.moved_oids
    into.copied_columns += new.copied_columns


def _resolve_drops(conn: Connection, drops: tuple[DropTarget, ...]) -> list[ResolvedDrop]:
    """The identity of what each target names right now, to check it is gone afterwards."""
    resolved: list[ResolvedDrop] = []
    for target in drops:
        found = _identity(conn, target)
        if found is not None:
            resolved.append(ResolvedDrop(target, *found))
    return resolved


def _identity(conn: Connection, target: DropTarget) -> tuple[int, int | None] | None:
    """(oid, attnum for a column) of what the target names, or None when nothing is there."""
    if target.kind == "relation":
        oid = resolve_relation(conn, target.name)
        return None if oid is None else (oid, None)
    if target.kind == "schema":
        row = conn.execute(
            "SELECT to_regnamespace(%s)::oid", [sql.Identifier(*target.name).as_string(conn)]
        ).fetchone()
        return None if row is None or row[0] is None else (int(row[0]), None)
    row = conn.execute(
        "SELECT attrelid, attnum FROM pg_attribute WHERE attrelid = to_regclass(%s) "
        "AND attname = %s AND attnum > 0 AND NOT attisdropped",
        [regclass_text(conn, target.name), target.column],
    ).fetchone()
    if row is None or row[0] is None:
        return None
    return int(row[0]), int(row[1]) if target.kind == "column" else None


def _forget_versions(conn: Connection, settings: TransactionSettings) -> None:
    try:
        removed = delete_versions(conn, settings.history_table, settings.versions)
    except psycopg.Error as exc:
        raise translate(exc, settings.redactor, context="deleting the history rows") from None
    if removed != len(settings.versions):
        raise PostCheckError(
            f"expected to delete {len(settings.versions)} row(s) from {settings.history_table}, "
            f"deleted {removed}: the history changed during the run"
        )


def _post_checks(
    conn: Connection,
    resolved: list[ResolvedDrop],
    before: Snapshot,
    settings: TransactionSettings,
    report: TransactionReport,
) -> None:
    problems: list[str] = []
    moved = set(report.archive.moved_oids)
    for drop in resolved:
        problem = _still_there(conn, drop, moved)
        if problem:
            problems.append(problem)
    left = present_versions(conn, settings.history_table, settings.versions)
    if left:
        problems.append(f"history rows still present for {', '.join(left)}")
    lost = lost_data(before, _snapshot(conn, include_archive=True), report.archive.copied_columns)
    if lost and not settings.data_loss_permitted:
        problems.append(
            "the rollback would destroy data that is not archived: "
            + ", ".join(lost[:10])
            + (f" (and {len(lost) - 10} more)" if len(lost) > 10 else "")
            + "; review it, then pass --allow-data-loss with a verified backup"
        )
    elif lost:
        report.data_loss = lost  # permitted: recorded as destroyed, with the backup to show
    if not settings.still_locked():
        problems.append(RUN_LOCK_LOST)
    if problems:
        raise PostCheckError("check before COMMIT failed: " + "; ".join(problems))


def _still_there(conn: Connection, drop: ResolvedDrop, moved: set[int]) -> str | None:
    name = drop.target.describe()
    if drop.target.kind == "schema":
        row = conn.execute("SELECT 1 FROM pg_namespace WHERE oid = %s", [drop.oid]).fetchone()
        return f"{name} still exists" if row else None
    if drop.target.kind == "relation":
        row = conn.execute(
            "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.oid = %s",
            [drop.oid],
        ).fetchone()
        if row is None:
            return None
        if drop.oid in moved:
            return None if row[0] == ARCHIVE_SCHEMA else f"{name} was not moved to the archive"
        return f"{name} still exists"
    if drop.oid in moved:
        return None  # the column's table was archived whole later in the script
    row = conn.execute(
        "SELECT 1 FROM pg_attribute WHERE attrelid = %s AND attnum = %s AND NOT attisdropped",
        [drop.oid, drop.attnum],
    ).fetchone()
    return f"{name} still exists" if row else None


_SNAPSHOT = sql.SQL(
    """
    SELECT c.oid, n.nspname, c.relname, c.relkind,
           coalesce(array_agg(a.attnum ORDER BY a.attnum) FILTER (WHERE a.attnum > 0), '{{}}'),
           coalesce(array_agg(a.attname ORDER BY a.attnum) FILTER (WHERE a.attnum > 0), '{{}}')
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attribute a
      ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND c.relkind <> 'S'
    WHERE c.relkind IN ('r', 'p', 'S')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', {audit})
      AND n.nspname NOT LIKE 'pg\\_temp\\_%%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%%'
      AND (%s OR n.nspname <> {archive})
    GROUP BY c.oid, n.nspname, c.relname, c.relkind
    """
).format(audit=sql.Literal(AUDIT_SCHEMA), archive=sql.Literal(ARCHIVE_SCHEMA))


def _snapshot(conn: Connection, *, include_archive: bool) -> dict[int, RelationState]:
    rows = conn.execute(_SNAPSHOT, [include_archive]).fetchall()
    return snapshot_of(
        RelationState(
            oid=int(oid),
            schema=str(schema),
            name=str(name),
            relkind=str(relkind),
            columns=dict(zip((int(n) for n in attnums), (str(a) for a in attnames), strict=True)),
        )
        for oid, schema, name, relkind, attnums, attnames in rows
    )


def _commit(conn: Connection, settings: TransactionSettings, report: TransactionReport) -> None:
    """COMMIT; a lost answer (signal, broken connection) is read back (commit_readback.py)."""
    try:
        answer = commit_or_read_back(conn, settings.committed_after_all)
    except psycopg.Error as exc:
        raise translate(exc, settings.redactor, context="COMMIT") from None
    report.committed = answer.landed
    report.read_back = str(answer.read_back) if answer.read_back else None
    warning = raise_for(answer, "the rollback of " + ", ".join(settings.versions))
    if warning is not None:
        report.warnings.append(warning)


def deferred_steps(plan: Plan) -> list[Step]:
    """The plan's deferred statements as recorded before COMMIT (already idempotent forms)."""
    return [
        Step(
            version=p.version,
            number=p.number,
            location=p.location,
            sql=p.sql,
            resume_sql=p.sql if resumable(p.statement.node) else None,
            invalid_index=p.replaces_invalid_index,
            dropped_index=dropped_index(p.statement.node),
        )
        for p in plan.deferred
    ]


def run_deferred(
    conn: Connection,
    plan: Plan,
    outcomes: dict[int, StatementOutcome],
    settings: TransactionSettings,
    report: TransactionReport,
) -> None:
    """Statements that cannot run in a transaction, after COMMIT, each idempotent."""
    if settings.dry_run:
        for planned in plan.deferred:
            outcomes[planned.number].status = "listed"
        return
    ids: list[int | None] = [*report.deferred_ids] or [None] * len(plan.deferred)
    steps = deferred_steps(plan)
    for position, planned in enumerate(plan.deferred):
        outcome = outcomes[planned.number]
        start = time.monotonic()
        try:
            _run_one_deferred(conn, planned, (ids[position], steps[position]), outcome, settings)
        except DeferredStatementError:
            for later in plan.deferred[position + 1 :]:
                outcomes[later.number].status = "not run"
            raise
        finally:
            outcome.duration_ms = int((time.monotonic() - start) * 1000)


def _run_one_deferred(
    conn: Connection,
    planned: PlannedStatement,
    recorded: tuple[int | None, Step],
    outcome: StatementOutcome,
    settings: TransactionSettings,
) -> None:
    """One deferred statement, its outcome filled in; a failure as DeferredStatementError."""
    try:
        settings.check_lock()
        outcome.command = run_step(conn, recorded[0], planned.sql, recorded[1])
        outcome.status = "done"
    except (psycopg.Error, PostCheckError) as exc:
        error = translate(
            exc, settings.redactor, statement=planned.number, location=planned.location
        )
        outcome.status = "failed"
        outcome.error = error.message
        raise DeferredStatementError(
            f"committed, but deferred statement {planned.number} failed: {error.message}; "
            "it and the ones after it are recorded as pending: the next run finishes them "
            "(they are idempotent), or run them by hand",
            sqlstate=error.sqlstate,
            statement=planned.number,
            location=planned.location,
        ) from None
