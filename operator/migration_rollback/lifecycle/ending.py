"""How a rollback ends (pure): the failure policy applied, and the one way to a terminal phase.

A phase's decision raises `Failure`; `fail` turns it into the actions `lifecycle.policy` says
(restore the app, or leave it for a human) and `finish` is the only way to Succeeded or Failed,
so no terminal path forgets the database's Lease: it is released before the phase is written,
so whoever sees Succeeded or Failed finds the database free.
"""

from __future__ import annotations

from migration_rollback.lifecycle import policy
from migration_rollback.lifecycle.actions import Decision, ReleaseLease
from migration_rollback.lifecycle.durations import human
from migration_rollback.lifecycle.phases import Phase, Reason, StepState
from migration_rollback.lifecycle.record import Context, Failure, Plan, iso


def fail(ctx: Context, failure: Failure) -> Decision:
    """Record the failure and do what the failure policy says. The failing decision's own
    status fields (the Job's result, databaseChanged) are kept and judged with."""
    plan = failure.plan or Plan(ctx)
    if failure.step is not None:
        plan.step(failure.step, StepState.FAILED, failure.message)
    status = ctx.status
    if status.error_retries:  # the failed turns before this one: Restoring counts its own
        plan.patch(errorRetries=None)
    touched = bool(plan.current("originalReplicas")) or plan.current("maintenanceEnabled", False)
    verdict = policy.on_failure(
        ctx.phase,
        app_touched=bool(touched),
        restore=ctx.spec.restore_on_failure,
        database_changed=plan.current("databaseChanged"),
        message=failure.message,
        maintenance_on=plan.current("maintenanceEnabled", False),
        held=held_app(ctx, plan),
    )
    if verdict.outcome is policy.Outcome.RESTORE_FAILED:
        first = status.failure
        text = f"{first.message if first else 'failed'}; {verdict.message}"
        plan.event(str(Reason.HELD_FOR_HUMAN), text, warning=True)
        return finish(plan, Phase.FAILED, first.reason if first else Reason.JOB_FAILED, text)
    plan.patch(failure={"reason": str(failure.reason), "message": failure.message})
    if verdict.outcome is policy.Outcome.RESTORE:
        return plan.enter(Phase.RESTORING, Reason.RESTORING, verdict.message).decision(0)
    if verdict.held_for_human:
        plan.event(str(Reason.HELD_FOR_HUMAN), verdict.message, warning=True)
    return finish(plan, Phase.FAILED, failure.reason, verdict.message)


def held_app(ctx: Context, plan: Plan) -> str:
    """Where the application is, as this turn saw its workloads (a failed look saw none)."""
    original = dict(plan.current("originalReplicas") or {})
    seen = {k: (w.desired if (w := ctx.obs.workload(k)) else None) for k in original}
    return policy.held_app(original, seen)


def finish(plan: Plan, phase: Phase, reason: Reason | str, message: str) -> Decision:
    lock = plan.current("databaseLock")
    if lock:
        plan.act(ReleaseLease(str(lock))).patch(databaseLock=None)
    metrics = dict(plan.current("metrics", {}))
    if plan.ctx.status.started_at:
        metrics["durationSeconds"] = round(plan.ctx.seconds_since(plan.ctx.status.started_at), 3)
    plan.enter(phase, reason, message, finishedAt=iso(plan.ctx.now), metrics=metrics)
    return plan.event(str(reason), message, warning=phase is Phase.FAILED).decision()


def success_message(plan: Plan) -> str:
    metrics = plan.current("metrics", {})
    parts = ["rolled back"]
    if "statements" in metrics:
        parts.append(f"{metrics['statements']} statements")
    if "downtime" in metrics:
        parts.append(f"downtime {metrics['downtime']}")
    return ", ".join(parts)


def downtime_metrics(plan: Plan) -> dict[str, object]:
    """The metrics with the downtime so far (from status.downtimeStartedAt)."""
    metrics = dict(plan.current("metrics", {}))
    started = plan.ctx.status.downtime_started_at
    if started:
        seconds = plan.ctx.seconds_since(started)
        metrics["downtimeSeconds"] = round(seconds, 3)
        metrics["downtime"] = human(seconds)
    return metrics
