"""Observe the world for one decision (I/O): only what the current phase's decision looks at,
from the watch cache where it can, with the API as the fallback. Here the sources, the Lease,
the workloads and the health checks, and which phase reads what (READERS); the phase's Job is
controller.observe_jobs's, the memory and the database URL controller.observe_base's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from migration_rollback import conninfo
from migration_rollback.controller import podwatch
from migration_rollback.controller.cache import WorkloadState
from migration_rollback.controller.observe_base import (
    URL_FIELD,
    Memory,
    Prober,
    http_probe,
    lease_name,
    with_fields,
)
from migration_rollback.controller.observe_jobs import JobReader
from migration_rollback.kube import leases, sources, workloads
from migration_rollback.kube.maintenance import HEADERS_FIELD
from migration_rollback.lifecycle import analysis, health, target
from migration_rollback.lifecycle.health import CheckSpec, Tracker
from migration_rollback.lifecycle.model import ConfigMapKeyRef, RollbackSpec
from migration_rollback.lifecycle.observation import (
    CheckView,
    LeaseView,
    Observation,
    PodGroup,
    RevisionView,
    WorkloadView,
)
from migration_rollback.lifecycle.phases import Phase
from migration_rollback.lifecycle.status import RollbackStatus
from migration_rollback.metrics import HEALTH_CHECK_FAILURES

__all__ = ["URL_FIELD", "Memory", "Observer", "Prober", "http_probe", "lease_name"]
log = logging.getLogger("migration_rollback.observe")


class Observer(JobReader):
    def observe(
        self, obj: dict[str, Any], spec: RollbackSpec, status: RollbackStatus
    ) -> Observation:
        phase = Phase(status.phase)
        base = self.bare(obj, spec)
        reader = READERS.get(phase)
        observed = base if reader is None else reader(self, base, spec, status)
        self.pods.keep_only_used()
        return observed

    def sources(self, base: Observation, spec: RollbackSpec, _: RollbackStatus) -> Observation:
        try:
            if spec.target_version:
                name = str(spec.rollback.migrations_from)
                files = sources.config_map_data(self.clients, self.namespace, name, target.FIELD)
                self.read_target(spec)
                return with_fields(base, migration_files=files)
            text = self.resolve_sql(spec)
            self.read_target(spec)  # a URL libpq cannot parse ends here, before any Job
            self.check_headers(spec)  # so does a maintenance header that cannot be sent
        except sources.SourceNotFoundError as exc:
            return with_fields(base, missing=str(exc))
        except conninfo.InvalidDatabaseUrlError as exc:
            return with_fields(base, url_error=str(exc))
        except sources.InvalidHeaderError as exc:
            return with_fields(base, headers_error=str(exc))
        return with_fields(base, sql_text=text)

    def check_headers(self, spec: RollbackSpec) -> None:
        """The maintenance call's headers Secret read and checked as the call will send it,
        before anything is touched: missing, it is waited for as any source; a value that
        cannot be sent fails the rollback naming the Secret and key (never the value)."""
        http = spec.maintenance.http if spec.maintenance else None
        if http is not None and http.headers_secret:
            sources.header_values(self.clients, self.namespace, http.headers_secret, HEADERS_FIELD)

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
            return with_fields(base, missing=str(exc))
        name = lease_name(target)
        if self.memory.lease_holder is not None:  # it was taken: look who holds it now
            self.memory.lease_holder = leases.holder(self.clients, self.lease_namespace, name)
        holder = self.memory.lease_holder
        return with_fields(base, lease=LeaseView(name, holder, holder == self.identity))

    # --- workloads ----------------------------------------------------------------------------

    def with_workloads(
        self, base: Observation, spec: RollbackSpec, status: RollbackStatus
    ) -> Observation:
        if not status.original_replicas:  # only the scale-down records them
            scaling_down = Phase(status.phase) is Phase.SCALING_DOWN
            if not scaling_down:
                return base
            return with_fields(self.first_look(base, spec), database=self.database_now(spec))
        counted = Phase(status.phase) is Phase.SCALING_DOWN
        views = tuple(self.workload_view(key, counted) for key in status.original_replicas)
        return with_fields(base, workloads=views)

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
            return with_fields(base, workload_error=str(exc))
        for w, found in refs.items():
            self.cache.put_workload(w.kind, found.obj)  # the views below read it from here
            self.memory.hpas[w.key] = workloads.hpa_min_replicas(self.clients, self.namespace, w)
        views = tuple(self.workload_view(w.key, counted=True) for w in sorted(refs))
        revisions = tuple(
            self.revision_view(w, found.ref.revision)
            for w, found in sorted(refs.items())
            if found.ref.revision != "current"
        )
        return with_fields(base, workloads=views, revisions=revisions)

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
        return with_fields(base, health=tuple(views))

    def resumed(self, check: CheckSpec, recorded: Mapping[str, Any]) -> Tracker:
        tracker = Tracker(
            check,
            successes=int(recorded.get("successes") or 0),
            failures=int(recorded.get("failures") or 0),
            last=str(recorded.get("message") or ""),
        )
        self.memory.trackers[check.name] = tracker
        return tracker


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
