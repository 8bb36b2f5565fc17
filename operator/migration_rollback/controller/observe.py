"""Observe the world for one decision (I/O): only what the current phase's decision looks at,
from the watch cache where it can, with the API as the fallback.

`Memory` is what one rollback's controller keeps between decisions: the redactor built from
the Secret, the Jobs it has seen, the health checks' counts, when it last renewed the Lease.
A restart loses it, and every part of it is rebuilt from a read (the health counts from status).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from migration_rollback import conninfo
from migration_rollback.controller import podwatch
from migration_rollback.controller.cache import WatchCache, WorkloadState
from migration_rollback.jobresult import JobResult
from migration_rollback.kube import jobs, leases, sources, workloads
from migration_rollback.kube.client import Clients
from migration_rollback.lifecycle import analysis, health, jobrun, podstart, target
from migration_rollback.lifecycle.durations import parse_timestamp
from migration_rollback.lifecycle.health import CheckSpec, Tracker
from migration_rollback.lifecycle.model import ConfigMapKeyRef, RollbackSpec
from migration_rollback.lifecycle.observation import (
    CheckView,
    JobView,
    LeaseView,
    Observation,
    PodEnd,
    PodGroup,
    RevisionView,
    WorkloadView,
)
from migration_rollback.lifecycle.phases import Phase
from migration_rollback.lifecycle.podstart import PodBlock
from migration_rollback.lifecycle.status import RollbackStatus
from migration_rollback.metrics import HEALTH_CHECK_FAILURES
from migration_rollback.redact import Redactor

log = logging.getLogger("migration_rollback.observe")
URL_FIELD = "spec.database.urlSecretRef"
Prober = Callable[[str, float], health.Probe]


def http_probe(url: str, timeout: float) -> health.Probe:
    import httpx

    try:
        response = httpx.get(url, timeout=timeout)
    except httpx.HTTPError as exc:
        return health.Probe(status=None, error=f"{type(exc).__name__} calling {url}")
    return health.Probe(status=response.status_code, body=response.text[:65536])


@dataclass
class Memory:
    redactor: Redactor = field(default_factory=Redactor.none)
    target: conninfo.DatabaseTarget | None = None
    seen_jobs: set[str] = field(default_factory=set)
    finished: dict[str, JobView] = field(default_factory=dict)
    trackers: dict[str, health.Tracker] = field(default_factory=dict)
    probed_at: dict[str, float] = field(default_factory=dict)
    lease_renewed_at: dt.datetime | None = None
    lease_holder: str | None = None  # another holder the last attempt to take the Lease met
    lease_held: leases.Attempt | None = None  # our last try at it: ours, renewed/released by it
    job_versions: dict[str, str] = field(default_factory=dict)  # Jobs created here: their version
    secret_read_for: str | None = None  # the Job whose start the URL was re-read after
    hpas: dict[str, dict[str, int]] = field(default_factory=dict)


class Observer:
    def __init__(
        self,
        clients: Clients,
        cache: WatchCache,
        memory: Memory,
        namespace: str,
        identity: tuple[str, str],
        pods: podwatch.PodWatches,
        probe: Prober = http_probe,
    ) -> None:
        self.clients, self.cache, self.memory = clients, cache, memory
        self.namespace = namespace
        self.lease_namespace, self.identity = identity
        self.pods = pods
        self.probe = probe

    def bare(self, obj: dict[str, Any], spec: RollbackSpec) -> Observation:
        """What is known without a request: what a failure found mid-observation decides on."""
        meta = obj["metadata"]
        return Observation(
            resource=str(meta["name"]),
            generation=int(meta.get("generation", 1)),
            annotations=dict(meta.get("annotations") or {}),
            url_where=self.url_where(spec),
            lease_renewed_at=self.memory.lease_renewed_at,
        )

    def observe(
        self, obj: dict[str, Any], spec: RollbackSpec, status: RollbackStatus
    ) -> Observation:
        phase = Phase(status.phase)
        base = self.bare(obj, spec)
        reader = READERS.get(phase)
        observed = base if reader is None else reader(self, base, spec, status)
        self.pods.keep_only_used()
        return observed

    # --- the database URL -------------------------------------------------------------------

    @staticmethod
    def url_where(spec: RollbackSpec) -> str:
        """Where the URL comes from, for messages: names the Secret and key, never the value."""
        db = spec.database.url_secret_ref
        return f"Secret {db.name} key {db.key} ({URL_FIELD})"

    def read_target(self, spec: RollbackSpec) -> conninfo.DatabaseTarget:
        """The Secret's URL parsed as libpq parses it; refreshes the redactor, so it scrubs
        what the Jobs are given. Raises SourceNotFoundError or InvalidDatabaseUrlError."""
        db = spec.database.url_secret_ref
        text = sources.secret_value(self.clients, self.namespace, db.name, db.key, URL_FIELD)
        target = conninfo.parse_database_url(text, where=self.url_where(spec))
        self.memory.target, self.memory.redactor = target, target.redactor()
        return target

    def sources(self, base: Observation, spec: RollbackSpec, _: RollbackStatus) -> Observation:
        try:
            if spec.target_version:
                name = str(spec.rollback.migrations_from)
                files = sources.config_map_data(self.clients, self.namespace, name, target.FIELD)
                self.read_target(spec)
                return _with(base, migration_files=files)
            text = self.resolve_sql(spec)
            self.read_target(spec)  # a URL libpq cannot parse ends here, before any Job
        except sources.SourceNotFoundError as exc:
            return _with(base, missing=str(exc))
        except conninfo.InvalidDatabaseUrlError as exc:
            return _with(base, url_error=str(exc))
        return _with(base, sql_text=text)

    def resolve_sql(self, spec: RollbackSpec) -> str:
        source = spec.rollback
        if source.sql is not None:
            return source.sql
        if source.config_map is not None:
            ref, where = source.config_map, "spec.rollback.configMapRef"
            return sources.config_map_value(self.clients, self.namespace, ref.name, ref.key, where)
        ref = source.generate_from or ConfigMapKeyRef("", "")
        forward = sources.config_map_value(
            self.clients,
            self.namespace,
            ref.name,
            ref.key,
            "spec.rollback.generateFrom.configMapRef",
        )
        return analysis.generated_rollback(
            forward, spec.migration or ref.key.removesuffix(".sql"), ref.key
        )

    # --- Lease and Jobs ---------------------------------------------------------------------

    def preparing(
        self, base: Observation, spec: RollbackSpec, status: RollbackStatus
    ) -> Observation:
        if status.database_lock:
            return self.with_job(base, spec, status)
        try:
            target = self.memory.target or self.read_target(spec)
        except (sources.SourceNotFoundError, conninfo.InvalidDatabaseUrlError) as exc:
            return _with(base, missing=str(exc))
        name = lease_name(target)
        if self.memory.lease_holder is not None:  # it was taken: look who holds it now
            self.memory.lease_holder = leases.holder(self.clients, self.lease_namespace, name)
        holder = self.memory.lease_holder
        return _with(base, lease=LeaseView(name, holder, holder == self.identity))

    def with_job(
        self, base: Observation, spec: RollbackSpec, status: RollbackStatus
    ) -> Observation:
        name = jobrun.current_job(base.resource, status)
        if name is None:
            return base
        recorded = status.job_name == name
        stopped = status.job_stopped.get("job") == name  # its pods are counted until gone
        cached = None if stopped else self.memory.finished.get(name)
        view = cached or self.job_view(spec, name, recorded)
        if view is None and stopped:  # deleted by us: its pods (orphans) may still be there
            view = self.pods_of_gone_job(name)
        if view is not None:
            self.memory.seen_jobs.add(name)
        seen = name in self.memory.seen_jobs
        return _with(base, job=view, job_seen=seen)

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
        return JobView(name, gone=True, pods=len(seen.pods), pod_ran=ran, watch=seen.watch)

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

    def scrubbed(self, block: PodBlock | None) -> PodBlock | None:
        if block is None:
            return None
        return dataclasses.replace(block, message=self.memory.redactor.scrub(block.message))

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

    # --- workloads ----------------------------------------------------------------------------

    def with_workloads(
        self, base: Observation, spec: RollbackSpec, status: RollbackStatus
    ) -> Observation:
        if not status.original_replicas:  # only the scale-down records them
            scaling_down = Phase(status.phase) is Phase.SCALING_DOWN
            if not scaling_down:
                return base
            return _with(self.first_look(base, spec), database=self.database_now(spec))
        counted = Phase(status.phase) is Phase.SCALING_DOWN
        views = tuple(self.workload_view(key, counted) for key in status.original_replicas)
        return _with(base, workloads=views)

    def workload_view(self, key: str, counted: bool = False) -> WorkloadView:
        """`counted`: with its pods not yet gone (the scale-down waits for them)."""
        w = workloads.Workload.from_key(key)
        state = self.cache.workload(self.namespace, w.kind, w.name)
        if state is None:
            self.cache.put_workload(w.kind, workloads.read(self.clients, self.namespace, w))
            state = self.cache.workload(self.namespace, w.kind, w.name)
        assert state is not None  # just stored
        live, groups = self.live_pods(state) if counted else (None, ())
        return WorkloadView(
            key,
            state.desired,
            state.ready,
            state.current_pods,
            self.memory.hpas.get(key, {}),
            live_pods=live,
            settled=state.settled,
            pod_groups=groups,
            kind=w.kind,
        )

    def live_pods(self, state: WorkloadState) -> tuple[int | None, tuple[PodGroup, ...]]:
        """The workload's pods not yet gone, terminating ones included (they may still
        write), and their counts by ReplicaSet: from a watch of its selector's pods,
        listed once when it starts. Without the watch (it broke), from the workload's status:
        None while that shows some; where the cluster reports terminatingReplicas, showing
        none of either means none; elsewhere the pods matching its selector are listed."""
        if not state.match_labels:
            return 0, ()
        selector = workloads.selector_string(dict(state.match_labels))
        seen = self.pods.view(selector, listed=True)
        if seen is not None:
            live = [p for p in seen.pods if not p.ended]
            return len(live), podwatch.pod_groups(live)
        if state.desired or state.current_pods or state.terminating:
            return None, ()
        if state.terminating is not None:
            return 0, ()
        found = workloads.pods_matching(self.clients, self.namespace, dict(state.match_labels))
        return found, ()

    def first_look(self, base: Observation, spec: RollbackSpec) -> Observation:
        try:
            refs = workloads.resolve_refs(self.clients, self.namespace, list(spec.workloads))
        except (workloads.WorkloadNotFoundError, workloads.LabelSyntaxError) as exc:
            return _with(base, workload_error=str(exc))
        for w, found in refs.items():
            self.cache.put_workload(w.kind, found.obj)  # the views below read it from here
            self.memory.hpas[w.key] = workloads.hpa_min_replicas(self.clients, self.namespace, w)
        views = tuple(self.workload_view(w.key, counted=True) for w in sorted(refs))
        revisions = tuple(
            self.revision_view(w, found.ref.revision)
            for w, found in sorted(refs.items())
            if found.ref.revision != "current"
        )
        return _with(base, workloads=views, revisions=revisions)

    def database_now(self, spec: RollbackSpec) -> str | None:
        """The Lease name of the database the Secret leads to now, read again before the
        downtime: one edited since the rehearsal stops the rollback before anything is
        touched. None when it cannot be read (the Job then fails on it, with its reason)."""
        try:
            return lease_name(self.read_target(spec))
        except (sources.SourceNotFoundError, conninfo.InvalidDatabaseUrlError):
            return None

    def revision_view(self, w: workloads.Workload, wanted: str) -> RevisionView:
        if w.kind != "Deployment":
            return RevisionView(w.key, w.kind, wanted)
        current, templates = workloads.revisions(self.clients, self.namespace, w.name)
        return RevisionView(w.key, w.kind, wanted, current, templates)

    def rolling_back(
        self, base: Observation, spec: RollbackSpec, status: RollbackStatus
    ) -> Observation:
        return self.with_job(self.with_workloads(base, spec, status), spec, status)

    # --- health -------------------------------------------------------------------------------

    def health(self, base: Observation, spec: RollbackSpec, status: RollbackStatus) -> Observation:
        """Each pending check probed once its period has passed since its last probe. The
        counts go on from those status holds (an operator restarted while verifying)."""
        views = []
        recorded = {str(c.get("name")): c for c in status.health_checks}
        for check in spec.health_checks:
            tracker = self.memory.trackers.get(check.name) or self.resumed(
                check, recorded.get(check.name, {})
            )
            last = self.memory.probed_at.get(check.name)
            due = last is None or time.monotonic() - last >= check.period_seconds
            if tracker.verdict is health.Verdict.PENDING and due:
                self.memory.probed_at[check.name] = time.monotonic()
                before = tracker.failures
                tracker.record(self.probe(check.url, check.timeout_seconds))
                if tracker.failures > before:
                    HEALTH_CHECK_FAILURES.labels(check.name).inc()
            views.append(
                CheckView(
                    check.name,
                    tracker.verdict,
                    tracker.last,
                    check.period_seconds,
                    tracker.successes,
                    tracker.failures,
                )
            )
        return _with(base, health=tuple(views))

    def resumed(self, check: CheckSpec, recorded: Mapping[str, Any]) -> Tracker:
        tracker = Tracker(
            check,
            successes=int(recorded.get("successes") or 0),
            failures=int(recorded.get("failures") or 0),
            last=str(recorded.get("message") or ""),
        )
        self.memory.trackers[check.name] = tracker
        return tracker


def lease_name(target: conninfo.DatabaseTarget) -> str:
    """The per-database Lease: one rollback at a time per host, port and database."""
    return f"mrb-db-{target.identity}"


def _with(base: Observation, **fields: Any) -> Observation:
    return dataclasses.replace(base, **fields)


Reader = Callable[[Observer, Observation, RollbackSpec, RollbackStatus], Observation]
# What each phase's decision looks at.
READERS: dict[Phase, Reader] = {
    Phase.VALIDATING: Observer.sources,
    Phase.PREPARING: Observer.preparing,
    Phase.SCALING_DOWN: Observer.with_workloads,
    Phase.ROLLING_BACK: Observer.rolling_back,
    Phase.SCALING_UP: Observer.with_workloads,
    Phase.RESTORING: Observer.with_workloads,
    Phase.VERIFYING: Observer.health,
}
