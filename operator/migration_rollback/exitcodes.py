"""The process exit codes of `migration-rollback execute`, one per way a run can end.

The Kubernetes Job that runs the rollback has nothing but this number and the termination
message to tell the operator what happened, so each code means exactly one thing, and whether
trying again can help (`retryable`) is part of its definition, not the caller's guess.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """How a run ended. 0 for success and for a successful dry run; 2 is typer's usage error."""

    OK = 0
    INTERNAL_ERROR = 1
    USAGE = 2
    PRECONDITION_FAILED = 3
    LOCK_TIMEOUT = 4
    SQL_ERROR = 5
    BACKUP_FAILED = 6
    CONNECTION_FAILED = 7
    CONNECTION_LOST = 8
    STATEMENT_TIMEOUT = 9
    POST_CHECK_FAILED = 10
    COMMIT_UNKNOWN = 11
    DEFERRED_FAILED = 12
    INTERRUPTED = 13
    TRANSACTION_CONFLICT = 14
    OUTPUT_FAILED = 15

    @property
    def retryable(self) -> bool:
        return self in _RETRYABLE

    @property
    def meaning(self) -> str:
        return _MEANING[self]


_RETRYABLE = frozenset(
    {
        ExitCode.LOCK_TIMEOUT,
        ExitCode.CONNECTION_FAILED,
        ExitCode.CONNECTION_LOST,
        ExitCode.TRANSACTION_CONFLICT,
    }
)

_MEANING: dict[ExitCode, str] = {
    ExitCode.OK: "rolled back (or dry run passed); see the result for what was archived",
    ExitCode.INTERNAL_ERROR: "a bug in migration-rollback; nothing was committed",
    ExitCode.USAGE: "invalid command-line options",
    ExitCode.PRECONDITION_FAILED: "refused before touching the database (not applied, "
    "sha256 mismatch, MANUAL markers, data loss not allowed, bad rollback file...)",
    ExitCode.LOCK_TIMEOUT: "another rollback holds the lock, or lock_timeout fired; nothing "
    "applied; retryable",
    ExitCode.SQL_ERROR: "a rollback statement failed; the transaction was rolled back",
    ExitCode.BACKUP_FAILED: "the backup could not be taken or verified; nothing applied",
    ExitCode.CONNECTION_FAILED: "could not connect (bad URL, refused, authentication); "
    "nothing applied",
    ExitCode.CONNECTION_LOST: "the server ended the session mid-run; nothing applied; retryable",
    ExitCode.STATEMENT_TIMEOUT: "a statement ran past statement_timeout (or was cancelled); "
    "nothing applied",
    ExitCode.POST_CHECK_FAILED: "the checks before COMMIT failed; the transaction was rolled back",
    ExitCode.COMMIT_UNKNOWN: "COMMIT's answer was lost (the connection broke, or a signal came "
    "during it) and the outcome could not be read back; inspect the history table",
    ExitCode.DEFERRED_FAILED: "committed, but what had to run after it did not: a statement that "
    "must run outside a transaction (CONCURRENTLY...) failed, or (apply) the connection broke "
    "during a COMMIT read back as landed; the result says what is left",
    ExitCode.INTERRUPTED: "stopped by SIGTERM/SIGINT; the result says whether it had committed "
    "(a COMMIT it stopped is read back on a new connection)",
    ExitCode.TRANSACTION_CONFLICT: "the server aborted the transaction for a deadlock or a "
    "serialization failure with another session; nothing applied; retryable",
    ExitCode.OUTPUT_FAILED: "the database work ended as the line says (committed, or a dry "
    "run passed), but --result-file, --report or the summary (stdout) could not be written (a "
    "full disk, a folder gone); one line on stderr names it, the reason and what the database "
    "came to (any other command: its stdout could not be written; it stopped there)",
}


def exit_code_help() -> str:
    """The exit code table for `--help`, generated so it never drifts from the enum."""
    lines = ["Exit codes:"]
    lines.extend(f"{code.value:>3}  {code.name}: {code.meaning}" for code in ExitCode)
    return "\n".join(lines)
