"""What a finished rollback Job means for the resource (pure).

The Job's result is read with the runner's own contract (`migration_rollback.jobresult`), and
every exit code has exactly one reason here (a test checks the table is exhaustive).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from migration_rollback.exitcodes import ExitCode
from migration_rollback.jobresult import JobResult
from migration_rollback.lifecycle.phases import Reason

# Every exit code of `migration-rollback execute`, and the reason a resource fails with.
REASON_BY_EXIT: dict[ExitCode, Reason] = {
    ExitCode.OK: Reason.SUCCEEDED,
    ExitCode.INTERNAL_ERROR: Reason.JOB_FAILED,
    ExitCode.USAGE: Reason.JOB_FAILED,
    ExitCode.PRECONDITION_FAILED: Reason.PRECONDITION_FAILED,
    ExitCode.LOCK_TIMEOUT: Reason.LOCK_TIMEOUT,
    ExitCode.SQL_ERROR: Reason.SQL_ERROR,
    ExitCode.BACKUP_FAILED: Reason.BACKUP_FAILED,
    ExitCode.CONNECTION_FAILED: Reason.CONNECTION_FAILED,
    ExitCode.CONNECTION_LOST: Reason.CONNECTION_FAILED,
    ExitCode.STATEMENT_TIMEOUT: Reason.SQL_ERROR,
    ExitCode.POST_CHECK_FAILED: Reason.SQL_ERROR,
    ExitCode.COMMIT_UNKNOWN: Reason.JOB_FAILED,
    ExitCode.DEFERRED_FAILED: Reason.JOB_FAILED,
    ExitCode.INTERRUPTED: Reason.JOB_FAILED,
    ExitCode.TRANSACTION_CONFLICT: Reason.TRANSACTION_CONFLICT,
    # The result file is what failed, so the operator rarely sees this code with a result.
    ExitCode.OUTPUT_FAILED: Reason.JOB_FAILED,
}

# Exits that mean the URL's database could not be reached: the message then says which Secret
# key holds the URL, since that is the first thing to check.
_CONNECTION_EXITS = frozenset({ExitCode.CONNECTION_FAILED, ExitCode.CONNECTION_LOST})
# What runner.identity's refusal names: the URL led elsewhere than the rehearsal, so the
# Secret and key it came from are what to look at.
PIN = "(--expect-database"


@dataclass(frozen=True, slots=True)
class JobVerdict:
    succeeded: bool
    reason: Reason
    message: str
    database_changed: bool | None  # None: cannot tell (no result); treat as changed
    sql_seconds: float | None
    statements: int | None
    retryable: bool = False  # trying the same Job again may succeed (nothing was applied)


def judge(
    succeeded: bool,
    result: JobResult | Mapping[str, Any] | None,
    job_message: str,
    database: str = "the database URL",
) -> JobVerdict:
    """Turn the Job's completion and its result into a verdict. `database` names where the URL
    comes from (a Secret and key), never the URL; give text already scrubbed: messages are cut
    to length here, and a cut could split a secret the scrubber then misses."""
    if result is not None and not isinstance(result, JobResult):
        result = JobResult.from_dict(result)
    if result is None:
        return JobVerdict(
            succeeded=succeeded,
            reason=Reason.JOB_FAILED if not succeeded else Reason.SUCCEEDED,
            message=f"the rollback Job ended without a result: {job_message}"[:500],
            database_changed=None,
            sql_seconds=None,
            statements=None,
        )
    code = result.exit_code
    if succeeded and code is ExitCode.OK:
        return JobVerdict(
            True, Reason.SUCCEEDED, result.outcome, result.committed, result.sql_seconds,
            result.statements,
        )  # fmt: skip
    error = result.error
    message = (error.message if error else "") or result.outcome or job_message
    where = f" (statement {error.statement})" if error and error.statement else ""
    if code in _CONNECTION_EXITS or (code is ExitCode.PRECONDITION_FAILED and PIN in message):
        where = f" with the URL in {database}"
    # A Job that failed while the runner said OK (killed after writing its result): JobFailed.
    reason = REASON_BY_EXIT[code] if code is not ExitCode.OK else Reason.JOB_FAILED
    return JobVerdict(
        succeeded=False,
        reason=reason,
        message=f"{code.name if code is not ExitCode.OK else 'failed'}{where}: {message}"[:1000],
        # COMMIT_UNKNOWN: the connection broke during COMMIT; it may well have committed.
        database_changed=None if code is ExitCode.COMMIT_UNKNOWN else result.committed,
        sql_seconds=result.sql_seconds,
        statements=result.statements,
        retryable=code.retryable and not result.committed,
    )
