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
    renew = renewal(ctx.status, ctx.obs.lease_renewed_at, ctx.now)
    if renew is None or decision.of(ReleaseLease):
        return decision
    return Decision(
        (renew, *decision.actions),
        decision.phase,
        decision.reason,
        decision.requeue_after,
    )


def renewal(
    status: RollbackStatus, renewed_at: dt.datetime | None, now: dt.datetime
) -> RenewLease | None:
    """The Lease's renewal when one is due: the rollback holds it and it was not renewed in
    the last LEASE_RENEW_SECONDS (by this operator process: a restart renews at once). The
    flow asks this on a failed turn too, so no handler error lets the Lease lapse."""
    lock = status.database_lock
    due = renewed_at is None or (now - renewed_at).total_seconds() >= LEASE_RENEW_SECONDS
    return RenewLease(lock) if lock and due else None


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
