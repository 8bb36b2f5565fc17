"""What a finished rollback Job means for the resource (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from migration_rollback.lifecycle.phases import Reason

# Exit codes of `migration-rollback execute` (runner.exitcodes.ExitCode), by name so the
# operator's decisions do not depend on the runner's import graph.
_REASON_BY_EXIT_NAME = {
    "PRECONDITION_FAILED": Reason.PRECONDITION_FAILED,
    "LOCK_TIMEOUT": Reason.LOCK_TIMEOUT,
    "SQL_ERROR": Reason.SQL_ERROR,
    "STATEMENT_TIMEOUT": Reason.SQL_ERROR,
    "POST_CHECK_FAILED": Reason.SQL_ERROR,
    "BACKUP_FAILED": Reason.BACKUP_FAILED,
    "CONNECTION_FAILED": Reason.CONNECTION_FAILED,
    "CONNECTION_LOST": Reason.CONNECTION_FAILED,
}


@dataclass(frozen=True, slots=True)
class JobVerdict:
    succeeded: bool
    reason: Reason
    message: str
    database_changed: bool | None  # None: cannot tell (no result); treat as changed
    sql_seconds: float | None
    statements: int | None


# Exits that mean the URL's database could not be reached: the message then says which Secret
# key holds the URL, since that is the first thing to check.
_CONNECTION_EXITS = frozenset({"CONNECTION_FAILED", "CONNECTION_LOST"})


def judge(
    succeeded: bool,
    result: dict[str, Any] | None,
    job_message: str,
    database: str = "the database URL",
) -> JobVerdict:
    """Turn the Job's completion and its termination message into a verdict. `database` names
    where the URL comes from (a Secret and key), never the URL; give text already scrubbed:
    messages are cut to length here, and a cut could split a secret the scrubber then misses."""
    if result is None:
        return JobVerdict(
            succeeded=succeeded,
            reason=Reason.JOB_FAILED if not succeeded else Reason.SUCCEEDED,
            message=f"the rollback Job ended without a result: {job_message}"[:500],
            database_changed=None,
            sql_seconds=None,
            statements=None,
        )
    committed = bool(result.get("committed"))
    exit_name = str(result.get("exit_name", ""))
    error = result.get("error") or {}
    statements = result.get("statements")
    # The termination message is capped at 4 KiB: lists are cut and the cut is counted.
    count = (
        len(statements) + int(result.get("statements_omitted", 0))
        if isinstance(statements, list)
        else None
    )
    if succeeded and exit_name in ("OK", ""):
        return JobVerdict(
            True,
            Reason.SUCCEEDED,
            str(result.get("outcome", "")),
            committed,
            _sql_seconds(result),
            count,
        )
    message = str(error.get("message") or result.get("outcome") or job_message)
    where = f" (statement {error['statement']})" if error.get("statement") else ""
    if exit_name in _CONNECTION_EXITS:
        where = f" with the URL in {database}"
    return JobVerdict(
        succeeded=False,
        reason=_REASON_BY_EXIT_NAME.get(exit_name, Reason.JOB_FAILED),
        message=f"{exit_name or 'failed'}{where}: {message}"[:1000],
        # COMMIT_UNKNOWN: the connection broke during COMMIT; it may well have committed.
        database_changed=None if exit_name == "COMMIT_UNKNOWN" else committed,
        sql_seconds=_sql_seconds(result),
        statements=count,
    )


def _sql_seconds(result: dict[str, Any]) -> float | None:
    for step in result.get("steps") or ():
        if isinstance(step, dict) and step.get("step") in ("execute", "transaction", "sql"):
            return float(step.get("duration_ms", 0)) / 1000
    return None
