"""The failure policy and the restore actions, as pure tables (no API, no clock).

`on_failure` decides what a failure leads to from four facts: was the application touched
(replicas recorded or maintenance on), does `spec.onFailure` say restore, may the database have
changed, and in which phase it failed. `restore_actions` lists what bringing the application
back means; the flow's Restoring phase and the deletion finalizer both apply that same list.
`retry_delay` says whether a retryable Job outcome is tried again, and after how long.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from migration_rollback.lifecycle.actions import (
    Action,
    DeleteJob,
    ReleaseLease,
    ScaleTo,
    SetMaintenance,
)
from migration_rollback.lifecycle.durations import parse_millis
from migration_rollback.lifecycle.model import RollbackSpec
from migration_rollback.lifecycle.phases import Phase
from migration_rollback.lifecycle.status import RollbackStatus
from migration_rollback.limits import MAX_TIMEOUT_MS


class Outcome(enum.StrEnum):
    RESTORE = "Restore"  # go to Restoring: bring the app back, maintenance off, then Failed
    HOLD = "Hold"  # Failed, the application left as it is for a human (HeldForHuman event)
    SCALED_BACK = "ScaledBack"  # Failed after the commit; the app was scaled back (HeldForHuman)
    RESTORE_FAILED = "RestoreFailed"  # restoring failed too: Failed, stop (HeldForHuman)
    FAIL = "Fail"  # Failed; the application was never touched


@dataclass(frozen=True)
class FailurePlan:
    outcome: Outcome
    phase: Phase
    message: str
    held_for_human: bool


# What a held application is said to be when each of its workloads was seen at 0 replicas.
LEFT_DOWN = "the application is left down for a human"
# Phases after the rollback committed: the app was (being) scaled back; nothing is undone.
_AFTER_COMMIT = frozenset({Phase.SCALING_UP, Phase.VERIFYING})


def on_failure(
    phase: Phase,
    app_touched: bool,
    restore: bool,
    database_changed: bool | None,
    message: str,
    maintenance_on: bool = False,
    held: str = LEFT_DOWN,
) -> FailurePlan:
    """`database_changed` None means no rollback Job has run (status never set): unchanged.
    The rollback phase sets it to True before its Job starts, so a vanished Job or a dead
    operator there can never lead to a restore. `held`: where an application left for a
    human is, as seen (`held_app`)."""
    if phase is Phase.RESTORING:
        return FailurePlan(
            Outcome.RESTORE_FAILED,
            Phase.FAILED,
            f"then restoring the application failed: {message}; the database is unchanged and "
            "the application needs a human",
            True,
        )
    if phase in _AFTER_COMMIT:
        # Verifying is entered once the workloads were Ready again; in ScalingUp their
        # scale-back was asked for, and nothing seen says it took effect.
        done = "was scaled back" if phase is Phase.VERIFYING else "was asked to scale back"
        text = f"{message}; the rollback committed and the application {done}"
        if maintenance_on:
            text += ", with maintenance mode still on"
        return FailurePlan(Outcome.SCALED_BACK, Phase.FAILED, text, True)
    if not app_touched:
        return FailurePlan(Outcome.FAIL, Phase.FAILED, message, False)
    if restore and not database_changed:
        return FailurePlan(
            Outcome.RESTORE, Phase.RESTORING, f"{message}; restoring the application", False
        )
    # True is recorded before the Job starts, and kept when its result cannot tell.
    why = "the database may have changed" if database_changed else "onFailure is hold"
    return FailurePlan(Outcome.HOLD, Phase.FAILED, f"{message}; {held} ({why})", True)


def held_app(original: Mapping[str, int], seen: Mapping[str, int | None]) -> str:
    """Where an application left for a human is, from each recorded workload's replicas as
    last seen (`seen`; None: not seen): "left down" only when every one was at 0."""
    up = {k: n for k in original if (n := seen.get(k))}
    if up:
        listed = ", ".join(f"{k}={n}" for k, n in sorted(up.items()))
        return (
            "the application is left as it is for a human: it is not down, its workloads "
            f"were last seen scaled up ({listed}; by someone during the rollback?)"
        )
    unseen = sorted(k for k in original if seen.get(k) is None)
    if unseen:
        return (
            "the application is left as it is for a human (the replicas of "
            f"{', '.join(unseen)} could not be seen: check them)"
        )
    return LEFT_DOWN


# --- restore actions ------------------------------------------------------------------------


def restore_actions(spec: RollbackSpec, status: RollbackStatus, deleting: bool) -> list[Action]:
    """What bringing the application back takes: each recorded workload to its recorded
    replicas, maintenance off; on deletion also the running Job stopped and the Lease freed.
    Idempotent: applying them twice leaves the same state. A Succeeded resource restores
    nothing (the app is already back)."""
    phase = Phase(status.phase)
    actions: list[Action] = []
    if phase is not Phase.SUCCEEDED:
        actions.extend(ScaleTo(k, v) for k, v in status.original_replicas.items())
    if status.maintenance_enabled and spec.maintenance is not None:
        actions.append(SetMaintenance(False))
    if deleting:
        if status.job_name and not phase.terminal:
            actions.append(DeleteJob(status.job_name))
        if status.database_lock:
            actions.append(ReleaseLease(status.database_lock))
    return actions


# --- retries --------------------------------------------------------------------------------


def retry_delay(
    retryable: bool, attempt: int, retries: int, base_seconds: float = 2.0, cap: float = 60.0
) -> float | None:
    """After the `attempt`-th failed run (1-based): the delay before the next one, doubling
    from `base_seconds`, or None when it is not retried (not retryable, or no retries left)."""
    if not retryable or attempt > retries:
        return None
    return float(min(cap, base_seconds * 2 ** (attempt - 1)))


def attempt_lock_timeout(base: str, attempt: int) -> str:
    """The Job's lock_timeout on its `attempt`-th run: `base` doubled for each retry, up to
    the most the Job accepts (a retry must not be refused for the doubling)."""
    milliseconds = min(parse_millis(base) * 2 ** (attempt - 1), MAX_TIMEOUT_MS)
    return f"{milliseconds}ms"


def target_revision(wanted: str, current: int, available: list[int]) -> int | None:
    """The revision a workload comes back on: `current`; `previous`, the newest one before
    the current (what `kubectl rollout undo` picks); or a number that must still exist.
    None: there is no such revision."""
    if wanted == "current":
        return current
    if wanted == "previous":
        older = [r for r in available if r < current]
        return max(older) if older else None
    number = int(wanted) if wanted.isdigit() else -1
    return number if number in available else None
