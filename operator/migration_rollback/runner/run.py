"""The rollback run, step by step: connect, lock, check, assess, back up, apply, record.

This is what `migration-rollback execute` (and so the operator's Job) runs. Each step is timed
and logged; any failure stops the run at that step with a classified error, and whatever
happened, the audit row is completed, the locks are released, and the result file and report
are written. Nothing is committed unless every check passed.
"""

from __future__ import annotations

import signal
from dataclasses import replace
from functools import partial
from types import FrameType

import psycopg

from migration_rollback.jobresult import SQL_STEP
from migration_rollback.redact import clip
from migration_rollback.redact_sql import sql_excerpt
from migration_rollback.runner import audit, backup
from migration_rollback.runner.commit_readback import read_back
from migration_rollback.runner.deferred_steps import pending_steps
from migration_rollback.runner.errors import PreconditionError
from migration_rollback.runner.history import (
    applied_versions,
    check_history_table,
    check_recorded_names,
    later_versions,
    present_versions,
    versions_to_roll_back,
)
from migration_rollback.runner.identity import identify, require_same
from migration_rollback.runner.impact import assess
from migration_rollback.runner.leftovers import (
    dead_runs,
    invalid_left,
    sort_for_execute,
)
from migration_rollback.runner.options import BackupMode, RunOptions
from migration_rollback.runner.plan import Action, Plan, PlannedStatement, build_plan, keeping
from migration_rollback.runner.preflight import blocking_sessions
from migration_rollback.runner.restore import prepare_restore
from migration_rollback.runner.restore_definitions import KEPT_EXISTED
from migration_rollback.runner.result import BackupInfo, RunResult, StatementOutcome
from migration_rollback.runner.rollback_file import RollbackSource, check_cascade, check_manual
from migration_rollback.runner.run_record import RunIO, RunState
from migration_rollback.runner.run_sources import (
    check_set,
    has_migration_file,
    load_rollback,
    unchecked_source,
)
from migration_rollback.runner.session import (
    Connection,
    acquire_run_lock,
    backend_pid,
    connect,
    holds_run_lock,
    set_timeouts,
    translate,
)
from migration_rollback.runner.transaction import (
    TransactionSettings,
    run_deferred,
    run_transaction,
)


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


class _Run(RunState):
    """The steps, in order; the state they fill in and the recording are in run_record.py."""

    def steps(self) -> None:
        self._connect()
        self._audit_start()
        with self.log.step("lock"):
            acquire_run_lock(self._control, self.options.lock_timeout)
            self._leftovers()
        sources = self._preconditions()
        # A step undoing an IF NOT EXISTS that apply saw change nothing is kept, not run.
        plan = keeping(build_plan(sources, purge=self.options.purge), self.restore.keeps_step)
        self._record_plan(plan)
        with self.log.step("impact") as step:
            self.result.impact = assess(self._work, plan)
            step.fields["objects"] = len(self.result.impact)
        self._account(plan)
        self._preflight(plan)
        self._gate(plan)
        self._backup()
        self._transaction(plan)
        self._deferred(plan)
        if not self.options.dry_run:
            self.result.warnings += invalid_left(self._work, self.leftovers.superseded)

    def _connect(self) -> None:
        with self.log.step("connect") as step:
            if self.url_error is not None:
                raise self.url_error
            url = self.dsn
            self.control = connect(url, self.redactor, purpose="lock and audit")
            self.work = connect(url, self.redactor, purpose="rollback")
            for conn in (self.control, self.work):
                set_timeouts(conn, self.options.lock_timeout, self.options.statement_timeout)
            step.fields["server_version"] = self.work.info.server_version
            step.fields["database"] = self.result.database
            self._identify()

    def _identify(self) -> None:
        """Before the audit row (the first write): a pinned database that is not this one
        leaves this one untouched."""
        where = self.target.identity if self.target else "unknown"
        self.result.database_identity = identify(self._control, where)
        require_same(self.result.database_identity, self.options.expect_database)

    def _audit_start(self) -> None:
        with self.log.step("audit") as step:
            try:
                self.audit_id = audit.start(
                    self._control,
                    migration=self.result.target,
                    dry_run=self.options.dry_run,
                    env=self.io.env,
                    redactor=self.redactor,
                )
            except psycopg.Error as exc:
                error = translate(exc, self.redactor)
                raise PreconditionError(
                    f"cannot write the audit log {audit.AUDIT_SCHEMA}.{audit.AUDIT_TABLE} "
                    f"({error.message}); {audit.refusal_hint(exc.sqlstate)}"
                ) from None
            step.fields["audit_id"] = self.audit_id

    def _leftovers(self) -> None:
        """What a dead earlier run left is reported, never finished and never a reason to stop:
        this is the emergency path (see leftovers.py); the steps are sorted once the versions
        to roll back are known."""
        try:
            self.result.warnings += dead_runs(
                self._work, self.audit_id, self.options.lock_timeout, dry_run=self.options.dry_run
            )
            self.pending = pending_steps(self._work, self.options.history_table)
        except psycopg.Error as exc:
            raise translate(exc, self.redactor, context="reading what earlier runs left") from None

    def _preconditions(self) -> list[RollbackSource]:
        with self.log.step("preconditions") as step:
            table = self.options.history_table
            check_history_table(self._work, table)
            applied = applied_versions(self._work, table)
            single = self.options.migration.version if self.options.migration else None
            try:
                self.versions = versions_to_roll_back(
                    applied,
                    single=single,
                    to=self.options.to_version,
                    has_file=partial(has_migration_file, self.options.migrations_dir),
                )
            finally:  # reported even when there is nothing to roll back
                self._sort_leftovers(applied)
            self.result.migrations = list(self.versions)
            self._warn_later(later_versions(applied, self.versions))
            sources = [load_rollback(self.options, version) for version in self.versions]
            unchecked = (unchecked_source(self.options, source) for source in sources)
            self.result.unchecked_sources = [str(path) for path in unchecked if path]
            check_set(self.options, sources)
            check_recorded_names(self._work, table, [s.migration for s in sources])
            # Captures kept by `apply` answer the MANUAL markers of the data they restore.
            self.restore = prepare_restore(
                self._work, sources, self.options.migrations_dir, self.options.on_conflict
            )
            check_manual(self.restore.unanswered(sources), self.options.allow_manual)
            check_cascade(sources, self.options.allow_cascade, purge=self.options.purge)
            self.result.sha256 = {s.migration.version: s.sha256 for s in sources}
            step.fields["versions"] = self.versions
            return sources

    def _sort_leftovers(self, applied: list[str]) -> None:
        self.leftovers = sort_for_execute(self.pending, applied, self.versions)
        self.result.warnings += self.leftovers.warnings()

    def _warn_later(self, later: list[str]) -> None:
        if later:
            self.result.warnings.append(
                f"later migrations stay applied ({', '.join(later[:5])}"
                f"{'...' if len(later) > 5 else ''}): anything of theirs that depends on "
                "what this rollback removes will break; consider --to"
            )

    def _record_plan(self, plan: Plan) -> None:
        for planned in plan.all:
            self.outcomes[planned.number] = _outcome(planned)
        for planned in plan.kept:  # listed where they would have run, with why they did not
            self.outcomes[planned.number] = replace(
                _outcome(planned), status="kept", note=KEPT_EXISTED
            )
        self.result.statements = self._listed(plan.statements, plan.kept, deferred=False)
        self.result.deferred = self._listed(plan.deferred, plan.kept, deferred=True)
        self.result.warnings += [f"skipped {note}" for note in plan.skipped]
        if plan.deferred:
            self.result.warnings.append(
                f"{len(plan.deferred)} statement(s) cannot run in a transaction: they run after "
                "COMMIT, one by one" + (" (dry run: listed only)" if self.options.dry_run else "")
            )

    def _listed(
        self,
        planned: tuple[PlannedStatement, ...],
        kept: tuple[PlannedStatement, ...],
        *,
        deferred: bool,
    ) -> list[StatementOutcome]:
        also = [p for p in kept if (p.action is Action.DEFERRED) == deferred]
        return [self.outcomes[p.number] for p in sorted([*planned, *also], key=_number)]

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

    def _preflight(self, plan: Plan) -> None:
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

    def _backup(self) -> None:
        with self.log.step("backup") as step:
            if self.options.backup is BackupMode.NONE:
                step.outcome = "skipped"
                self.result.backup = BackupInfo(mode="none")
                return
            info = self._find_or_take_dump()
            if self.options.backup is BackupMode.PG_DUMP and self.options.dry_run:
                step.outcome = "dry-run"
            self.result.backup = info
            step.fields["path"] = info.path
            step.fields["verified"] = info.verified

    def _find_or_take_dump(self) -> BackupInfo:
        options = self.options
        assert options.backup_dir is not None
        major = self._work.info.server_version // 10000
        if options.backup is BackupMode.REQUIRE_RECENT:
            return backup.find_recent_dump(
                options.backup_dir,
                max_age=options.max_age,
                server_major=major,
                now=self.io.now(),
                redactor=self.redactor,
            )
        if options.dry_run:
            return backup.plan_dump(options.backup_dir, server_major=major)
        return backup.take_dump(
            self._work,
            options.backup_dir,
            server_major=major,
            label=f"{self._work.info.dbname}__{'_'.join(self.versions)}"[:120],
            when=self.when,
            redactor=self.redactor,
            base_env=self.io.env,
        )

    def _transaction(self, plan: Plan) -> None:
        settings = self._tx_settings = self._settings()
        with self.log.step(SQL_STEP) as step:
            try:
                run_transaction(self._work, plan, self.outcomes, settings, self.tx)
            finally:
                self.result.committed = self.tx.committed
                self.result.commit_read_back = self.tx.read_back
                self.result.archived = self.tx.archive.archived
                self.result.dependents = self.tx.archive.dependents
                self.result.data_loss = self.tx.data_loss
                self.result.warnings += self.tx.warnings
            step.outcome = "rolled-back (dry run)" if self.options.dry_run else "committed"
            step.fields["archived"] = len(self.tx.archive.archived)

    def _settings(self) -> TransactionSettings:
        control_pid = backend_pid(self._control)
        work = self._work
        verified_backup = bool(self.result.backup and self.result.backup.verified)
        planned_backup = self.options.dry_run and self.options.backup is BackupMode.PG_DUMP
        return TransactionSettings(
            history_table=self.options.history_table,
            versions=self.versions,
            when=self.when,
            dry_run=self.options.dry_run,
            data_loss_permitted=self.options.allow_data_loss
            and (verified_backup or planned_backup),
            redactor=self.redactor,
            still_locked=lambda: holds_run_lock(work, control_pid),
            committed_after_all=partial(read_back, self.dsn, self.redactor, self._rows_gone),
            restore=self.restore if self.restore.active else None,
            closes=self.leftovers.closes(),
        )

    def _rows_gone(self, conn: Connection) -> bool | None:
        """After a COMMIT whose answer was lost (commit_readback.py): landed if the history
        rows are gone, not landed if all are still there."""
        left = present_versions(conn, self.options.history_table, self.versions)
        if not left:
            return True
        return False if len(left) == len(self.versions) else None

    # --- the end, whatever happened --------------------------------------------------------

    def _deferred(self, plan: Plan) -> None:
        with self.log.step("deferred") as step:
            if not plan.deferred:
                step.outcome = "skipped"
            run_deferred(self._work, plan, self.outcomes, self._tx_settings, self.tx)


def _number(planned: PlannedStatement) -> int:
    return planned.number


def _outcome(planned: PlannedStatement) -> StatementOutcome:
    return StatementOutcome(
        number=planned.number,
        version=planned.version,
        location=planned.location,
        kind=planned.statement.kind,
        action=str(planned.action),
        sql=(
            planned.summary
            if planned.sql == planned.statement.text
            else clip(sql_excerpt(planned.sql), 100)
        ),
        lock=planned.classification.lock.label,
    )
