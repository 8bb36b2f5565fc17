"""Read the phase's Job for a decision (I/O): its pods, how it ended, the runner's result
(scrubbed before anything judges it), and, when a turn failed, its fate alone.

From the watch cache and the Job's pod watch where it can, with the API as the fallback.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from migration_rollback import conninfo
from migration_rollback.controller import podwatch
from migration_rollback.controller.observe_base import URL_FIELD, ObserverBase, with_fields
from migration_rollback.jobresult import JobResult
from migration_rollback.kube import jobs, sources
from migration_rollback.lifecycle import jobabsence, jobrun, outcomes, podstart
from migration_rollback.lifecycle.durations import parse_timestamp
from migration_rollback.lifecycle.errorbudget import JobFate
from migration_rollback.lifecycle.model import RollbackSpec
from migration_rollback.lifecycle.observation import JobView, Observation, PodEnd
from migration_rollback.lifecycle.podstart import PodBlock
from migration_rollback.lifecycle.status import RollbackStatus

log = logging.getLogger("migration_rollback.observe")


class JobReader(ObserverBase):
    def with_job(
        self, base: Observation, spec: RollbackSpec, status: RollbackStatus
    ) -> Observation:
        name = jobrun.current_job(base.resource, status)
        if name is None:
            return base
        # Its create accepted, as status says (a restarted operator's memory is empty)
        accepted = status.job_created == name
        recorded = status.job_name == name or accepted
        stopped = status.job_stopped.get("job") == name  # its pods are counted until gone
        cached = None if stopped else self.memory.finished.get(name)
        view = cached or self.job_view(spec, name, recorded)
        if view is not None and not view.gone:
            self.memory.seen_jobs.add(name)
        seen = name in self.memory.seen_jobs or accepted
        if view is None and (stopped or recorded or seen):
            # Not there (a GET said so): its pods, listed after that GET, say whether it
            # ever was and may still write (lifecycle.jobabsence)
            view = self.pods_of_gone_job(name)
        return with_fields(base, job=view, job_seen=seen)

    def job_view(self, spec: RollbackSpec, name: str, recorded: bool) -> JobView | None:
        """A Job neither recorded in status nor seen was never created: no read for it (its
        creation is create-if-absent all the same)."""
        obj = self.cache.job(self.namespace, name)
        if obj is None and (recorded or name in self.memory.seen_jobs):
            obj = jobs.read_job(self.clients, self.namespace, name)
        if obj is None:
            return None
        end = jobs.completion(obj)
        # Read after the Job's end too: a pod that never started tells a Job that failed
        # before the database from one whose runner left no result.
        seen = self.job_pods(name)  # pods, ever-started and identity from one look
        pods, ran = seen.pods, seen.ever_started or any(p.started for p in seen.pods)
        if ran:
            self.reread_target(spec, name)
        pod = podwatch.ended_pod(pods)
        block = podwatch.blocked_pod(pods)
        if block is None and not pods and not end.finished:
            block = self.create_refused(name, obj)
        running = JobView(
            name,
            pod_end=PodEnd(pod.succeeded, parse_timestamp(pod.finished_at)) if pod else None,
            replaceable=not jobs.single_pod(obj),
            pod_block=self.scrubbed(block),
            pods=len(pods),
            pod_ran=ran,
            deleting=bool((obj.get("metadata") or {}).get("deletionTimestamp")),
            watch=seen.watch,
        )
        if not end.finished and (pod is None or jobs.parse_result(pod.message) is None):
            return running  # a pod that ended without the runner's result: the Job says why
        view = self.finished_job(spec, running, end, pod)
        if jobrun.ended(view) is not None:
            self.memory.finished[name] = view
        return view

    def create_refused(self, name: str, obj: Mapping[str, Any]) -> PodBlock | None:
        """A Job still without a pod some seconds after its creation: its FailedCreate Events
        say why. Read only then: a Job's pod usually exists within a second (no request)."""
        meta = obj.get("metadata") or {}
        created = parse_timestamp(meta.get("creationTimestamp"))
        age = (dt.datetime.now(dt.UTC) - created).total_seconds() if created else 0.0
        if age < podstart.CREATE_LOOK_SECONDS or not meta.get("uid"):
            return None
        found = jobs.create_refusal(self.clients, self.namespace, name, str(meta["uid"]))
        return None if found is None else podstart.refused(found[0], parse_timestamp(found[1]))

    def pods_of_gone_job(self, name: str) -> JobView:
        seen = self.job_pods(name)
        ran = seen.ever_started or any(p.started for p in seen.pods)
        running = running_pods(seen.pods)
        pods = len(seen.pods)
        return JobView(name, gone=True, pods=pods, pod_ran=ran, watch=seen.watch, running=running)

    def job_pods(self, name: str) -> podwatch.PodView:
        """Listed before watched, so none is an answer: a Job stopped for not starting waits
        for its pods to be gone, and a restarted operator knows them at its first look. A Job
        this controller created is watched from its creation instead (none before it).
        Without the watch, listed: no identity (nothing shows what happened between looks),
        but what the broken watch saw start still counts."""
        selector, since = jobs.pod_selector(name), self.memory.job_versions.get(name, "")
        seen = self.pods.view(selector, listed=True, since=since)
        if seen is not None:
            return seen
        found = self.clients.core.list_namespaced_pod(self.namespace, label_selector=selector)
        items = self.clients.api.sanitize_for_serialization(found.items)
        pods = tuple(podwatch.pod_state(obj) for obj in items)
        return podwatch.PodView(pods, self.pods.ever_started(selector), watch=None)

    def reread_target(self, spec: RollbackSpec, job: str) -> None:
        """The Job's pod read the Secret when it started: scrub with that value should the
        Secret have changed since validation (keep what we have if it is gone or unparsable).
        Read once per Job, as soon as its pod is seen started, so the read is not between
        the Job's end and the scale-up (it is downtime); else when the Job is over."""
        if self.memory.secret_read_for == job:
            return
        self.memory.secret_read_for = job
        try:
            self.read_target(spec)
        except (sources.SourceNotFoundError, conninfo.InvalidDatabaseUrlError):
            log.warning("%s/%s: could not re-read %s", self.namespace, job, URL_FIELD)

    def finished_job(
        self,
        spec: RollbackSpec,
        running: JobView,
        end: jobs.Completion,
        pod: podwatch.PodState | None,
    ) -> JobView:
        """Read once: the result, scrubbed before anything is judged, cut or written. The
        result is the pod's termination message, from the pod watch or else a read."""
        self.reread_target(spec, running.name)
        if pod is not None:
            result, message = jobs.parse_result(pod.message), pod.message
        else:
            result, message = jobs.termination(self.clients, self.namespace, running.name)
        scrub = self.memory.redactor
        clean = scrub.scrub_obj(result) if result else None
        text = end.reason or str((result or {}).get("outcome", "")) or message
        return dataclasses.replace(
            running,
            finished=end.finished,
            succeeded=end.succeeded,
            result=JobResult.from_dict(clean) if clean else None,
            message=scrub.scrub(text),
            finished_at=parse_timestamp(end.finished_at),
        )

    def job_fate(self, resource: str, status: RollbackStatus) -> tuple[JobFate, bool | None]:
        """The phase's Job's fate, read on its own after a failed turn, and whether the
        database changed as far as its end says (None: cannot tell). A Job not recorded in
        status was never created (its name is recorded just before the create is sent). One
        that cannot be read may still commit; one absent, as `absent_job` says."""
        name = jobrun.current_job(resource, status)
        if name is None or status.job_name != name:
            return JobFate.NEVER_CREATED, False
        try:
            obj = self.cache.job(self.namespace, name) or jobs.read_job(
                self.clients, self.namespace, name
            )
            if obj is None:
                return self.absent_job(name, status)
            end = jobs.completion(obj)
            if not end.finished:
                return JobFate.MAY_COMMIT, None
            return JobFate.ENDED, self.changed_by(name, end.succeeded)
        except Exception as exc:  # unknown: the Job may still commit
            log.warning("%s/%s: its fate could not be read: %s", self.namespace, name, exc)
            return JobFate.MAY_COMMIT, None

    def absent_job(self, name: str, status: RollbackStatus) -> tuple[JobFate, bool | None]:
        """A recorded Job the API server does not have, judged as `lifecycle.jobabsence`
        says: while a pod of it may still run it may commit (a pod outlives its Job); once
        none can, it was never created, or it can commit nothing more and what it did is
        read from a pod it left or its end seen here, else unknown."""
        pods = self.job_pods(name).pods
        accepted = name in self.memory.seen_jobs or status.job_created == name
        fate = jobabsence.fate(jobabsence.AbsentJob(accepted, len(pods), running_pods(pods)))
        if fate is not JobFate.GONE:
            return fate, (False if fate is JobFate.NEVER_CREATED else None)
        return fate, self.left_by(name, pods)

    def left_by(self, name: str, pods: tuple[podwatch.PodState, ...]) -> bool | None:
        """Whether the database changed, as an ended pod's result or the Job's end seen
        here says; None: nothing says (the database then counts as changed)."""
        for pod in pods:
            result = jobs.parse_result(pod.message) if pod.ended else None
            if result:
                parsed = JobResult.from_dict(result)
                return outcomes.judge(pod.succeeded, parsed, pod.message, "").database_changed
        seen = self.memory.finished.get(name)
        if seen is not None and seen.finished:
            return outcomes.judge(seen.succeeded, seen.result, seen.message, "").database_changed
        return None

    def changed_by(self, name: str, succeeded: bool) -> bool | None:
        """What the ended Job's result says of the database (only the yes/no is used)."""
        result, message = jobs.termination(self.clients, self.namespace, name)
        parsed = JobResult.from_dict(result) if result else None
        return outcomes.judge(succeeded, parsed, message, "").database_changed


def running_pods(pods: tuple[podwatch.PodState, ...]) -> int:
    """Pods not ended, or being deleted: their containers may still write."""
    return sum(1 for p in pods if not p.ended or p.deleting)
