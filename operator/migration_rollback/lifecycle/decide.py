"""The operator's reconcile step as a pure function: `decide(spec, status, observation, now)`.

One small function per phase (lifecycle.phase_prepare, lifecycle.phase_window), in a table
keyed by the phase. The controller observes, calls `decide`, applies the actions
(controller.interpreter) and looks again after `requeue_after` or on a watch event. No clock,
no I/O: `now` is a plain datetime, so every phase and failure path is a table-driven test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from migration_rollback.lifecycle import phase_prepare, phase_window
from migration_rollback.lifecycle.actions import Decision, ReleaseLease, RenewLease
from migration_rollback.lifecycle.ending import fail
from migration_rollback.lifecycle.model import RollbackSpec
from migration_rollback.lifecycle.observation import Observation
from migration_rollback.lifecycle.phases import Phase
from migration_rollback.lifecycle.record import Context, Failure
from migration_rollback.lifecycle.status import RollbackStatus

# The database's Lease lasts this long without renewal; it is renewed every tenth of that, so
# only a dead operator lets it lapse.
DATABASE_LEASE_SECONDS = 600
LEASE_RENEW_SECONDS = DATABASE_LEASE_SECONDS / 10

PHASES: dict[Phase, Callable[[Context], Decision]] = {
    Phase.PENDING: phase_prepare.pending,
    Phase.VALIDATING: phase_prepare.validating,
    Phase.AWAITING_APPROVAL: phase_prepare.awaiting_approval,
    Phase.PREPARING: phase_prepare.preparing,
    Phase.SCALING_DOWN: phase_window.scaling_down,
    Phase.ROLLING_BACK: phase_window.rolling_back,
    Phase.SCALING_UP: phase_window.scaling_up,
    Phase.VERIFYING: phase_window.verifying,
    Phase.RESTORING: phase_window.restoring,
}


def decide(
    spec: RollbackSpec, status: RollbackStatus, obs: Observation, now: dt.datetime
) -> Decision:
    ctx = Context(spec, status, obs, now)
    if ctx.phase.terminal:
        return Decision((), status.phase, str(status.reason or ""))
    try:
        decision = PHASES[ctx.phase](ctx)
    except Failure as failure:
        decision = fail(ctx, failure)
    return _renewing(ctx, decision)


def _renewing(ctx: Context, decision: Decision) -> Decision:
    """Keep the database's Lease while the rollback holds it: a long Job must not let a
    second rollback of the same database start when the Lease would otherwise run out."""
    lock = ctx.status.database_lock
    renewed = ctx.obs.lease_renewed_at
    due = renewed is None or (ctx.now - renewed).total_seconds() >= LEASE_RENEW_SECONDS
    if not lock or not due or decision.of(ReleaseLease):
        return decision
    return Decision(
        (RenewLease(lock), *decision.actions),
        decision.phase,
        decision.reason,
        decision.requeue_after,
    )


def failed_action(
    spec: RollbackSpec,
    status: RollbackStatus,
    obs: Observation,
    now: dt.datetime,
    failure: Failure,
) -> Decision:
    """An action failed (maintenance mode could not be switched, a revision is gone): the
    same failure policy as a failure the decision itself found."""
    return fail(Context(spec, status, obs, now), failure)
