"""kopf handlers: a daemon per MigrationRollback runs its flow; deletion restores the app.

Progress is stored in annotations (kopf's own bookkeeping) and in our status (the flow's), so
the CRD's structural schema never prunes kopf's state, and a restarted operator resumes.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, ClassVar

import kopf

from migration_rollback import api
from migration_rollback.controller.cache import WatchCache
from migration_rollback.controller.events import EventPoster
from migration_rollback.controller.flow import RollbackFlow, Stopped
from migration_rollback.controller.interpreter import restore_on_delete
from migration_rollback.controller.poddeletes import DeleteInFlight, PodDeletes
from migration_rollback.controller.readiness import Readiness, Watched
from migration_rollback.kube import jobs
from migration_rollback.kube.client import Clients
from migration_rollback.lifecycle.phases import Phase
from migration_rollback.metrics import ACTIVITY, IN_PROGRESS
from migration_rollback.settings import Settings

log = logging.getLogger("migration_rollback.controller")
# How often a waiting flow checks that its daemon is not being stopped (no API request).
STOP_CHECK_SECONDS = 0.25
# A deleted resource keeps its finalizer until its daemon has returned. kopf looks whether it
# has after `instant_exit` (a flow notices the stop within STOP_CHECK_SECONDS), then again after
# the backoff (its step in flight returned); without them only after cancellation_timeout (30 s).
STOP_INSTANT_EXIT_SECONDS = 2 * STOP_CHECK_SECONDS
STOP_BACKOFF_SECONDS = 2.0
# What kopf watches (the handlers below): the operator is ready once each has listed.
ROLLBACKS = Watched(api.GROUP, api.VERSION, api.PLURAL)
JOBS = Watched("batch", "v1", "jobs")
DEPLOYMENTS = Watched("apps", "v1", "deployments")
STATEFULSETS = Watched("apps", "v1", "statefulsets")
WATCHED = (ROLLBACKS, JOBS, DEPLOYMENTS, STATEFULSETS)


class Context:
    """What the handlers share; set once at startup by `controller.main`."""

    clients: Clients | None = None
    events: EventPoster | None = None
    deletes: PodDeletes | None = None  # one for every flow: see controller.poddeletes
    settings: Settings = Settings()
    readiness = Readiness()
    # (namespace, name) of each running rollback -> set when one of its Jobs, workloads or
    # watched pods changes, so the flow's wait ends at once instead of at its next poll.
    wakers: ClassVar[dict[tuple[str, str], threading.Event]] = {}
    flows: ClassVar[dict[tuple[str, str], RollbackFlow]] = {}
    # The last state the watches showed of the rollbacks' Jobs and workloads.
    cache = WatchCache()


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=f"{api.GROUP}")
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=f"{api.GROUP}", key="last-handled-configuration"
    )
    settings.persistence.finalizer = f"{api.GROUP}/finalizer"
    settings.posting.enabled = False  # events are posted by the flow, with our reasons
    # Each rollback's daemon is a thread blocked on I/O most of the time; asyncio's default
    # pool (cores + 4) would queue the 7th concurrent rollback behind the first six.
    settings.execution.max_workers = Context.settings.max_workers
    settings.background.instant_exit_timeout = STOP_INSTANT_EXIT_SECONDS
    settings.watching.server_timeout = 60
    # No watching of CRDs and namespaces: the namespaces are an explicit list and the CRD is
    # checked at startup (controller.main), so the chart's RBAC needs no cluster-wide reads.
    settings.scanning.disabled = True


def _clients() -> tuple[Clients, EventPoster, PodDeletes]:
    if Context.clients is None or Context.events is None or Context.deletes is None:
        raise kopf.TemporaryError("operator not initialised yet", delay=1)
    return Context.clients, Context.events, Context.deletes


@kopf.daemon(*ROLLBACKS, cancellation_backoff=STOP_BACKOFF_SECONDS, cancellation_timeout=30)
def run_rollback(
    stopped: kopf.DaemonStopped,
    name: str | None,
    namespace: str | None,
    status: kopf.Status,
    body: kopf.Body,
    **_: Any,
) -> None:
    phase = Phase(status.get("phase") or Phase.PENDING)
    if phase.terminal or name is None or namespace is None:
        return  # a one-shot action: re-applying or restarting never runs it again

    waker = Context.wakers.setdefault((namespace, name), threading.Event())

    def stop_requested(seconds: float) -> bool:
        """Wait up to `seconds`: less when a Job of this rollback changes (a watch event), at
        once when the daemon is stopped. True when it is being stopped."""
        deadline = time.monotonic() + seconds
        while not stopped.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if waker.wait(min(remaining, STOP_CHECK_SECONDS)):
                waker.clear()
                return bool(stopped.is_set())
        return True

    clients, events, deletes = _clients()
    flow = RollbackFlow(
        clients, Context.settings, body, stop_requested, Context.cache, events, deletes, waker.set
    )
    Context.flows[(namespace, name)] = flow
    IN_PROGRESS.inc()
    try:
        flow.run()
    except Stopped:
        log.info("%s/%s: stopping at %s; will resume from there", namespace, name, flow.phase)
    finally:
        flow.forget()
        IN_PROGRESS.dec()
        Context.wakers.pop((namespace, name), None)
        Context.flows.pop((namespace, name), None)


@kopf.on.event(*JOBS, labels={jobs.LABEL_MANAGED: jobs.MANAGED_BY})
async def job_changed(event: kopf.RawEvent, **_: Any) -> None:
    """A rollback's Job appeared, ended or vanished: note it, wake its flow. (In the event
    loop, not a worker thread: it only updates the cache and sets an Event.)"""
    obj = event.get("object") or {}
    if event.get("type") == "DELETED":
        Context.cache.forget("Job", obj)
    elif not Context.cache.put_job(obj):
        return  # its counters moved on the way: no decision reads them
    meta = obj.get("metadata") or {}
    owner = (meta.get("labels") or {}).get(jobs.LABEL_RESOURCE)
    waker = Context.wakers.get((str(meta.get("namespace")), str(owner)))
    if waker is not None:
        waker.set()


@kopf.on.event(*DEPLOYMENTS)
@kopf.on.event(*STATEFULSETS)
async def workload_changed(event: kopf.RawEvent, resource: kopf.Resource, **_: Any) -> None:
    """A workload changed (scaled up by someone, pods Ready): wake the flows acting on it,
    unless nothing a decision reads of it changed (its status's timestamps, its version)."""
    obj = event.get("object") or {}
    meta = obj.get("metadata") or {}
    namespace = str(meta.get("namespace"))
    kind = "StatefulSet" if resource.plural == STATEFULSETS.plural else "Deployment"
    key = (kind, meta.get("name"))
    acting = [
        k for k, flow in list(Context.flows.items()) if k[0] == namespace and key in flow.watched
    ]
    if not acting:
        return
    if event.get("type") == "DELETED":
        Context.cache.forget(kind, obj)
    elif not Context.cache.put_workload(kind, obj):
        return
    for rollback in acting:
        waker = Context.wakers.get(rollback)
        if waker is not None:
            waker.set()


@kopf.on.delete(*ROLLBACKS, optional=False)
def restore_before_delete(body: kopf.Body, logger: kopf.Logger, **_: Any) -> None:
    """The finalizer: nothing the resource did to the app outlives it. (Returns nothing: kopf
    would store a result in status, which the CRD's schema does not have.)"""
    clients, events, deletes = _clients()
    try:
        done = restore_on_delete(
            clients, Context.settings, Context.cache, dict(body), events, deletes
        )
    except DeleteInFlight as late:
        raise kopf.TemporaryError(str(late), delay=1) from late
    logger.info("deleted: %s", done)


@kopf.on.event(*ROLLBACKS)
async def track_activity(event: kopf.RawEvent, **_: Any) -> None:
    """Keep the alerting gauges' view of every resource current (see lifecycle.activity)."""
    obj = event.get("object") or {}
    uid = str((obj.get("metadata") or {}).get("uid", ""))
    if not uid:
        return
    if event.get("type") == "DELETED":
        ACTIVITY.forget(uid)
    else:
        ACTIVITY.observe(uid, obj.get("status"))
    _wake_on_change(obj)


def _wake_on_change(obj: kopf.RawBody) -> None:
    """The spec or an annotation (an approval) changed: the flow decides again at once. Its
    own status patches do not wake it: it applied them already."""
    meta = obj.get("metadata") or {}
    key = (str(meta.get("namespace")), str(meta.get("name")))
    flow, waker = Context.flows.get(key), Context.wakers.get(key)
    if flow is not None and waker is not None and flow.seen != flow.decided_on(meta):
        waker.set()
