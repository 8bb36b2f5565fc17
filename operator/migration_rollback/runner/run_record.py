"""What a run carries from step to step, and how it is recorded whatever happened.

Every way out of a run ends here: the failure is classified (an interrupt, a database error
translated, an internal error logged with its scrubbed traceback), the outcome and exit code are
decided, the audit row is completed (on a fresh session if the lock session died), the locks
are released, and the result file, report and summary are written, all scrubbed.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import psycopg

from migration_rollback import __version__
from migration_rollback.errors import MigrationRollbackError
from migration_rollback.redact import Redactor
from migration_rollback.runner import audit
from migration_rollback.runner.deferred_steps import PendingStep
from migration_rollback.runner.errors import (
    CommitUnknownError,
    InterruptedRunError,
    RunnerError,
    exit_code_for,
    is_retryable,
)
from migration_rollback.runner.leftovers import ExecuteLeftovers
from migration_rollback.runner.options import RunOptions
from migration_rollback.runner.output_file import (
    Unwritten,
    exit_after,
    print_output,
    say_unwritten,
    write_output,
)
from migration_rollback.runner.report import headline, render_report, render_summary
from migration_rollback.runner.restore import DataRestore
from migration_rollback.runner.result import (
    ErrorInfo,
    Outcome,
    RunResult,
    StatementOutcome,
    termination_text,
)
from migration_rollback.runner.session import (
    Connection,
    close_sessions,
    connect,
    connection_broken,
    parse_target,
    translate,
)
from migration_rollback.runner.steplog import StepLog
from migration_rollback.runner.transaction import TransactionReport
from migration_rollback.shown import shown_lines


@dataclass
class RunIO:
    """The outside world of a run, injectable so tests can capture it."""

    stdout: TextIO
    stderr: TextIO
    env: Mapping[str, str]
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


class RunState:
    """The run's options, sessions and result so far; the steps (run.py) fill it in."""

    def __init__(self, options: RunOptions, io: RunIO) -> None:
        self.options = options
        self.io = io
        self.target, self.url_error = parse_target(options.database_url)
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
        self.pending: list[PendingStep] = []  # steps earlier runs left (leftovers.py)
        self.leftovers = ExecuteLeftovers()
        self.restore = DataRestore()
        self.lost: list[Unwritten] = []  # output that could not be written (output_file.py)
        if self.target is not None:
            self.result.warnings += self.target.notes_with(io.env)

    @property
    def dsn(self) -> str:
        """The parsed connection string: every session and pg_dump use it, so the database
        shown is the one connected to (the raw text may carry a trailing newline)."""
        return self.target.dsn if self.target is not None else self.options.database_url

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
        result.outcome = _outcome_of(
            error, committed=result.committed, dry_run=self.options.dry_run
        )
        if error is not None:
            result.error = _error_info(error, self.redactor)
        result.finished_at = self.io.now()
        self._audit_finish()
        close_sessions(self.control, self.work)
        result.steps = list(self.log.timings)
        self._write_outputs()

    def _audit_finish(self) -> None:
        if self.audit_id is None:
            return
        with self.log.step("audit-finish") as step:
            fresh: Connection | None = None
            try:
                conn = self.control
                if conn is None or connection_broken(conn):
                    # The lock session died with the failure: the record must still be written.
                    conn = fresh = connect(self.dsn, self.redactor, purpose="audit")
                self._write_audit(conn, self.audit_id)
            except (psycopg.Error, RunnerError) as exc:
                step.outcome = "failed"
                step.detail = f"audit row {self.audit_id} not completed: {exc}"
                self.result.warnings.append(step.detail)
            finally:
                if fresh is not None:
                    fresh.close()

    def _write_audit(self, conn: Connection, audit_id: int) -> None:
        result = self.result
        doc = self.redactor.scrub_obj(result.to_dict())
        audit.finish(
            conn,
            audit_id,
            outcome=str(result.outcome),
            sha256=",".join(result.sha256.values()) or None,
            finished_at=result.finished_at or self.io.now(),
            statements=doc["statements"] + doc["deferred"],
            archived=doc["archived"],
            error=doc["error"]["message"] if doc["error"] else None,
            redactor=self.redactor,
        )

    def _write_outputs(self) -> None:
        """The report, the result file, then the summary, each with the exit code and warnings
        of what could not be written before it; a lost summary is written into the result
        file again (it is what CI and the operator read)."""
        result = self.result
        self._write("the report", self.options.report_file, self._report)
        self._write("the result file", self.options.result_file, self._result_text)
        summary = shown_lines(self.redactor.scrub(render_summary(result)))
        lost_summary = self._said(print_output("the summary", self.io.stdout, summary))
        if lost_summary and all(item.what != "the result file" for item in self.lost):
            self._write("the result file", self.options.result_file, self._result_text)
        self.log.emit(
            {
                "step": "result",
                "outcome": str(result.outcome),
                "exit_code": int(result.exit_code),
                "duration_ms": result.duration_ms,
            }
        )
        say_unwritten(self.io.stderr, "execute", headline(result), self.lost, self.redactor)

    def _report(self) -> str:
        return shown_lines(self.redactor.scrub(render_report(self.result)))

    def _result_text(self) -> str:
        return termination_text(self.redactor.scrub_obj(self.result.to_dict()))

    def _write(self, what: str, path: Path | None, text: Callable[[], str]) -> None:
        if path is not None:
            self._said(write_output(what, path, text()))

    def _said(self, failed: Unwritten | None) -> bool:
        """A failed write (True): in the exit code, the warnings and the JSON lines from now."""
        if failed is None:
            return False
        self.lost.append(failed)
        self.result.exit_code = exit_after(self.result.exit_code, self.lost)
        self.result.warnings.append(failed.words)
        self.log.emit({"event": "write-failed", "path": failed.where, "error": failed.reason})
        return True


def _target(options: RunOptions) -> str:
    if options.migration is not None:
        return options.migration.name
    return f"every migration newer than {options.to_version}"


def _outcome_of(error: BaseException | None, *, committed: bool, dry_run: bool) -> Outcome:
    if error is None:
        return Outcome.DRY_RUN_SUCCEEDED if dry_run else Outcome.SUCCEEDED
    if isinstance(error, CommitUnknownError):
        return Outcome.UNKNOWN
    return Outcome.COMMITTED_WITH_ERRORS if committed else Outcome.FAILED


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
