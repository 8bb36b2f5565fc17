"""What an error no retry seems to fix leads to, by phase (pure: no API, no clock).

Before anything is touched (up to and including ScalingDown, where the failure policy
restores what was changed) such an error ends the rollback at once. From RollingBack on,
ending is worse than trying again: in RollingBack the Job may still commit, and ending would
free the database's Lease under it; in ScalingUp or Verifying nothing says the application
was scaled back; in Restoring a passing fault would leave the application down. There the
error is tried again, a bounded number of times, each with a Warning Event and the reason in
status. RollingBack ends on it only once its Job's fate is known (it ended, or was never
created): while the Job may still commit it is tried again, saying a human is needed.

The count lives in status (`errorRetries`), so a restarted operator counts on.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from migration_rollback.lifecycle.actions import Decision
from migration_rollback.lifecycle.durations import parse_timestamp
from migration_rollback.lifecycle.phases import Phase, Reason
from migration_rollback.lifecycle.record import Context, Failure, Plan, iso

# Phases whose failure policy ends correctly: nothing touched yet, or touched and restorable.
ENDS_AT_ONCE = frozenset(
    {
        Phase.PENDING,
        Phase.VALIDATING,
        Phase.AWAITING_APPROVAL,
        Phase.PREPARING,
        Phase.SCALING_DOWN,
    }
)
# A Job may be running: only its fate ends the phase; never freeing the Lease under it.
JOB_PHASES = frozenset({Phase.ROLLING_BACK})
TRIES = 8  # consecutive failed turns before a phase that may end does (~4 min of delays)
BASE_SECONDS = 2.0
CAP_SECONDS = 60.0
# The reason a phase shows again once a turn goes through after failed ones.
PROGRESS: dict[Phase, Reason] = {
    Phase.ROLLING_BACK: Reason.ROLLING_BACK,
    Phase.SCALING_UP: Reason.SCALING_UP,
    Phase.VERIFYING: Reason.VERIFYING,
    Phase.RESTORING: Reason.RESTORING,
}
ERROR_REASONS = frozenset({str(Reason.RETRYING_AFTER_ERROR), str(Reason.ERROR_WAITING_FOR_JOB)})


class JobFate(enum.StrEnum):
    """What is known of the phase's Job when a turn fails (read on its own, apart from the
    turn's observation, which may be what failed)."""

    MAY_COMMIT = "may still commit"  # running, or it could not be read
    ENDED = "has ended"  # complete or failed: it can commit nothing more
    NEVER_CREATED = "was never created"  # nothing ran on the database
    GONE = "is gone with its pods"  # deleted, and no pod of it can run: it commits no more


# What each fate says when the rollback ends on the error.
ENDINGS: dict[JobFate, str] = {
    JobFate.ENDED: "the rollback Job has ended, so it can commit nothing more",
    JobFate.NEVER_CREATED: "the rollback Job was never created: nothing ran on the database",
    JobFate.GONE: (
        "the rollback Job (status.jobName) was deleted and no pod of it is left running, so it "
        "can commit nothing more"
    ),
}
# How a human ends the wait on a Job that may still commit.
END_THE_WAIT = (
    "A human is needed: fix what the error names, and the rollback ends through its failure "
    "policy once the Job has ended. To end it sooner, once the Job's pod is known to run no "
    "more (it ended, or its node is down): delete the Job and its pods (kubectl delete job "
    "<status.jobName> --cascade=foreground; force-delete a pod left on a node that is down). "
    "With no pod of it left the rollback ends, the database counted as changed unless a pod's "
    "result said otherwise: check its migration history before bringing the app back"
)


@dataclass(frozen=True)
class ErrorStep:
    """`end`: fail now with `message`; otherwise look again after `delay` seconds, with
    `reason` and `message` in status and a Warning Event."""

    end: bool
    delay: float
    message: str
    reason: Reason = Reason.RETRYING_AFTER_ERROR


@dataclass(frozen=True)
class Budget:
    """This error's turn and the failed ones just before it (1-based), since the first."""

    tries: int
    since: dt.datetime

    @classmethod
    def counted(cls, recorded: Mapping[str, Any], now: dt.datetime) -> Budget:
        """One more than status records (a first one starts now)."""
        since = parse_timestamp(recorded.get("since")) if recorded else None
        tries = int(recorded.get("tries") or 0) if since is not None else 0
        return cls(tries + 1, since or now)

    def to_status(self) -> dict[str, Any]:
        return {"tries": self.tries, "since": iso(self.since)}

    def seconds(self, now: dt.datetime) -> float:
        return max(0.0, (now - self.since).total_seconds())


def after_error(
    phase: Phase, tries: int, seconds: float, error: str, fate: JobFate = JobFate.MAY_COMMIT
) -> ErrorStep:
    """`tries` and `seconds`: the Budget's; `error` says what failed (the API server's refusal
    or the Python error); `fate`: the phase's Job's, where it runs one."""
    if phase in ENDS_AT_ONCE:
        return ErrorStep(True, 0.0, error)
    delay = min(CAP_SECONDS, BASE_SECONDS * 2 ** (min(tries, 16) - 1))
    spent = f"{tries} tries over {seconds:.0f}s in {phase}"
    if phase in JOB_PHASES:
        return _job_phase(fate, delay, f"{error} ({spent})")
    if tries < TRIES:
        return ErrorStep(False, delay, f"{error} ({spent}; trying again, {TRIES} at most)")
    return ErrorStep(True, 0.0, f"{error} ({spent}; gave up)")


def _job_phase(fate: JobFate, delay: float, error: str) -> ErrorStep:
    if fate in ENDINGS:
        return ErrorStep(True, 0.0, f"{error}; {ENDINGS[fate]}")
    text = (
        f"{error}; waiting for the rollback Job (status.jobName): it may still be running and "
        "commit, so the database's Lease is kept and the rollback does not end until the Job "
        f"has. {END_THE_WAIT}"
    )
    return ErrorStep(False, delay, text, Reason.ERROR_WAITING_FOR_JOB)


def retrying(ctx: Context, step: ErrorStep, budget: Budget) -> Decision:
    """The phase kept, its reason and conditions saying what failed and that it is tried
    again (never silently), the count recorded, a Warning Event posted."""
    plan = Plan(ctx).enter(ctx.phase, step.reason, step.message)
    plan.patch(errorRetries=budget.to_status())
    return plan.event(str(step.reason), step.message, warning=True).decision(step.delay)


def ending(ctx: Context, step: ErrorStep, database_changed: bool | None) -> Failure:
    """The failure the rollback ends with (lifecycle.ending clears the count), and what the
    Job's fate says of the database (unknown: left as recorded, i.e. changed)."""
    plan = Plan(ctx)
    if database_changed is not None:
        plan.patch(databaseChanged=database_changed)
    return plan.failure(Reason.UNEXPECTED_ERROR, step.message)


def cleared(ctx: Context) -> Decision | None:
    """A turn went through after failed ones: the count cleared and, unless that turn moved
    on, the phase's own reason shown again. None when nothing failed before it."""
    if not ctx.status.error_retries:
        return None
    plan = Plan(ctx).patch(errorRetries=None)
    progress = PROGRESS.get(ctx.phase)
    if progress is not None and str(ctx.status.reason or "") in ERROR_REASONS:
        tries = ctx.status.error_retries.get("tries", "some")
        plan.enter(ctx.phase, progress, f"going on after {tries} failed turn(s)")
    return plan.decision()
