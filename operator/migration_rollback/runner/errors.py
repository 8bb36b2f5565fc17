"""Errors the runner raises on purpose, each bound to the exit code it ends the process with.

Binding the code to the class keeps the mapping in one place: the orchestrator raises what
happened, `exit_code_for` reads the answer, and the CLI and the result file agree by design.
"""

from __future__ import annotations

from migration_rollback.errors import (
    DatabaseUnavailableError,
    MigrationRollbackError,
    ProjectError,
    SqlSyntaxError,
)
from migration_rollback.runner.exitcodes import ExitCode


class RunnerError(MigrationRollbackError):
    """A run ended early; `exit_code` says how, `retryable` whether trying again can help."""

    exit_code: ExitCode = ExitCode.INTERNAL_ERROR

    def __init__(
        self,
        message: str,
        *,
        sqlstate: str | None = None,
        statement: int | None = None,
        location: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.sqlstate = sqlstate
        self.statement = statement
        self.location = location

    @property
    def retryable(self) -> bool:  # type: ignore[override]
        return self.exit_code.retryable


class PreconditionError(RunnerError):
    """Refused before anything was changed: the run would not be safe or not make sense."""

    exit_code = ExitCode.PRECONDITION_FAILED


class LockTimeoutError(RunnerError):
    """The advisory lock or a table lock was not granted within the lock timeout."""

    exit_code = ExitCode.LOCK_TIMEOUT


class TransactionConflictError(RunnerError):
    """The server aborted the transaction to break a deadlock (40P01) or a serialization
    conflict (40001) with another session: nothing was applied, and the next try usually
    finds the other session gone."""

    exit_code = ExitCode.TRANSACTION_CONFLICT


class RollbackSqlError(RunnerError):
    """A statement of the rollback failed inside the transaction (which was rolled back)."""

    exit_code = ExitCode.SQL_ERROR


class StatementTimeoutError(RunnerError):
    """statement_timeout fired, or someone cancelled the query."""

    exit_code = ExitCode.STATEMENT_TIMEOUT


class BackupError(RunnerError):
    """The backup could not be taken, verified or found."""

    exit_code = ExitCode.BACKUP_FAILED


class ConnectionFailedError(RunnerError):
    """The database could not be reached or refused us; `transient` is False for a bad URL or
    a failed authentication, which no retry will fix."""

    exit_code = ExitCode.CONNECTION_FAILED

    def __init__(self, message: str, *, transient: bool = True) -> None:
        super().__init__(message)
        self.transient = transient

    @property
    def retryable(self) -> bool:  # type: ignore[override]
        return self.transient


class ConnectionLostError(RunnerError):
    """The server ended our session before COMMIT (terminated, restarted, network)."""

    exit_code = ExitCode.CONNECTION_LOST


class PostCheckError(RunnerError):
    """What the rollback should have achieved is not what the transaction holds."""

    exit_code = ExitCode.POST_CHECK_FAILED


class CommitUnknownError(RunnerError):
    """The connection broke during COMMIT and the outcome could not be read back."""

    exit_code = ExitCode.COMMIT_UNKNOWN


class DeferredStatementError(RunnerError):
    """The transaction committed but a non-transactional statement after it failed."""

    exit_code = ExitCode.DEFERRED_FAILED


class CommittedSessionLostError(RunnerError):
    """apply: the connection broke during a COMMIT that landed (read back on a new one); what
    comes after it (its statements after COMMIT, later migrations) did not run."""

    exit_code = ExitCode.DEFERRED_FAILED


class InterruptedRunError(RunnerError):
    """SIGTERM (the Job's deadline, a deleted pod) or SIGINT stopped the run."""

    exit_code = ExitCode.INTERRUPTED


class CommitInterruptedError(InterruptedRunError):
    """A signal came during COMMIT; whether it landed was read back (the message says)."""


def exit_code_for(error: BaseException | None) -> ExitCode:
    """The exit code for how a run ended; None means it succeeded."""
    if error is None:
        return ExitCode.OK
    if isinstance(error, RunnerError):
        return error.exit_code
    if isinstance(error, SqlSyntaxError | ProjectError):
        return ExitCode.PRECONDITION_FAILED
    if isinstance(error, DatabaseUnavailableError):
        return ExitCode.CONNECTION_FAILED
    return ExitCode.INTERNAL_ERROR


def is_retryable(error: BaseException | None) -> bool:
    if isinstance(error, RunnerError):
        return error.retryable
    if isinstance(error, MigrationRollbackError):
        return error.retryable
    return False
