"""A phase's Job, decided (pure): create it, wait for it, judge it, retry it after a backoff.

Job names are fixed by the resource, the purpose, the attempt and the SQL's hash, so a resumed
controller finds the Job it created instead of creating another. Status says which attempt
the phase is on; the backoff runs from the failed Job's own finish time, so a restart neither
skips nor restarts it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from migration_rollback.jobresult import JobResult
from migration_rollback.lifecycle import analysis, jobabsence, outcomes, podstart, policy, target
from migration_rollback.lifecycle.actions import CreateJob, DeleteJob
from migration_rollback.lifecycle.durations import parse_timestamp
from migration_rollback.lifecycle.errorbudget import JobFate
from migration_rollback.lifecycle.observation import JobView
from migration_rollback.lifecycle.phases import Phase, Reason, StepName, StepState
from migration_rollback.lifecycle.record import Failure, Plan, iso
from migration_rollback.lifecycle.status import RollbackStatus

# Which Job each phase runs, and the step that records it.
PURPOSE: dict[Phase, tuple[str, StepName]] = {
    Phase.PREPARING: ("dryrun", StepName.DRY_RUN),
    Phase.ROLLING_BACK: ("rollback", StepName.ROLLBACK),
}
# Without a watch event (they wake the flow when the Job changes), look again this often.
JOB_FALLBACK_SECONDS = 10.0
IMPACT_LIMIT = 20


def job_name(resource: str, purpose: str, attempt: int, sha256: str) -> str:
    return analysis.child_name(resource, purpose if attempt == 1 else f"{purpose}{attempt}", sha256)


def current_job(resource: str, status: RollbackStatus) -> str | None:
    """The Job the current phase waits on (or creates next); None when it runs none."""
    entry = PURPOSE.get(Phase(status.phase))
    if entry is None or not status.sql_sha256:
        return None
    attempt = status.attempts.get(entry[0], 1)
    return job_name(resource, entry[0], attempt, status.sql_sha256)


def run(plan: Plan, dry_run: bool) -> outcomes.JobVerdict | None:
    """The finished Job's verdict; None while it is created, runs or waits for its retry
    (`plan` then holds what to do). A retried failure is not a verdict."""
    ctx = plan.ctx
    purpose, _ = PURPOSE[ctx.phase]
    attempt = ctx.status.attempts.get(purpose, 1)
    name = job_name(ctx.obs.resource, purpose, attempt, str(ctx.status.sql_sha256))
    job = ctx.obs.job
    if ctx.status.job_stopped.get("job") == name:
        after_stop(plan, name, job)
        return None
    if job is None or job.name != name or job.gone:
        absent(plan, name, job, attempt, dry_run)
        return None
    block = job.pod_block
    stoppable = job.result is None and not job.pod_ran  # one that ran is judged by its end
    if block is not None and stoppable and (job.finished or block.overdue(ctx.now)):
        stop(plan, job, block)
        return None
    end = ended(job)
    if end is None:
        if plan.current("jobName") != name:  # created just before a restart
            plan.patch(jobName=name)
        if plan.current("jobCreated") != name:  # its create's record lost to a restart
            plan.patch(jobCreated=name)
        plan.wake_in(JOB_FALLBACK_SECONDS)
        if block is not None:  # its grace ends without a watch event
            plan.wake_in(block.seconds_left(ctx.now))
        return None
    succeeded, finished_at = end
    verdict = outcomes.judge(succeeded, job.result, job.message, ctx.obs.url_where)
    plan.patch(**result_fields(job.result, plan.current("migrations", ())))
    if verdict.succeeded or not _retry(plan, purpose, attempt, verdict, finished_at):
        return verdict
    return None


def absent(plan: Plan, name: str, job: JobView | None, attempt: int, dry_run: bool) -> None:
    """The phase's Job is not there (a GET of its name said so): created when nothing shows
    it ever was, waited for while a pod of it may still write, else the rollback fails on it
    (`jobabsence`). `job`: its pods, listed (None: it was never recorded, so none looked)."""
    ctx = plan.ctx
    purpose, step = PURPOSE[ctx.phase]
    pods, running = (job.pods or 0, job.running) if job is not None else (0, 0)
    fate = jobabsence.fate(jobabsence.AbsentJob(ctx.obs.job_seen, pods, running))
    if fate is JobFate.NEVER_CREATED:
        create(plan, ctx.phase, attempt, dry_run)
        return
    if fate is JobFate.MAY_COMMIT:
        message = (
            f"the {purpose} Job {name} was deleted but {running} pod(s) of it have not ended: "
            "waiting for them (they may still write); the app stays as it is until then"
        )
        if ctx.status.message != message:
            plan.patch(reason=str(Reason.JOB_POD_NOT_GONE), message=message)
            plan.event(str(Reason.JOB_POD_NOT_GONE), message, warning=True)
        plan.wake_in(JOB_FALLBACK_SECONDS)
        return
    raise plan.failure(
        Reason.JOB_FAILED,
        f"Job {name} disappeared: it was created, and is deleted with no pod of it left "
        "running (by a human?)",
        step,
    )


def ended(job: JobView) -> tuple[bool, dt.datetime | None] | None:
    """(succeeded, when) once the Job is over; None while it runs. Its own conditions win.
    Without them yet (the Job controller batches its status updates, ~1 s), its pod's end
    decides when the Job cannot start another pod and the pod left the runner's result; a pod
    that ended without one (killed at the deadline, out of memory) waits for the Job's reason."""
    if job.finished and job.result is None and job.pods is None:
        return None  # its pods not yet known (a restart): one that never started changes it
    if job.finished:
        return job.succeeded, job.finished_at
    if job.pod_end is not None and not job.replaceable and job.result is not None:
        return job.pod_end.succeeded, job.pod_end.finished_at
    return None


def stop(plan: Plan, job: JobView, block: podstart.PodBlock) -> None:
    """No container of the Job ever ran: it is deleted, its pods first (foreground), and the
    app is left as it is until they are gone (`after_stop`): a pod restored beside it could
    meet the rollback's, should the Secret or image come back before it goes. The watch of
    its pods is recorded: only that watch, unbroken, can say none started meanwhile."""
    purpose, _ = PURPOSE[plan.ctx.phase]
    name, cause = job.name, block.describe()
    stopped = {"job": name, "cause": cause, "at": iso(plan.ctx.now)}
    # Recorded just before the delete: a restart between the two still knows why the Job
    # went; a hold-down scale refused before it leaves no record of a delete never sent.
    plan.record_now(jobStopped=stopped | ({"watch": job.watch} if job.watch else {}))
    plan.act(DeleteJob(name, foreground=True))
    message = f"the {purpose} Job {name} is deleted: {cause}; waiting for its pod to be gone"
    plan.patch(reason=str(Reason.JOB_NOT_STARTED), message=message)
    plan.event(str(Reason.JOB_NOT_STARTED), message, warning=True).wake_in(JOB_FALLBACK_SECONDS)


def after_stop(plan: Plan, name: str, job: JobView | None) -> None:
    """A Job deleted by `stop`: its pods gone and none ever started, it failed before the
    database; one that started meanwhile may have run, so it is judged as a Job that vanished.
    Until then the app stays as it is, past `GONE_SECONDS` with a warning (raises `Failure`)."""
    ctx = plan.ctx
    purpose, step = PURPOSE[ctx.phase]
    cause = ctx.status.job_stopped.get("cause", "its pod never started")
    if job is not None and job.pod_ran:
        message = f"Job {name} was deleted ({cause}) but its pod started before it was gone"
        raise plan.failure(Reason.JOB_FAILED, f"{message}: the database may have changed", step)
    if job is not None and not job.gone and not job.deleting:
        # The delete failed, or a restart came between the record and it: sent again
        # (idempotent) and waited for, as the Job could still start a pod meanwhile.
        plan.act(DeleteJob(name, foreground=True)).wake_in(JOB_FALLBACK_SECONDS)
        return
    if job is None or job.pods == 0:
        if job is None or not job.watch or job.watch != ctx.status.job_stopped.get("watch"):
            raise plan.failure(Reason.JOB_FAILED, unwatched(name, cause), step)
        raise never_started(plan, name, cause)
    since = parse_timestamp(ctx.status.job_stopped.get("at")) or ctx.now
    left = podstart.GONE_SECONDS - (ctx.now - since).total_seconds()
    plan.wake_in(left if 0 < left < JOB_FALLBACK_SECONDS else JOB_FALLBACK_SECONDS)
    if left > 0 or ctx.status.reason == Reason.JOB_POD_NOT_GONE:
        return
    message = (
        f"the {purpose} Job {name} was deleted ({cause}) but {job.pods} pod(s) of it are not "
        f"gone after {podstart.GONE_SECONDS:g}s (a node not answering?): the app stays as it "
        "is until they are (force-delete them once the node is known down)"
    )
    plan.patch(reason=str(Reason.JOB_POD_NOT_GONE), message=message)
    plan.event(str(Reason.JOB_POD_NOT_GONE), message, warning=True)


def unwatched(name: str, cause: str) -> str:
    """Its pods are gone, but not seen going by the watch that saw the stop (the operator
    restarted, or the watch broke): a start in between cannot be ruled out, so no guess."""
    return (
        f"Job {name} was deleted ({cause}) and its pods are gone, but the operator did not "
        "watch them without a break since (it restarted, or its watch was lost), so a start "
        "of the runner cannot be ruled out: the database may have changed. Check the pods' "
        f"Events (reason Started) and the database's migration history before restoring the app"
    )


def never_started(plan: Plan, name: str, cause: str) -> Failure:
    """The Job failed before the database: no container of it ever ran, and its pods are
    gone. The database counts as unchanged, so the usual failure policy restores the app at
    once. Not retried: a missing Secret or a bad image name is not fixed by running it again."""
    purpose, step = PURPOSE[plan.ctx.phase]
    if plan.current("databaseChanged"):  # recorded before the Job was created
        plan.patch(databaseChanged=False)
    message = f"the {purpose} Job {name} failed: {cause}; nothing ran on the database"
    return plan.failure(Reason.JOB_NOT_STARTED, message, step)


def create(plan: Plan, phase: Phase, attempt: int, dry_run: bool) -> None:
    """The phase's Job, its name recorded just before the create is sent: a restart finds
    the one it created, and a name recorded says a create was sent (an action before it that
    fails, such as a hold-down scale refused, leaves none: the Job's fate is "never created").
    The real Job's record says, until its result does, that the database may have changed:
    a Job that vanishes, or an operator that dies now, must never lead to "restore the app"."""
    purpose, step = PURPOSE[phase]
    if not dry_run and not plan.current("databaseIdentity"):
        raise unpinned(plan, step)
    name = job_name(plan.ctx.obs.resource, purpose, attempt, str(plan.current("sqlSha256")))
    changed = {} if dry_run else {"databaseChanged": True}
    plan.step(step, StepState.RUNNING, f"Job {name}").record_now(jobName=name, **changed)
    # Looked at again at once: that observation starts the watch of the Job's pod, whose end
    # (with the runner's result) shows a second before the Job's own status; the Job's status
    # updates on the way wake no decision (controller.cache).
    plan.act(CreateJob(name, purpose, attempt, dry_run)).wake_in(0)
    # Only once the create went through, whatever else this decision records first: a Job
    # absent once this is recorded was deleted, and is never created again (`jobabsence`).
    plan.after(jobCreated=name)


def unpinned(plan: Plan, step: StepName) -> Failure:
    """The real Job runs only pinned to the database its rehearsal ran on. A resource without
    that pin (one past ScalingDown when an operator that records none was upgraded, or a CRD
    that prunes it) ends before its Job exists: nothing ran on the database, so the failure
    policy restores the app now, rather than rehearsing in the downtime to get a pin."""
    plan.patch(databaseChanged=False)
    return plan.failure(
        Reason.PRECONDITION_FAILED,
        "the rollback Job was not created: status.databaseIdentity (the database the "
        "rehearsal ran on, which pins the real Job) is missing: the resource predates the "
        "operator's upgrade, or the CRD is older than the operator (upgrade it). Nothing ran "
        "on the database; create a new MigrationRollback to rehearse and roll back",
        step,
    )


def _retry(
    plan: Plan,
    purpose: str,
    attempt: int,
    verdict: outcomes.JobVerdict,
    finished_at: dt.datetime | None,
) -> bool:
    """A retryable failure with retries left: announced once, then the backoff waited out
    and the next attempt begun (whose Job the next decision creates). Announced also when the
    backoff had passed by the time the failure was seen (a slow watch): status and events
    always say why there is another attempt. False: the failure stands."""
    ctx = plan.ctx
    retries = ctx.spec.job.retries
    delay = policy.retry_delay(verdict.retryable, attempt, retries)
    if delay is None:
        return False
    message = (
        f"{purpose} attempt {attempt} of {retries + 1} failed with nothing applied: "
        f"{verdict.message}; trying again in {delay:g}s"
    )
    if ctx.status.message != message:
        plan.patch(reason=str(Reason.TRANSIENT_ERROR), message=message)
        plan.event(str(Reason.TRANSIENT_ERROR), message, warning=True)
    left = delay - ((ctx.now - finished_at).total_seconds() if finished_at else delay)
    if left <= 0:
        plan.patch(attempts={**ctx.status.attempts, purpose: attempt + 1}).wake_in(0)
        return True
    plan.wake_in(left)
    return True


def result_fields(
    result: JobResult | None, migrations: Sequence[Mapping[str, Any]] = ()
) -> dict[str, Any]:
    """What status shows of a Job's result (already scrubbed of the URL's secrets);
    `migrations` (spec.targetVersion's set) takes each member's state from it. A result
    without states (a COMMIT whose outcome is unknown) leaves them as they were."""
    if result is None:
        return {}
    fields: dict[str, Any] = {"result": result.summary()}
    if migrations and result.migration_states:
        fields["migrations"] = target.with_states(migrations, result.migration_states)
    if result.impact:
        fields["impact"] = [dict(i) for i in result.impact[:IMPACT_LIMIT]]
    fields["blockingSessions"] = [b.to_status() for b in result.blocking_sessions]
    if result.backup is not None:
        fields["backup"] = {
            "path": result.backup.path,
            "sizeBytes": result.backup.size_bytes,
            "verified": result.backup.verified,
        }
    return fields
