"""The rollback run, step by step: connect, lock, check, assess, back up, apply, record.

This is what `migration-rollback execute` (and so the operator's Job) runs. Each step is timed
and logged; any failure stops the run at that step with a classified error, and whatever
happened, the audit row is completed, the locks are released, and the result file and report
are written. Nothing is committed unless every check passed.
"""

from __future__ import annotations

import contextlib
import signal
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import TextIO

import psycopg

from migration_rollback import __version__
from migration_rollback.conninfo import DatabaseTarget, InvalidDatabaseUrlError, parse_database_url
from migration_rollback.errors import MigrationRollbackError
from migration_rollback.jobresult import SQL_STEP, SetMember, set_sha256
from migration_rollback.project.migrations import read_regular_file
from migration_rollback.redact import Redactor
from migration_rollback.runner import audit, backup
from migration_rollback.runner.errors import (
    CommitUnknownError,
    ConnectionFailedError,
    InterruptedRunError,
    PreconditionError,
    RunnerError,
    exit_code_for,
    is_retryable,
)
from migration_rollback.runner.history import (
    applied_versions,
    check_history_table,
    check_recorded_names,
    later_versions,
    present_versions,
    versions_to_roll_back,
)
from migration_rollback.runner.impact import assess
from migration_rollback.runner.options import BackupMode, MigrationId, RunOptions
from migration_rollback.runner.plan import Plan, PlannedStatement, build_plan
from migration_rollback.runner.preflight import blocking_sessions
from migration_rollback.runner.report import render_report, render_summary
from migration_rollback.runner.restore import DataRestore, prepare_restore
from migration_rollback.runner.result import (
    BackupInfo,
    ErrorInfo,
    Outcome,
    RunResult,
    StatementOutcome,
    termination_text,
)
from migration_rollback.runner.rollback_file import (
    RollbackSource,
    check_manual,
    check_source_checksum,
    parse_rollback,
)
from migration_rollback.runner.session import (
    Connection,
    acquire_run_lock,
    backend_pid,
    connect,
    connection_broken,
    holds_run_lock,
    release_run_lock,
    set_timeouts,
    translate,
)
from migration_rollback.runner.steplog import StepLog
from migration_rollback.runner.transaction import (
    TransactionReport,
    TransactionSettings,
    run_deferred,
    run_transaction,
)

ROLLBACK_SUFFIX = "_rollback.sql"


@dataclass
class RunIO:
    """The outside world of a run, injectable so tests can capture it."""

    stdout: TextIO
    stderr: TextIO
    env: Mapping[str, str]
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


def install_signal_handlers() -> None:
    """Turn SIGTERM (Job deadline, pod deletion) into the same clean stop as Ctrl-C: psycopg
    cancels the running query, the transaction rolls back, the audit row and result are written."""

    def _stop(signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, _stop)


def execute_rollback(options: RunOptions, io: RunIO) -> RunResult:
    """Run one rollback as `options` says; never raises for a failed run (see the result)."""
    run = _Run(options, io)
    try:
        run.steps()
    except BaseException as exc:  # every way out is recorded: that is the point of the runner
        run.failed(exc)
    finally:
        run.finish()
    return run.result


def _target(options: RunOptions) -> str:
    if options.migration is not None:
        return options.migration.name
    return f"every migration newer than {options.to_version}"


class _Run:
    def __init__(self, options: RunOptions, io: RunIO) -> None:
        self.options = options
        self.io = io
        self.target, self.url_error = _parse_target(options.database_url)
        base = self.target.redactor() if self.target else Redactor.none()
        self.redactor = base.with_env(io.env)
        started = io.now()
        self.when = started.replace(microsecond=0)  # names archives and the dump file
        self.result = RunResult(
            tool_version=__version__,
            target=_target(options),
            dry_run=options.dry_run,
            database=self.target.display if self.target else "(not parsed)",
            started_at=started,
        )
        self.log = StepLog(io.stderr, self.redactor)
        self.control: Connection | None = None
        self.work: Connection | None = None
        self.audit_id: int | None = None
        self.error: BaseException | None = None
        self.outcomes: dict[int, StatementOutcome] = {}
        self.tx = TransactionReport()
        self.versions: list[str] = []
        self.restore = DataRestore()

    @property
    def _work(self) -> Connection:
        if self.work is None:
            raise RuntimeError("the rollback connection is not open")
        return self.work

    @property
    def _control(self) -> Connection:
        if self.control is None:
            raise RuntimeError("the lock and audit connection is not open")
        return self.control

    # --- the steps, in order ---------------------------------------------------------------

    def steps(self) -> None:
        self._connect()
        self._audit_start()
        with self.log.step("lock"):
            acquire_run_lock(self._control, self.options.lock_timeout)
        sources = self._preconditions()
        plan = build_plan(sources, purge=self.options.purge)
        self._record_plan(plan)
        with self.log.step("impact") as step:
            self.result.impact = assess(self._work, plan)
            step.fields["objects"] = len(self.result.impact)
        self._account(plan)
        with self.log.step("preflight") as step:
            # Read-only, and never fatal: what would block the locks is reported, not judged.
            try:
                self.result.blocking_sessions = blocking_sessions(
                    self._work,
                    plan,
                    [backend_pid(self._work), backend_pid(self._control)],
                )
            except psycopg.Error as exc:
                step.outcome = "skipped"
                self.result.warnings.append(
                    f"preflight skipped: {translate(exc, self.redactor).message}"
                )
                self._work.rollback()
            step.fields["blocking_sessions"] = len(self.result.blocking_sessions)
        self._gate(plan)
        self._backup()
        self._transaction(plan)
        with self.log.step("deferred") as step:
            if not plan.deferred:
                step.outcome = "skipped"
            run_deferred(
                self._work, plan, self.outcomes, self.redactor, dry_run=self.options.dry_run
            )

    def _connect(self) -> None:
        with self.log.step("connect") as step:
            if self.url_error is not None:
                raise self.url_error
            url = self.options.database_url
            self.control = connect(url, self.redactor, purpose="lock and audit")
            self.work = connect(url, self.redactor, purpose="rollback")
            for conn in (self.control, self.work):
                set_timeouts(conn, self.options.lock_timeout, self.options.statement_timeout)
            step.fields["server_version"] = self.work.info.server_version
            step.fields["database"] = self.result.database

    def _audit_start(self) -> None:
        with self.log.step("audit") as step:
            try:
                self.audit_id = audit.start(
                    self._control,
                    migration=self.result.target,
                    dry_run=self.options.dry_run,
                    env=self.io.env,
                )
            except psycopg.Error as exc:
                error = translate(exc, self.redactor)
                raise PreconditionError(
                    f"cannot write the audit log {audit.AUDIT_SCHEMA}.{audit.AUDIT_TABLE} "
                    f"({error.message}); the role needs CREATE on the database the first time"
                ) from None
            step.fields["audit_id"] = self.audit_id

    def _preconditions(self) -> list[RollbackSource]:
        with self.log.step("preconditions") as step:
            table = self.options.history_table
            check_history_table(self._work, table)
            applied = applied_versions(self._work, table)
            single = self.options.migration.version if self.options.migration else None
            self.versions = versions_to_roll_back(
                applied, single=single, to=self.options.to_version
            )
            self.result.migrations = list(self.versions)
            later = later_versions(applied, self.versions)
            if later:
                self.result.warnings.append(
                    f"later migrations stay applied ({', '.join(later[:5])}"
                    f"{'...' if len(later) > 5 else ''}): anything of theirs that depends on "
                    "what this rollback removes will break; consider --to"
                )
            sources = [self._load(version) for version in self.versions]
            self._check_set(sources)
            check_recorded_names(self._work, table, [s.migration for s in sources])
            # Captures kept by `apply` answer the MANUAL markers of the data they restore.
            self.restore = prepare_restore(
                self._work, sources, self.options.migrations_dir, self.options.on_conflict
            )
            check_manual(self.restore.unanswered(sources), self.options.allow_manual)
            self.result.sha256 = {s.migration.version: s.sha256 for s in sources}
            step.fields["versions"] = self.versions
            return sources

    def _check_set(self, sources: list[RollbackSource]) -> None:
        """With --expect-set-sha256: the rollbacks about to run are exactly the reviewed set
        (a migration applied or rolled back since, or a file changed, changes the digest)."""
        pinned = self.options.expect_set_sha256
        if pinned is None:
            return
        members = [SetMember(s.migration.version, s.migration.name, s.sha256) for s in sources]
        digest = set_sha256(members)
        if digest != pinned:
            raise PreconditionError(
                f"the applied migrations newer than {self.options.to_version} are "
                f"{', '.join(m.name for m in members)}; their rollbacks hash to {digest}, but "
                f"--expect-set-sha256 pins {pinned}: the set changed since it was reviewed"
            )

    def _load(self, version: str) -> RollbackSource:
        options = self.options
        single = options.migration
        if single is not None and (options.rollback_file or not single.version_only):
            migration = single
            path = options.rollback_file or options.migrations_dir / (
                migration.name + ROLLBACK_SUFFIX
            )
        else:
            path = _find_rollback_file(options.migrations_dir, version)
            migration = MigrationId.of_rollback_file(path.name)
        try:
            data = read_regular_file(path)  # a named pipe would block forever
        except OSError as exc:
            raise PreconditionError(
                f"cannot read the rollback for {migration.name}: {path}: {exc.strerror}"
            ) from None
        source = parse_rollback(migration, str(path), data, expect_sha256=options.expect_sha256)
        forward_name = source.header.get("Source") or f"{migration.name}.sql"
        forward = options.migrations_dir / Path(forward_name).name
        check_source_checksum(source, forward.read_bytes() if forward.is_file() else None)
        return source

    def _record_plan(self, plan: Plan) -> None:
        for planned in plan.all:
            self.outcomes[planned.number] = _outcome(planned)
        self.result.statements = [self.outcomes[p.number] for p in plan.statements]
        self.result.deferred = [self.outcomes[p.number] for p in plan.deferred]
        self.result.warnings += [f"skipped {note}" for note in plan.skipped]
        if plan.deferred:
            self.result.warnings.append(
                f"{len(plan.deferred)} statement(s) cannot run in a transaction: they run after "
                "COMMIT, one by one" + (" (dry run: listed only)" if self.options.dry_run else "")
            )

    def _account(self, plan: Plan) -> None:
        """Data restored from captures: loss and conflicts counted before anything runs."""
        with self.log.step("data") as step:
            if not self.restore.captures:
                step.outcome = "skipped"
                return
            self.restore.schedule(plan)
            self.result.restore = self.restore.account(self._work, plan)
            self.result.warnings += self.restore.warnings
            step.fields["captures"] = len(self.restore.captures)
            step.fields["conflicts"] = sum(e.get("conflicts", 0) for e in self.result.restore)
            self.restore.check_conflicts()

    def _gate(self, plan: Plan) -> None:
        """Data-destroying rollbacks need --allow-data-loss AND a backup; refuse before dumping."""
        with self.log.step("safety") as step:
            destructive = plan.destructive
            step.fields["destructive_statements"] = [p.number for p in destructive]
            if not destructive:
                return
            listed = "; ".join(f"[{p.number}] {p.location}: {p.summary}" for p in destructive[:5])
            if not self.options.allow_data_loss:
                raise PreconditionError(
                    f"the rollback destroys data that cannot be archived ({listed}); after "
                    "review, pass --allow-data-loss together with a backup"
                )
            if self.options.backup is BackupMode.NONE:
                raise PreconditionError(
                    f"the rollback destroys data ({listed}) and --backup none was given: a "
                    "data-destroying rollback needs --backup pg-dump or --backup require-recent"
                )

    def _backup(self) -> None:
        options = self.options
        with self.log.step("backup") as step:
            if options.backup is BackupMode.NONE:
                step.outcome = "skipped"
                self.result.backup = BackupInfo(mode="none")
                return
            assert options.backup_dir is not None
            major = self._work.info.server_version // 10000
            if options.backup is BackupMode.REQUIRE_RECENT:
                info = backup.find_recent_dump(
                    options.backup_dir,
                    max_age=options.max_age,
                    server_major=major,
                    now=self.io.now(),
                    redactor=self.redactor,
                )
            elif options.dry_run:
                info = backup.plan_dump(options.backup_dir, server_major=major)
                step.outcome = "dry-run"
            else:
                info = backup.take_dump(
                    options.database_url,
                    options.backup_dir,
                    server_major=major,
                    label=f"{self._work.info.dbname}__{'_'.join(self.versions)}"[:120],
                    when=self.when,
                    redactor=self.redactor,
                    base_env=self.io.env,
                )
            self.result.backup = info
            step.fields["path"] = info.path
            step.fields["verified"] = info.verified

    def _transaction(self, plan: Plan) -> None:
        control_pid = backend_pid(self._control)
        work = self._work
        verified_backup = bool(self.result.backup and self.result.backup.verified)
        planned_backup = self.options.dry_run and self.options.backup is BackupMode.PG_DUMP
        settings = TransactionSettings(
            history_table=self.options.history_table,
            versions=self.versions,
            when=self.when,
            dry_run=self.options.dry_run,
            data_loss_permitted=self.options.allow_data_loss
            and (verified_backup or planned_backup),
            redactor=self.redactor,
            still_locked=lambda: holds_run_lock(work, control_pid),
            committed_after_all=self._read_back_commit,
            restore=self.restore if self.restore.active else None,
        )
        with self.log.step(SQL_STEP) as step:
            try:
                run_transaction(work, plan, self.outcomes, settings, self.tx)
            finally:
                self.result.committed = self.tx.committed
                self.result.archived = self.tx.archive.archived
                self.result.dependents = self.tx.archive.dependents
                self.result.data_loss = self.tx.data_loss
                self.result.warnings += self.tx.warnings
            step.outcome = "rolled-back (dry run)" if self.options.dry_run else "committed"
            step.fields["archived"] = len(self.tx.archive.archived)

    def _read_back_commit(self) -> bool | None:
        """After a broken COMMIT: True if the history rows are gone, False if all still there."""
        try:
            with connect(self.options.database_url, self.redactor, purpose="read-back") as conn:
                left = present_versions(conn, self.options.history_table, self.versions)
        except (psycopg.Error, RunnerError):
            return None
        if not left:
            return True
        return False if len(left) == len(self.versions) else None

    # --- the end, whatever happened --------------------------------------------------------

    def failed(self, exc: BaseException) -> None:
        if isinstance(exc, KeyboardInterrupt):
            exc = InterruptedRunError(f"stopped by {exc.args[0] if exc.args else 'SIGINT'}")
        elif isinstance(exc, psycopg.Error):
            exc = translate(exc, self.redactor)
        elif not isinstance(exc, MigrationRollbackError):
            self.log.emit(
                {
                    "event": "internal-error",
                    "traceback": self.redactor.scrub(traceback.format_exc()),
                }
            )
        self.error = exc

    def finish(self) -> None:
        result = self.result
        error = self.error
        result.exit_code = exit_code_for(error)
        result.retryable = is_retryable(error)
        if error is None:
            result.outcome = (
                Outcome.DRY_RUN_SUCCEEDED if self.options.dry_run else Outcome.SUCCEEDED
            )
        elif isinstance(error, CommitUnknownError):
            result.outcome = Outcome.UNKNOWN
        elif result.committed:
            result.outcome = Outcome.COMMITTED_WITH_ERRORS
        else:
            result.outcome = Outcome.FAILED
        if error is not None:
            result.error = _error_info(error, self.redactor)
        result.finished_at = self.io.now()
        self._audit_finish()
        self._close()
        result.steps = list(self.log.timings)
        self._write_outputs()

    def _audit_finish(self) -> None:
        if self.audit_id is None:
            return
        result = self.result
        with self.log.step("audit-finish") as step:
            conn = self.control
            fresh: Connection | None = None
            try:
                if conn is None or connection_broken(conn):
                    # The lock session died with the failure: the record must still be written.
                    conn = fresh = connect(
                        self.options.database_url, self.redactor, purpose="audit"
                    )
                doc = self.redactor.scrub_obj(result.to_dict())
                audit.finish(
                    conn,
                    self.audit_id,
                    outcome=str(result.outcome),
                    sha256=",".join(result.sha256.values()) or None,
                    finished_at=result.finished_at or self.io.now(),
                    statements=doc["statements"] + doc["deferred"],
                    archived=doc["archived"],
                    error=doc["error"]["message"] if doc["error"] else None,
                )
            except (psycopg.Error, RunnerError) as exc:
                step.outcome = "failed"
                step.detail = f"audit row {self.audit_id} not completed: {exc}"
                result.warnings.append(step.detail)
            finally:
                if fresh is not None:
                    fresh.close()

    def _close(self) -> None:
        if self.control is not None and not connection_broken(self.control):
            with contextlib.suppress(psycopg.Error):  # closing the session releases it anyway
                release_run_lock(self.control)
        for conn in (self.work, self.control):
            if conn is not None:
                conn.close()

    def _write_outputs(self) -> None:
        result = self.result
        doc = self.redactor.scrub_obj(result.to_dict())
        if self.options.result_file is not None:
            self._write(self.options.result_file, termination_text(doc))
        if self.options.report_file is not None:
            self._write(self.options.report_file, self.redactor.scrub(render_report(result)))
        self.io.stdout.write(self.redactor.scrub(render_summary(result)))
        self.io.stdout.flush()
        self.log.emit(
            {
                "step": "result",
                "outcome": str(result.outcome),
                "exit_code": int(result.exit_code),
                "duration_ms": result.duration_ms,
            }
        )

    def _write(self, path: Path, text: str) -> None:
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            self.log.emit({"event": "write-failed", "path": str(path), "error": exc.strerror})


URL_WHERE = "the database URL (--database-url or MIGRATION_ROLLBACK_DATABASE_URL)"


def _parse_target(url: str) -> tuple[DatabaseTarget | None, ConnectionFailedError | None]:
    """The parsed target, or the refusal the connect step raises (recorded like any failure)."""
    try:
        return parse_database_url(url, where=URL_WHERE), None
    except InvalidDatabaseUrlError as exc:
        return None, ConnectionFailedError(str(exc), transient=False)


def _outcome(planned: PlannedStatement) -> StatementOutcome:
    return StatementOutcome(
        number=planned.number,
        version=planned.version,
        location=planned.location,
        kind=planned.statement.kind,
        action=str(planned.action),
        sql=planned.summary if planned.sql == planned.statement.text else planned.sql[:100],
        lock=planned.classification.lock.label,
    )


def _error_info(error: BaseException, redactor: Redactor) -> ErrorInfo:
    if isinstance(error, RunnerError):
        return ErrorInfo(
            error_class=type(error).__name__,
            message=redactor.scrub(error.message),
            sqlstate=error.sqlstate,
            statement=error.statement,
            location=error.location,
        )
    return ErrorInfo(error_class=type(error).__name__, message=redactor.scrub(str(error)))


def _find_rollback_file(directory: Path, version: str) -> Path:
    candidates = {p.name: p for p in directory.glob(f"{version}_*{ROLLBACK_SUFFIX}")}
    # `<v>_undo_rollback.sql` may be a forward migration whose own rollback is also listed.
    matches = sorted(
        path
        for name, path in candidates.items()
        if name.removesuffix(".sql") + ROLLBACK_SUFFIX not in candidates
    )
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise PreconditionError(
            f"no rollback file for applied migration {version} in {directory} "
            f"(expected {version}_<name>{ROLLBACK_SUFFIX}); generate it first"
        )
    raise PreconditionError(
        f"several rollback files for migration {version}: {', '.join(m.name for m in matches)}; "
        "the version is ambiguous: name the migration file (<version>_<name>) to roll back"
    )
