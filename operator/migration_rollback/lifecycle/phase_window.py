"""Decisions in the downtime window (pure): stop the app, run the rollback, bring the app back
(or restore it after a failure), check its health.

Waits are requeues: the workloads' and the Job's watch events wake the next decision, the
requeue is the fallback. Timeouts run from the phase's own transition time in status, so a
restarted controller keeps the deadline it had.
"""

from __future__ import annotations

from typing import Any

from migration_rollback.lifecycle import jobrun, policy
from migration_rollback.lifecycle.actions import (
    Decision,
    DeletePods,
    RestoreRevision,
    ScaleTo,
    SetMaintenance,
)
from migration_rollback.lifecycle.ending import downtime_metrics, finish, success_message
from migration_rollback.lifecycle.health import Verdict
from migration_rollback.lifecycle.observation import PodGroup
from migration_rollback.lifecycle.phases import Phase, Reason, StepName, StepState
from migration_rollback.lifecycle.record import Context, Plan, iso

# Workload and pod watch events end these waits; the requeue is only the fallback.
WORKLOAD_FALLBACK_SECONDS = 5.0


def _timed_out(ctx: Context) -> bool:
    elapsed = ctx.seconds_since(ctx.status.phase_transition_time)
    return elapsed > ctx.spec.scale_down_timeout_seconds


def scaling_down(ctx: Context) -> Decision:
    plan = Plan(ctx)
    if not ctx.status.original_replicas:
        _pin_kept(plan)
        _same_database(plan)
        # Recorded in a decision of their own, before anything is touched: a restart must
        # restore these, not the zero. The scale then needs no write before it.
        _record_replicas(plan)
        return plan.record_first().decision(0)
    maintenance = ctx.spec.maintenance
    if maintenance and plan.step_state(StepName.MAINTENANCE_ON) != str(StepState.DONE):
        _turn_maintenance_on(plan)
    if plan.step_state(StepName.SCALE_DOWN) is None:
        _scale_down(plan)
        return plan.decision(WORKLOAD_FALLBACK_SECONDS)
    _hold_down(plan)
    _hurry_pods(plan)
    remaining = pods_remaining(ctx)
    if remaining == 0:
        plan.step(StepName.SCALE_DOWN, StepState.DONE, "no application pod is running")
        plan.enter(Phase.ROLLING_BACK, Reason.ROLLING_BACK, "running the rollback Job")
        # The Job starts in the same decision: every second here is downtime.
        _start_rollback(plan)
        return plan.decision()
    if _timed_out(ctx):
        message = f"{remaining or 'some'} pod(s) still running after the scale-down timeout"
        raise plan.failure(Reason.SCALE_TIMEOUT, message, StepName.SCALE_DOWN)
    return plan.decision(WORKLOAD_FALLBACK_SECONDS)


def _pin_kept(plan: Plan) -> None:
    """The rehearsal's database, recorded in Preparing, is still in status: a CRD older than
    the operator prunes status.databaseIdentity, and the rollback Job would run unpinned."""
    if not plan.ctx.status.database_identity:
        raise plan.failure(
            Reason.PRECONDITION_FAILED,
            "status.databaseIdentity, recorded after the rehearsal, was not kept by the API "
            "server: the MigrationRollback CRD is older than the operator (was the chart "
            "installed with CRDs skipped?): upgrade it; nothing was touched",
            StepName.SCALE_DOWN,
        )


def _same_database(plan: Plan) -> None:
    """The Secret read again before the downtime leads to the database rehearsed and locked,
    or nothing is touched. (An edit after this look is the rollback Job's to refuse: it is
    pinned to the rehearsed database, `--expect-database`.)"""
    ctx = plan.ctx
    now, locked = ctx.obs.database, ctx.status.database_lock
    if now is not None and locked and now != locked:
        raise plan.failure(
            Reason.PRECONDITION_FAILED,
            f"{ctx.obs.url_where} leads to another database than the one rehearsed and "
            "locked (it changed after the rehearsal): nothing was touched; rehearse the new "
            "database with a new rollback",
            StepName.SCALE_DOWN,
        )


def _turn_maintenance_on(plan: Plan) -> None:
    """Users see the maintenance page from now on: the downtime starts here. Recorded as
    begun before the call (a failure or a restart then turns it off) and done only after it:
    a restart in between calls again (idempotent) rather than never."""
    plan.step(StepName.MAINTENANCE_ON, StepState.RUNNING, "turning maintenance mode on")
    stamp = plan.current("downtimeStartedAt") or iso(plan.ctx.now)
    plan.first(maintenanceEnabled=True, downtimeStartedAt=stamp, steps=plan.current("steps"))
    plan.act(SetMaintenance(True))
    plan.step(StepName.MAINTENANCE_ON, StepState.DONE, "maintenance mode on")


def _scale_down(plan: Plan) -> None:
    """Every workload to 0, the downtime starting now. The scale goes before its record (the
    replicas to restore are recorded already; should the operator die in between, the next
    decision scales again, idempotent), so no write waits in front of it. Unless a workload's
    replicas changed since they were recorded (an HPA, a person): the new count is recorded
    first, as any count to restore is. The downtime starts with the scale, or earlier with
    maintenance mode; a start already recorded is kept."""
    ctx = plan.ctx
    original = dict(ctx.status.original_replicas)
    changed = {k: w.desired for k in original if (w := ctx.obs.workload(k)) and w.desired}
    if any(original[k] != n for k, n in changed.items()):
        plan.first(originalReplicas={**original, **changed})
    if plan.current("downtimeStartedAt") is None:  # maintenance mode may have started it
        plan.patch(downtimeStartedAt=iso(ctx.now))
    plan.step(StepName.SCALE_DOWN, StepState.RUNNING, f"scaling {len(original)} workload(s) to 0")
    plan.act(*(ScaleTo(key, 0) for key in original))


def pods_remaining(ctx: Context) -> int | None:
    """The scaled-down workloads' pods not yet gone (terminating ones count: they may still
    write), as counted from their pods, not the workloads' status (which lags the pods). None
    until each workload is at 0 and its controller has acted on that (no new pod can come),
    or while its pods are not counted."""
    views = [ctx.obs.workload(key) for key in ctx.status.original_replicas]
    counts = [v.live_pods for v in views if v is not None and not v.desired and v.settled]
    if len(counts) < len(views) or None in counts:
        return None
    return sum(c for c in counts if c is not None)


def _hurry_pods(plan: Plan) -> None:
    """A Deployment at 0: the pods of each ReplicaSet whose controller has begun deleting
    them are deleted now rather than at that controller's rate-limited pace. Only then: a pod
    deleted before its ReplicaSet's controller has seen the zero would be replaced, and the
    first pod it deletes shows it has (the Deployment's controller acting on the scale does
    not, nor does another ReplicaSet's pod mid-rollout: each ReplicaSet is synced on its own).
    Not a StatefulSet's pods: they stop in order, one at a time, and that order is kept."""
    for key in plan.ctx.status.original_replicas:
        seen = plan.ctx.obs.workload(key)
        if seen is None or seen.kind != "Deployment" or seen.desired or not seen.settled:
            continue
        if hashes := hurried_replica_sets(seen.pod_groups):
            plan.act(DeletePods(key, hashes))


def hurried_replica_sets(groups: tuple[PodGroup, ...]) -> tuple[str, ...]:
    """The ReplicaSets with a pod being deleted (their controller saw the zero) and a pod
    not yet: pods without a pod-template-hash are no ReplicaSet's, and never hurried."""
    return tuple(g.template_hash for g in groups if g.template_hash and g.deleting and g.undeleted)


def _record_replicas(plan: Plan) -> None:
    """What to restore: each workload's replicas, its HPAs' minimums, its revisions."""
    obs = plan.ctx.obs
    if obs.workload_error is not None:
        raise plan.failure(Reason.WORKLOAD_NOT_FOUND, obs.workload_error)
    original = {w.key: w.desired for w in obs.workloads}
    hpas = {name: n for w in obs.workloads for name, n in w.hpa_min_replicas.items()}
    revisions = _revisions(plan)
    plan.patch(
        originalReplicas=original,
        hpaMinReplicas=hpas,
        **({"revisions": revisions} if revisions else {}),
    )
    plan.step(
        StepName.RECORD_REPLICAS, StepState.DONE, ", ".join(f"{k}={v}" for k, v in original.items())
    )


def _revisions(plan: Plan) -> dict[str, dict[str, Any]]:
    """For each workload whose spec asks for another revision than the current one: the
    current revision and the one it comes back on, with that ReplicaSet's template hash
    (which a rollout undo keeps while it renumbers the revision)."""
    recorded: dict[str, dict[str, Any]] = {}
    for rev in plan.ctx.obs.revisions:
        if rev.kind != "Deployment":
            raise plan.failure(
                Reason.INVALID_SPEC,
                f"spec.workloads: revision {rev.wanted} needs a "
                f"Deployment, not {rev.kind} {rev.key.rpartition('/')[2]}",
            )
        target = policy.target_revision(rev.wanted, rev.current, sorted(rev.templates))
        if target is None:
            kept = ", ".join(map(str, sorted(rev.templates))) or "none"
            raise plan.failure(
                Reason.INVALID_SPEC,
                f"spec.workloads: Deployment {rev.key} has no "
                f"revision {rev.wanted} (current {rev.current}, kept: {kept})",
            )
        recorded[rev.key] = {
            "current": rev.current,
            "target": target,
            "podTemplateHash": rev.templates.get(target, ""),
        }
    return recorded


def _hold_down(plan: Plan) -> None:
    """Something (Argo CD self-heal, a person) scaled a workload back up: hold it down."""
    for key in plan.current("originalReplicas", {}):
        seen = plan.ctx.obs.workload(key)
        if seen is None or seen.desired == 0:
            continue
        plan.act(ScaleTo(key, 0)).patch(heldDown=int(plan.current("heldDown", 0)) + 1)
        plan.event(
            "HeldDown",
            f"{key} was scaled up during the rollback window (GitOps "
            "self-heal or an HPA?); scaled it back to 0",
            warning=True,
        )


def rolling_back(ctx: Context) -> Decision:
    plan = Plan(ctx)
    _hold_down(plan)
    verdict = jobrun.run(plan, dry_run=False)
    if verdict is None:
        return plan.decision()
    metrics = dict(plan.current("metrics", {}))
    if verdict.sql_seconds is not None:
        metrics["sqlSeconds"] = verdict.sql_seconds
    if verdict.statements is not None:
        metrics["statements"] = verdict.statements
    changed = verdict.database_changed
    plan.patch(metrics=metrics, databaseChanged=changed if changed is not None else True)
    if not verdict.succeeded:
        raise plan.failure(verdict.reason, verdict.message, StepName.ROLLBACK)
    plan.step(StepName.ROLLBACK, StepState.DONE, verdict.message)
    plan.enter(Phase.SCALING_UP, Reason.SCALING_UP, "bringing the application back")
    # Scaled up in the same decision, every second here being downtime. Recorded after the
    # scale: should the operator die in between, this decision is made again (idempotent).
    _restore_revisions(plan)
    _bring_back(plan, StepName.SCALE_UP)
    return plan.decision(WORKLOAD_FALLBACK_SECONDS)


def _start_rollback(plan: Plan) -> None:
    """The Job, recorded with the database as possibly changed (`jobrun.create`)."""
    jobrun.create(plan, Phase.ROLLING_BACK, attempt=1, dry_run=False)


def _bring_back(plan: Plan, step: StepName) -> bool:
    """Each workload back at its recorded replicas; True once all are Ready."""
    ctx = plan.ctx
    original = dict(ctx.status.original_replicas)
    if plan.step_state(step) is None:
        plan.step(step, StepState.RUNNING, ", ".join(f"{k}={v}" for k, v in original.items()))
        restore = policy.restore_actions(ctx.spec, ctx.status, deleting=False)
        plan.act(*(a for a in restore if isinstance(a, ScaleTo)))
        return False
    waiting = [k for k, n in original.items() if (w := ctx.obs.workload(k)) is None or w.ready < n]
    # Level-triggered: a scale the decision that entered this phase did not get to apply
    # (the operator died after recording it) is applied now.
    plan.act(
        *(
            ScaleTo(k, n)
            for k, n in original.items()
            if (w := ctx.obs.workload(k)) is not None and w.desired < n
        )
    )
    if not waiting:
        plan.patch(metrics=downtime_metrics(plan))
        plan.step(step, StepState.DONE, "every workload is back at its recorded replicas and Ready")
        return True
    if _timed_out(ctx):
        raise plan.failure(
            Reason.SCALE_TIMEOUT, f"{', '.join(waiting)} not Ready after scaling up", step
        )
    return False


def scaling_up(ctx: Context) -> Decision:
    plan = Plan(ctx)
    if plan.step_state(StepName.SCALE_UP) is None:
        _restore_revisions(plan)
    if not _bring_back(plan, StepName.SCALE_UP):
        return plan.decision(WORKLOAD_FALLBACK_SECONDS)
    return plan.enter(
        Phase.VERIFYING, Reason.VERIFYING, "checking the application's health"
    ).decision(0)


def _restore_revisions(plan: Plan) -> None:
    """After the rollback committed: each workload back on its recorded target revision
    before it is scaled up (the application version that ran before the migration)."""
    for key, rev in plan.ctx.status.revisions.items():
        target, current = int(rev.get("target", 0)), int(rev.get("current", 0))
        if target == current:
            continue
        plan.act(RestoreRevision(key, target, current, str(rev.get("podTemplateHash", ""))))
        plan.event(
            "RevisionRestored",
            f"Deployment {key} back on the template of revision {target} (was {current})",
        )


def verifying(ctx: Context) -> Decision:
    plan = Plan(ctx)
    if ctx.spec.health_checks and plan.step_state(StepName.HEALTH_CHECK) != str(StepState.DONE):
        if _health(plan) is not Verdict.HEALTHY:
            return plan.decision(min(c.period_seconds for c in ctx.spec.health_checks))
        if _maintenance_on(plan):
            return plan.decision(0)  # recorded before maintenance goes off, which may fail
    _maintenance_off(plan)
    return finish(plan, Phase.SUCCEEDED, Reason.SUCCEEDED, success_message(plan))


def _health(plan: Plan) -> Verdict:
    checks = plan.ctx.obs.health
    if plan.step_state(StepName.HEALTH_CHECK) is None:
        plan.step(
            StepName.HEALTH_CHECK, StepState.RUNNING, f"{len(plan.ctx.spec.health_checks)} check(s)"
        )
    if checks:  # kept in status: a restarted operator counts on from here
        plan.patch(healthChecks=[c.to_status() for c in checks])
    for check in checks:
        if check.verdict is Verdict.UNHEALTHY:
            message = f"health check {check.name} failed: {check.last}"
            raise plan.failure(Reason.HEALTH_CHECK_FAILED, message, StepName.HEALTH_CHECK)
    if len(checks) < len(plan.ctx.spec.health_checks) or any(
        c.verdict is Verdict.PENDING for c in checks
    ):
        return Verdict.PENDING
    plan.step(StepName.HEALTH_CHECK, StepState.DONE, "all checks passed")
    return Verdict.HEALTHY


def _maintenance_on(plan: Plan) -> bool:
    return bool(plan.ctx.spec.maintenance and plan.current("maintenanceEnabled", False))


def _maintenance_off(plan: Plan) -> None:
    if _maintenance_on(plan):
        plan.act(SetMaintenance(False)).patch(maintenanceEnabled=False)
        plan.step(StepName.MAINTENANCE_OFF, StepState.DONE, "maintenance mode off")


def restoring(ctx: Context) -> Decision:
    plan = Plan(ctx)
    if plan.step_state(StepName.RESTORE) != str(StepState.DONE):
        if not _bring_back(plan, StepName.RESTORE):
            return plan.decision(WORKLOAD_FALLBACK_SECONDS)
        if _maintenance_on(plan):
            return plan.decision(0)  # the app is back: recorded before maintenance goes off
    _maintenance_off(plan)
    failure = ctx.status.failure
    message = (
        f"{failure.message if failure else 'failed'}; the application was restored and "
        "the database is unchanged"
    )
    return finish(plan, Phase.FAILED, failure.reason if failure else Reason.JOB_FAILED, message)
