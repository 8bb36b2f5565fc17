"""Decisions before the downtime (pure): validate the SQL (one rollback, or the set
`spec.targetVersion` selects), wait for approval, take the database's Lease and rehearse.
Nothing here touches the application.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from migration_rollback.errors import SqlSyntaxError
from migration_rollback.lifecycle import analysis, approval, jobrun, spec_check, target
from migration_rollback.lifecycle.actions import AcquireLease, Decision, EnsureSqlConfigMap
from migration_rollback.lifecycle.ending import finish
from migration_rollback.lifecycle.model import RollbackSpec
from migration_rollback.lifecycle.phases import Phase, Reason, StepName, StepState
from migration_rollback.lifecycle.record import Context, Plan, iso

# Sources (a ConfigMap, the Secret) are not watched: look again this often while one is missing.
SOURCE_RETRY_SECONDS = 5.0
# Another rollback holds the database: look at its Lease again this often.
LEASE_RETRY_SECONDS = 2.0


def pending(ctx: Context) -> Decision:
    plan = Plan(ctx).patch(startedAt=ctx.status.started_at or iso(ctx.now))
    return plan.enter(
        Phase.VALIDATING, Reason.VALIDATING, "resolving and checking the rollback SQL"
    ).decision(0)


def _waiting_for_source(plan: Plan, missing: str) -> Decision:
    message = f"waiting: {missing}"
    if plan.ctx.status.message != message:
        plan.patch(message=message, reason=str(Reason.SOURCE_NOT_FOUND))
    return plan.decision(SOURCE_RETRY_SECONDS)


def validating(ctx: Context) -> Decision:
    plan, obs = Plan(ctx), ctx.obs
    invalid = spec_check.problems(ctx.spec)
    if invalid:
        raise plan.failure(Reason.INVALID_SPEC, "; ".join(invalid), StepName.VALIDATE)
    if obs.url_error is not None:
        raise plan.failure(Reason.INVALID_DATABASE_URL, obs.url_error, StepName.VALIDATE)
    if obs.headers_error is not None:  # nothing touched yet: fix the Secret, a new resource
        message = f"{obs.headers_error}; nothing was touched"
        raise plan.failure(Reason.MAINTENANCE_FAILED, message, StepName.VALIDATE)
    if ctx.spec.target_version:
        if obs.missing is not None or obs.migration_files is None:
            return _waiting_for_source(plan, obs.missing or "the migrations ConfigMap")
        _refuse_binary(plan, obs.migration_files)
        return _validating_set(plan, ctx.spec.target_version, obs.migration_files)
    if obs.missing is not None or obs.sql_text is None:
        return _waiting_for_source(plan, obs.missing or "the rollback SQL")
    _refuse_binary(plan, {"": obs.sql_text})
    try:
        result = analysis.analyze(obs.sql_text, "rollback.sql")
    except SqlSyntaxError as exc:
        raise plan.failure(
            Reason.INVALID_SQL, f"rollback SQL does not parse: {exc}", StepName.VALIDATE
        ) from None
    pinned = ctx.spec.rollback.sha256
    if pinned and pinned != result.sha256:
        message = f"spec.rollback.sha256 is {pinned} but the SQL hashes to {result.sha256}"
        raise plan.failure(Reason.SHA256_MISMATCH, message, StepName.VALIDATE)
    s = result.summary
    message = (
        f"{s.statements} statements, {s.manual_items} manual, "
        f"{'destroys data' if s.destroys_data else 'no data loss'}, lock {s.strongest_lock}"
    )
    return _validated(plan, result.sql, result.sha256, s, message)


def _refuse_binary(plan: Plan, texts: Mapping[str, str]) -> None:
    """A NUL byte in the SQL (key -> text of its source): refused as the CLI refuses a file."""
    for key, text in texts.items():
        problem = spec_check.sql_text_problem(_source_path(plan.ctx.spec, key), text)
        if problem:
            raise plan.failure(Reason.INVALID_SQL, problem, StepName.VALIDATE)


def _source_path(spec: RollbackSpec, key: str) -> str:
    """Where the SQL came from, as the spec names it (`key`: a file of the migrations set)."""
    source = spec.rollback
    if source.migrations_from is not None:
        return f"spec.rollback.migrationsFrom (ConfigMap {source.migrations_from} key {key})"
    if source.sql is not None:
        return "spec.rollback.sql"
    ref, field = (
        (source.config_map, "configMapRef")
        if source.config_map is not None
        else (source.generate_from, "generateFrom.configMapRef")
    )
    named = f" (ConfigMap {ref.name} key {ref.key})" if ref is not None else ""
    return f"spec.rollback.{field}{named}"


def _validating_set(plan: Plan, version: str, files: Mapping[str, str]) -> Decision:
    """spec.targetVersion: every migration newer than it, one set approved and run as one."""
    spec = plan.ctx.spec
    config_map = str(spec.rollback.migrations_from)
    try:
        checked = target.check(files, version, config_map, spec.rollback.sha256)
    except target.TargetError as exc:
        raise plan.failure(exc.reason, exc.message, StepName.VALIDATE) from None
    chosen = checked.chosen
    return _validated(
        plan,
        chosen.files,
        chosen.sha256,
        checked.summary,
        checked.message,
        migrations=chosen.status_entries(),
    )


def _validated(
    plan: Plan,
    sql: str | Mapping[str, str],
    sha256: str,
    summary: approval.PlanSummary,
    message: str,
    **extra: Any,
) -> Decision:
    """The SQL frozen in a ConfigMap named after its hash, the plan in status, then approval."""
    config_map = analysis.child_name(plan.ctx.obs.resource, "sql", sha256)
    plan.act(EnsureSqlConfigMap(config_map, sql))
    plan.patch(sqlSha256=sha256, sqlConfigMap=config_map, plan=summary.to_status(), **extra)
    plan.step(StepName.VALIDATE, StepState.DONE, message)
    return _approval(plan, summary, sha256)


def awaiting_approval(ctx: Context) -> Decision:
    plan = Plan(ctx)
    if ctx.status.observed_generation != ctx.obs.generation:
        # The spec changed while waiting (allowed until the rollback starts): start over.
        return plan.enter(
            Phase.VALIDATING, Reason.VALIDATING, "the spec changed; validating again"
        ).decision(0)
    return _approval(
        plan, approval.PlanSummary.from_status(ctx.status.plan), str(ctx.status.sql_sha256)
    )


def _approval(plan: Plan, summary: approval.PlanSummary, sha256: str) -> Decision:
    ctx = plan.ctx
    verdict = approval.decide(summary, sha256, ctx.obs.annotations, ctx.spec.allow_data_loss)
    if not verdict.approved:
        if ctx.phase is not Phase.AWAITING_APPROVAL or ctx.status.message != verdict.message:
            plan.patch(approved=False).step(StepName.APPROVE, StepState.RUNNING, verdict.message)
            plan.enter(Phase.AWAITING_APPROVAL, Reason.AWAITING_APPROVAL, verdict.message)
        return plan.decision()  # the annotation's watch event wakes it
    if verdict.needed:
        plan.patch(approved=True).step(StepName.APPROVE, StepState.DONE, verdict.message)
    return plan.enter(
        Phase.PREPARING, Reason.PREPARING, "rehearsing and backing up while the app serves"
    ).decision(0)


def preparing(ctx: Context) -> Decision:
    plan = Plan(ctx)
    if not ctx.status.database_lock:
        return _hold_database(plan)
    if plan.step_state(StepName.DRY_RUN) != str(StepState.DONE):
        verdict = jobrun.run(plan, dry_run=True)
        if verdict is None:
            return plan.decision()
        if not verdict.succeeded:
            raise plan.failure(
                verdict.reason, f"the rehearsal failed: {verdict.message}", StepName.DRY_RUN
            )
        _pin_database(plan)
        plan.step(StepName.DRY_RUN, StepState.DONE, verdict.message or "dry run passed")
        _warn_blocking_sessions(plan)
    if ctx.spec.dry_run:
        return finish(
            plan, Phase.SUCCEEDED, Reason.DRY_RUN_SUCCEEDED, "dry run passed; nothing was changed"
        )
    # Sent before the scale-down's first look, which checks the pin was kept.
    return (
        plan.enter(Phase.SCALING_DOWN, Reason.SCALING_DOWN, "stopping the application")
        .send_now()
        .decision(0)
    )


def _hold_database(plan: Plan) -> Decision:
    """One rollback per database at a time, across namespaces: take its Lease."""
    obs, status = plan.ctx.obs, plan.ctx.status
    if obs.lease is None:
        return _waiting_for_source(plan, obs.missing or "the database URL")
    if obs.lease.holder is not None and not obs.lease.ours:
        if status.reason != str(Reason.WAITING_FOR_DATABASE):
            plan.patch(
                reason=str(Reason.WAITING_FOR_DATABASE),
                message=f"another rollback ({obs.lease.holder}) holds this database; waiting",
            )
            plan.event(str(Reason.WAITING_FOR_DATABASE), f"waiting for {obs.lease.holder}")
        return plan.decision(LEASE_RETRY_SECONDS)
    backup = plan.ctx.spec.backup
    if backup.mode == "pgDump" and not backup.persistent_volume_claim:
        plan.event(
            "BackupNotKept",
            "backup.mode is pgDump without a persistentVolumeClaim: each Job verifies its "
            "dump, but it is lost with the pod; set spec.backup.persistentVolumeClaim",
            warning=True,
        )
    return plan.act(AcquireLease(obs.lease.name)).patch(databaseLock=obs.lease.name).decision(0)


def _pin_database(plan: Plan) -> None:
    """The database the rehearsal ran on, for the rollback Job to insist on: the Secret is
    read again when that Job's pod starts, and an edit in between must not send the real run
    to a database nobody rehearsed. A rehearsal that does not say which it was proves nothing."""
    job = plan.ctx.obs.job
    identity = job.result.database_identity if job is not None and job.result else None
    if not identity:
        raise plan.failure(
            Reason.PRECONDITION_FAILED,
            "the rehearsal did not report which database it ran on (database_identity): "
            "the rollback cannot be pinned to it; is the Job's image older than the operator?",
            StepName.DRY_RUN,
        )
    plan.patch(databaseIdentity=identity)


def _warn_blocking_sessions(plan: Plan) -> None:
    """Before the downtime: the sessions the rehearsal found that would hold the rollback up
    (and, behind it, every query of the application)."""
    job = plan.ctx.obs.job
    sessions = job.result.blocking_sessions if job is not None and job.result else ()
    if sessions:
        plan.event(
            "BlockingSessions",
            f"{len(sessions)} session(s) would block the rollback's locks: "
            + "; ".join(b.describe() for b in sessions),
            warning=True,
        )
