"""Apply a decision's actions to the world (I/O), each idempotently, in the decision's order.

Status patches are merged into the controller's own copy of the resource (so the next
decision sees them without a read) and only the fields that change are sent. Free text is
scrubbed of the database URL's secrets on every write. An action that fails in a way no
retry fixes raises `lifecycle.ending.Failure`, which the flow hands to the failure policy.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from migration_rollback.controller.cache import WatchCache
from migration_rollback.controller.events import Event, EventPoster
from migration_rollback.controller.jobrequest import job_request
from migration_rollback.controller.observe_base import Memory
from migration_rollback.controller.poddeletes import DeleteInFlight, PodDeletes
from migration_rollback.controller.telemetry import record_metrics
from migration_rollback.kube import jobs, leases, maintenance, resources, workloads
from migration_rollback.kube.client import Clients, is_not_found
from migration_rollback.lifecycle import actions as a
from migration_rollback.lifecycle import policy, pruning
from migration_rollback.lifecycle.decide import DATABASE_LEASE_SECONDS
from migration_rollback.lifecycle.model import RollbackSpec
from migration_rollback.lifecycle.phases import Reason, StepName
from migration_rollback.lifecycle.record import Failure
from migration_rollback.lifecycle.status import RollbackStatus
from migration_rollback.metrics import ACTION_SECONDS
from migration_rollback.redact_sql import sql_excerpt, sql_excerpt_obj
from migration_rollback.settings import Settings

log = logging.getLogger("migration_rollback.flow")

# Status fields holding free text, some of it the Job's (its result, libpq's errors): scrubbed of
# the URL's secrets on every write. Not the others: timestamps and names must stay intact.
FREE_TEXT_FIELDS = frozenset({"message", "failure", "result", "impact", "backup"})
MESSAGE_LISTS = frozenset({"steps", "conditions", "healthChecks"})
# Objects with free text under these keys only (the rest names things, read back as written).
FREE_TEXT_KEYS: dict[str, frozenset[str]] = {"jobStopped": frozenset({"cause"})}
_FREE_TEXT = FREE_TEXT_FIELDS | MESSAGE_LISTS | FREE_TEXT_KEYS.keys()


# Actions a status patch may wait past. An Event announces what status says already: it is
# held with the patch and posted right after the request that sends it.
UNORDERED = (a.PatchStatus, a.RecordEvent)


class LeaseTaken(Exception):
    """Another rollback took the database's Lease first: the rest of the decision waits."""


class Interpreter:
    def __init__(
        self,
        clients: Clients,
        settings: Settings,
        cache: WatchCache,
        memory: Memory,
        obj: dict[str, Any],
        events: EventPoster,
        deletes: PodDeletes,
    ) -> None:
        self.clients, self.settings, self.cache, self.memory = clients, settings, cache, memory
        self.events, self.deletes = events, deletes
        self.obj = obj  # the controller's copy: status is updated here as it is patched
        self._unsent: dict[str, Any] = {}  # status fields patched here, not yet sent
        self._held: list[Event] = []  # Events announcing what `_unsent` records
        meta = obj["metadata"]
        self.namespace, self.name = str(meta["namespace"]), str(meta["name"])

    @property
    def identity(self) -> str:
        return f"{self.namespace}/{self.name}"

    def apply(self, decision: a.Decision) -> None:
        """The status patches wait for the next action that is not one (or for `flush`): a
        decision made at once after this one sends its record together with this one's, in
        the same order relative to every other action as if sent apart."""
        for action in decision.actions:
            if not isinstance(action, UNORDERED):
                self.flush()
            started = time.perf_counter()
            APPLY[type(action)](self, action)
            if not isinstance(action, a.PatchStatus):
                ACTION_SECONDS.labels(type(action).__name__).observe(time.perf_counter() - started)

    @property
    def unsent(self) -> bool:
        return bool(self._unsent)

    def flush(self) -> None:
        """Send the status patches not sent yet, as one (before the flow waits or stops), then
        the Events announcing them: an operator stopped before the patch posts none of them."""
        if self._unsent:
            started = time.perf_counter()
            stored = resources.patch_status(self.clients, self.namespace, self.name, self._unsent)
            self._drop_pruned(self._unsent, stored)
            self._unsent = {}
            ACTION_SECONDS.labels(a.PatchStatus.__name__).observe(time.perf_counter() - started)
        held, self._held = self._held, []
        for event in held:
            self.events.post(event)

    def _drop_pruned(self, sent: Mapping[str, Any], stored: Mapping[str, Any]) -> None:
        """Fields sent that the API server did not keep (a CRD older than the operator prunes
        those its schema lacks) stay in our copy, as lifecycle.pruning says why (but for
        databaseIdentity, whose absence the flow judges); a Warning Event names the outdated
        CRD once per field."""
        pruned = pruning.pruned_fields(sent, stored)
        if not pruned:
            return
        for key in pruning.JUDGED_ABSENT.intersection(pruned):
            self.obj["status"].pop(key, None)
        new = sorted(set(pruned) - self.memory.pruned)
        self.memory.pruned.update(pruned)
        if not new:
            return
        message = pruning.outdated_crd(new)
        log.warning("%s: %s", self.identity, message)
        now = dt.datetime.now(dt.UTC)
        meta = dict(self.obj["metadata"])
        self._held.append(Event(meta, pruning.EVENT_REASON, message, True, now))

    def scrub(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        redactor = self.memory.redactor
        out: dict[str, Any] = {}
        for key, value in fields.items():
            if key in FREE_TEXT_FIELDS:
                value = redactor.scrub_obj(value)
            elif key in FREE_TEXT_KEYS and isinstance(value, Mapping):
                texts = FREE_TEXT_KEYS[key]
                value = {k: redactor.scrub(str(v)) if k in texts else v for k, v in value.items()}
            elif key in MESSAGE_LISTS and isinstance(value, list):
                value = [
                    {**v, "message": redactor.scrub(str(v["message"]))} if v.get("message") else v
                    for v in value
                ]
            # And credentials written in SQL a message may quote (the runner masks its own).
            out[key] = sql_excerpt_obj(value) if key in _FREE_TEXT else value
        return out

    def patch_status(self, action: a.PatchStatus) -> None:
        status = self.obj.setdefault("status", {})
        changed = {k: v for k, v in self.scrub(action.fields).items() if status.get(k) != v}
        if not changed:
            return
        # A field patched twice before a flush: the later value was decided with the earlier
        # one in view (it is in our copy already), and replaces it.
        self._unsent.update(changed)
        before = dict(status)
        for key, value in changed.items():
            if value is None:
                status.pop(key, None)
            else:
                status[key] = value
        record_metrics(before, status)
        if "phase" in changed or "reason" in changed:
            log.info(
                "%s: %s (%s) %s",
                self.identity,
                status.get("phase"),
                status.get("reason"),
                status.get("message"),
            )

    def event(self, action: a.RecordEvent) -> None:
        """Handed to the poster threads (the next decision does not wait for it) once the
        status it announces is sent: at once, or by the flush that sends it."""
        message = sql_excerpt(self.memory.redactor.scrub(action.message))
        meta = dict(self.obj["metadata"])
        now = dt.datetime.now(dt.UTC)
        self._held.append(Event(meta, action.reason, message, action.warning, now))
        if not self._unsent:
            self.flush()

    def config_map(self, action: a.EnsureSqlConfigMap) -> None:
        owner = resources.owner_reference(self.obj)
        sql = action.sql if isinstance(action.sql, str) else dict(action.sql)
        manifest = jobs.sql_config_map(action.name, self.namespace, owner, sql)
        jobs.ensure_config_map(self.clients, manifest)

    def create_job(self, action: a.CreateJob) -> None:
        """An error of the request or the create created nothing: it is raised, and the Job
        counts as never created (nothing of it to see: `lifecycle.jobabsence`). What follows
        a create that went through must not say otherwise: the Job exists and may commit."""
        spec, status = RollbackSpec.from_obj(self.obj), RollbackStatus.from_obj(self.obj)
        request = job_request(self.obj, spec, status, self.settings, action)
        created = jobs.ensure_job(self.clients, jobs.build_job(request))
        self.memory.seen_jobs.add(action.name)
        if created is not None:
            self._remember_created(action.name, created)

    def _remember_created(self, name: str, created: Any) -> None:
        """The created Job in the watch cache and its version (its pod watch starts there).
        Failing, it is only logged: the Job was created, the watch brings it (its pods are
        then listed, with no version to start from), and the turn goes on."""
        try:
            obj = jobs.as_json(self.clients, created)
            self.cache.put_job(obj)
            version = str((obj.get("metadata") or {}).get("resourceVersion") or "")
        except Exception as exc:
            log.warning(
                "%s: Job %s created; reading the answer failed: %s", self.identity, name, exc
            )
            return
        self.memory.job_versions[name] = version

    def scale(self, action: a.ScaleTo) -> None:
        if action.replicas:  # a late pod delete must not meet the pods this brings up
            self.deletes.settle(self.namespace, action.workload)
        w = workloads.Workload.from_key(action.workload)
        answer = workloads.scale(self.clients, self.namespace, w, action.replicas)
        self.cache.scaled(self.namespace, w.kind, w.name, answer)

    def delete_pods(self, action: a.DeletePods) -> None:
        """In a thread of its own: a collection delete answers only once every pod is marked
        (over a second on a loaded API server), and the flow must act on the pods' end the
        moment the watch shows it. One at a time per workload: the decisions made meanwhile
        ask for it again."""
        w = workloads.Workload.from_key(action.workload)
        state = self.cache.workload(self.namespace, w.kind, w.name)
        if state is not None and state.match_labels:
            self.deletes.start(
                self.namespace, action.workload, state.match_labels, action.template_hashes
            )

    def maintenance(self, action: a.SetMaintenance) -> None:
        spec = RollbackSpec.from_obj(self.obj).maintenance
        if spec is None:
            return
        try:
            detail = maintenance.set_maintenance(self.clients, self.namespace, spec, action.enabled)
        except maintenance.MaintenanceError as exc:
            step = StepName.MAINTENANCE_ON if action.enabled else StepName.MAINTENANCE_OFF
            raise Failure(Reason.MAINTENANCE_FAILED, str(exc), step) from None
        log.info("%s: %s", self.identity, detail)

    def restore_revision(self, action: a.RestoreRevision) -> None:
        w = workloads.Workload.from_key(action.workload)
        if not workloads.roll_back_template(
            self.clients, self.namespace, w.name, action.template_hash
        ):
            raise Failure(
                Reason.WORKLOAD_NOT_FOUND,
                f"Deployment {w.name}: the ReplicaSet of "
                f"revision {action.revision} is gone (revisionHistoryLimit?)",
            )

    def _try_lease(self, name: str) -> str | None:
        """Take or renew the database's Lease; the holder's identity when another has it."""
        held = leases.try_acquire(
            self.clients,
            self.settings.namespace,
            name,
            self.identity,
            DATABASE_LEASE_SECONDS,
            self.memory.lease_held,
        )
        self.memory.lease_held = held  # another's: the next try reads first, no 409
        return held.holder

    def acquire(self, action: a.AcquireLease) -> None:
        holder = self._try_lease(action.name)
        self.memory.lease_holder = holder
        if holder is not None:
            raise LeaseTaken(holder)
        self.memory.lease_renewed_at = dt.datetime.now(dt.UTC)

    def renew(self, action: a.RenewLease) -> None:
        self.memory.lease_renewed_at = dt.datetime.now(dt.UTC)
        try:
            holder = self._try_lease(action.name)
        except Exception as exc:  # the next renewal tries again; the Lease has minutes left
            log.warning(
                "%s: could not renew the database Lease %s: %s", self.identity, action.name, exc
            )
            return
        if holder is not None:
            log.error("%s: the database Lease %s is held by %s", self.identity, action.name, holder)

    def release(self, action: a.ReleaseLease) -> None:
        held = self.memory.lease_held
        version = held.version if held is not None and held.holder is None else ""
        leases.release(self.clients, self.settings.namespace, action.name, self.identity, version)
        self.memory.lease_held = None

    def delete_job(self, action: a.DeleteJob) -> None:
        jobs.delete_job(self.clients, self.namespace, action.name, action.foreground)


APPLY: dict[type, Callable[[Interpreter, Any], None]] = {
    a.PatchStatus: Interpreter.patch_status,
    a.RecordEvent: Interpreter.event,
    a.EnsureSqlConfigMap: Interpreter.config_map,
    a.CreateJob: Interpreter.create_job,
    a.ScaleTo: Interpreter.scale,
    a.DeletePods: Interpreter.delete_pods,
    a.SetMaintenance: Interpreter.maintenance,
    a.RestoreRevision: Interpreter.restore_revision,
    a.AcquireLease: Interpreter.acquire,
    a.RenewLease: Interpreter.renew,
    a.ReleaseLease: Interpreter.release,
    a.DeleteJob: Interpreter.delete_job,
}


def restore_on_delete(
    clients: Clients,
    settings: Settings,
    cache: WatchCache,
    obj: dict[str, Any],
    events: EventPoster,
    deletes: PodDeletes,
) -> str:
    """Deleting a resource mid-flow: bring the app back and let go of everything it holds
    (the restore actions the Restoring phase applies, plus the Job and the Lease). A workload
    already gone (deleted first, or with its namespace) has nothing to bring back: a scale of
    it would fail the finalizer at every retry, and the resource and namespace never go; so
    has a maintenance ConfigMap already gone. Every action is tried before a failure is raised
    (for the finalizer's retry): a maintenance call that fails must not keep the Lease held."""
    spec, status = RollbackSpec.from_obj(obj), RollbackStatus.from_obj(obj)
    interpreter = Interpreter(clients, settings, cache, Memory(), dict(obj), events, deletes)
    done: list[str] = []
    failures: list[Exception] = []
    for action in policy.restore_actions(spec, status, deleting=True):
        try:
            interpreter.apply(a.Decision((action,), status.phase, str(status.reason or "")))
        except DeleteInFlight:
            raise
        except Exception as exc:
            if not (isinstance(action, _GONE_IS_DONE) and is_not_found(exc)):
                failures.append(exc)
                continue
            done.append(f"{_describe(action)}: already gone")
        else:
            done.append(_describe(action))
    interpreter.flush()
    if failures:
        raise failures[0]
    return "; ".join(done) or "nothing to restore"


# Restore actions on an object that may be deleted before the resource (with its namespace):
# a workload gone has no replicas to restore, a ConfigMap gone no flag to turn off.
_GONE_IS_DONE = (a.ScaleTo, a.SetMaintenance)


def _describe(action: a.Action) -> str:
    if isinstance(action, a.ScaleTo):
        return f"{action.workload}={action.replicas}"
    if isinstance(action, a.SetMaintenance):
        return "maintenance off"
    if isinstance(action, a.DeleteJob):
        return f"deleted Job {action.name}"
    return f"released {getattr(action, 'name', action)}"
