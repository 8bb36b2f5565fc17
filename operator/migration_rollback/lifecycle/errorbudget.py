"""What an error no retry seems to fix leads to, by phase (pure: no API, no clock).

Before anything is touched (up to and including ScalingDown, where the failure policy
restores what was changed) such an error ends the rollback at once. From RollingBack on,
ending is worse than trying again: in RollingBack the Job may still commit, and ending would
free the database's Lease under it; in ScalingUp or Verifying nothing says the application
was scaled back; in Restoring a passing fault would leave the application down. There the
error is tried again, a bounded number of times, each with a Warning Event; RollingBack is
never ended by it (the Job's own outcome ends it), its retries only slow to the cap.
"""

from __future__ import annotations

from dataclasses import dataclass

from migration_rollback.lifecycle.phases import Phase

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
# A Job may be running: only its outcome ends the phase; never freeing the Lease under it.
NEVER_ENDS = frozenset({Phase.ROLLING_BACK})
TRIES = 8  # consecutive failed turns before a phase that may end does (~4 min of delays)
BASE_SECONDS = 2.0
CAP_SECONDS = 60.0


@dataclass(frozen=True)
class ErrorStep:
    """`end`: fail now with `message`; otherwise look again after `delay` seconds and post
    `message` as a Warning Event."""

    end: bool
    delay: float
    message: str


def after_error(phase: Phase, tries: int, seconds: float, error: str) -> ErrorStep:
    """`tries`: this error's turn and the failed ones just before it (1-based); `seconds`:
    since the first of them. `error` says what failed (the API server's refusal or the
    Python error)."""
    if phase in ENDS_AT_ONCE:
        return ErrorStep(True, 0.0, error)
    delay = min(CAP_SECONDS, BASE_SECONDS * 2 ** (min(tries, 16) - 1))
    spent = f"{tries} tries over {seconds:.0f}s in {phase}"
    if phase in NEVER_ENDS:
        text = (
            f"{error} ({spent}); trying again: the rollback Job may still be running and "
            "commit, so the database's Lease is kept and the rollback does not end on this"
        )
        return ErrorStep(False, delay, text)
    if tries < TRIES:
        return ErrorStep(False, delay, f"{error} ({spent}; trying again, {TRIES} at most)")
    return ErrorStep(True, 0.0, f"{error} ({spent}; gave up)")
