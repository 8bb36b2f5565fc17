"""One rollback's reconcile loop: observe -> decide -> interpret -> requeue.

A kopf daemon runs `RollbackFlow.run()` per resource. Each turn observes what the current
phase needs (controller.observe), asks the pure `lifecycle.decide` what to do, applies the
actions (controller.interpreter) and waits for a watch event (a Job, workload or watched pod
changed, the resource was annotated) or the decision's `requeue_after`, whichever comes first.
Nothing in a turn sleeps or polls.

Progress lives in the resource's status, so after an operator restart the loop resumes from
the recorded phase: Jobs have fixed names and are created only if absent, the original replica
counts are recorded once, and every action can safely be repeated.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from migration_rollback.controller.cache import WatchCache
from migration_rollback.controller.events import EventPoster
from migration_rollback.controller.interpreter import Interpreter, LeaseTaken
from migration_rollback.controller.observe import Memory, Observer
from migration_rollback.controller.permanent import refusal
from migration_rollback.controller.poddeletes import DeleteInFlight, PodDeletes
from migration_rollback.controller.podwatch import PodWatches
from migration_rollback.kube.client import Clients
from migration_rollback.lifecycle import errorbudget, pruning
from migration_rollback.lifecycle.actions import Decision, PatchStatus
from migration_rollback.lifecycle.decide import decide, failed_action, renewal
from migration_rollback.lifecycle.errorbudget import Budget, JobFate, after_error
from migration_rollback.lifecycle.model import RollbackSpec
from migration_rollback.lifecycle.observation import Observation
from migration_rollback.lifecycle.phases import Phase
from migration_rollback.lifecycle.record import Context, Failure
from migration_rollback.lifecycle.status import RollbackStatus
from migration_rollback.metrics import DECISION_SECONDS
from migration_rollback.settings import Settings

log = logging.getLogger("migration_rollback.flow")

# A decision with no requeue waits for a watch event; this is the fallback all the same.
IDLE_SECONDS = 30.0
# Another rollback took the database's Lease in the same instant: look again this soon.
LEASE_RACE_SECONDS = 1.0


class Stopped(Exception):
    """The daemon is being stopped (operator shutdown or resource deletion)."""


class RollbackFlow:
    def __init__(
        self,
        clients: Clients,
        settings: Settings,
        body: Mapping[str, Any],
        stopped: Callable[[float], bool],
        cache: WatchCache,
        events: EventPoster,
        deletes: PodDeletes,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.body = body  # kopf's live view: spec and metadata as the watch last saw them
        meta = body["metadata"]
        self.namespace, self.name = str(meta["namespace"]), str(meta["name"])
        # Status is the controller's own: every patch of it is ours, applied here as sent.
        self.obj: dict[str, Any] = {
            "metadata": dict(meta),
            "spec": dict(body.get("spec") or {}),
            "status": dict(body.get("status") or {}),
        }
        self.memory = Memory()
        self.seen = self.decided_on(meta)
        self.cache = cache
        identity = (settings.namespace, f"{self.namespace}/{self.name}")
        self.pods = PodWatches(clients, self.namespace, wake)
        self.observer = Observer(clients, cache, self.memory, self.namespace, identity, self.pods)
        self.interpreter = Interpreter(
            clients, settings, cache, self.memory, self.obj, events, deletes
        )
        self._wait_or_stop = stopped  # True when asked to stop

    @property
    def phase(self) -> Phase:
        return Phase(self.obj["status"].get("phase") or Phase.PENDING)

    @property
    def watched(self) -> frozenset[tuple[str, str]]:
        """(kind, name) of the workloads this rollback acts on: their watch events wake it."""
        keys = self.obj["status"].get("originalReplicas") or {}
        return frozenset((k.rpartition("/")[0] or "Deployment", k.rpartition("/")[2]) for k in keys)

    @staticmethod
    def decided_on(meta: Mapping[str, Any]) -> tuple[object, object]:
        """What of the resource's metadata a decision reads (a change wakes the loop)."""
        return meta.get("generation"), dict(meta.get("annotations") or {})

    def run(self) -> None:
        """A decision that asks to be made again at once (its record done, the next step
        decided on what it did) sends its status patch with the next one's. A turn that
        fails still sends what is unsent: it belongs to decisions whose actions were done
        (a record always goes out before the next action)."""
        try:
            self._turns()
        except Exception:
            self._flush_quietly()
            raise

    def _flush_quietly(self) -> None:
        try:
            self.interpreter.flush()
        except Exception as exc:  # the API is what failed: the turn's error is the one to raise
            log.warning("%s/%s: unsent status not sent: %s", self.namespace, self.name, exc)

    def _turns(self) -> None:
        while not self.phase.terminal:
            decision = self.turn()
            wait = decision.requeue_after if decision.requeue_after is not None else IDLE_SECONDS
            if wait > 0 or decision.send or Phase(decision.phase).terminal:
                self.interpreter.flush()
            if Phase(decision.phase).terminal:
                return
            if self._wait_or_stop(wait):
                self.interpreter.flush()
                raise Stopped()
        self.interpreter.flush()

    def forget(self) -> None:
        """The watch cache's entries only this rollback read; its pod watches."""
        self.pods.stop_all()
        keys = [(self.namespace, kind, name) for kind, name in self.watched]
        self.cache.forget_rollback(self.namespace, sorted(self.memory.seen_jobs), keys)

    def decide(
        self, spec: RollbackSpec, status: RollbackStatus, observation: Observation
    ) -> tuple[Decision, dt.datetime]:
        """A decision that does not begin with a status patch has the last one's unsent
        record go out before its first action: it is made again after that, so the times it
        records (the downtime's start) are not earlier than what they time."""
        now = dt.datetime.now(dt.UTC)
        decision = decide(spec, status, observation, now)
        leading = decision.actions[0] if decision.actions else None
        if self.interpreter.unsent and leading and not isinstance(leading, PatchStatus):
            self.interpreter.flush()
            now = dt.datetime.now(dt.UTC)
            decision = decide(spec, status, observation, now)
        return decision, now

    def turn(self) -> Decision:
        """One observe -> decide -> interpret. An error no retry seems to fix, wherever in
        the turn, ends the rollback through the failure policy or is tried again, as
        lifecycle.errorbudget says for the phase; others go to kopf, which runs the flow
        again after a while."""
        started = time.perf_counter()
        self.obj["metadata"] = dict(self.body["metadata"])
        self.seen = self.decided_on(self.obj["metadata"])
        self.obj["spec"] = dict(self.body.get("spec") or {})
        spec, status = RollbackSpec.from_obj(self.obj), RollbackStatus.from_obj(self.obj)
        observation = self.observer.bare(self.obj, spec)
        now = dt.datetime.now(dt.UTC)
        again = Decision((), status.phase, str(status.reason or ""), LEASE_RACE_SECONDS)
        try:
            observation = self.observer.observe(self.obj, spec, status)
            decision, now = self.decide(spec, status, observation)
            DECISION_SECONDS.labels(status.phase).observe(time.perf_counter() - started)
            self.interpreter.apply(decision)
        except (LeaseTaken, DeleteInFlight):  # the decision is made again in a moment
            return again
        except Failure as failure:
            return self._fail(spec, observation, now, failure) or again
        except Exception as exc:
            self._keep_lease()  # whatever failed: the Lease must not lapse under the Job
            return self._after_error(exc, spec, observation, now) or again
        self._cleared(spec, observation)
        return decision

    def _keep_lease(self) -> None:
        """Renew the database's Lease if due, apart from the turn that failed (renewal
        failures are logged by the interpreter: the next turn tries again)."""
        status = RollbackStatus.from_obj(self.obj)
        renew = renewal(status, self.memory.lease_renewed_at, dt.datetime.now(dt.UTC))
        try:
            if renew is not None:
                self.interpreter.renew(renew)
        except Exception as exc:  # the turn's error is the one to handle
            log.warning("%s/%s: Lease not renewed: %s", self.namespace, self.name, exc)

    def _after_error(
        self, exc: Exception, spec: RollbackSpec, observation: Observation, now: dt.datetime
    ) -> Decision | None:
        """An error of the turn: left to kopf (raised) when a retry may get past it; else
        counted in status, and the rollback ended or looked at again as the phase's budget
        says (in RollingBack, as its Job's fate says)."""
        error = refusal(exc)
        if error is None:
            raise exc
        status = RollbackStatus.from_obj(self.obj)
        budget = Budget.counted(status.error_retries, now)
        fate, changed = self._fate(status)
        step = after_error(self.phase, budget.tries, budget.seconds(now), error, fate)
        if "errorRetries" in self.memory.pruned:  # counted all the same: say where, and why
            note = pruning.in_memory_note("errorRetries")
            step = dataclasses.replace(step, message=step.message + note)
        log.warning("%s/%s: %s", self.namespace, self.name, step.message)
        ctx = Context(spec, status, observation, now)
        if step.end:
            ended = errorbudget.ending(ctx, step, changed)
            return self._fail(spec, observation, now, ended, routed=True)
        return self._retry(errorbudget.retrying(ctx, step, budget))

    def _fate(self, status: RollbackStatus) -> tuple[JobFate, bool | None]:
        """The phase's Job's fate, read only in a phase whose ending waits on it."""
        if self.phase not in errorbudget.JOB_PHASES:
            return JobFate.MAY_COMMIT, None
        return self.observer.job_fate(self.name, status)

    def _retry(self, decision: Decision) -> Decision:
        """Look again after the step's delay; status and a Warning Event say what failed and
        that it is tried again (their own failure is only logged: the retry is what matters,
        and the count then stays where it was)."""
        try:
            self.interpreter.apply(decision)
        except Exception as exc:  # the API is what fails: the record waits for the next one
            log.warning("%s/%s: the retry not recorded: %s", self.namespace, self.name, exc)
        return decision

    def _cleared(self, spec: RollbackSpec, observation: Observation) -> None:
        """A turn went through: a count of failed turns before it is cleared (its own
        failure only logged: the next good turn clears it)."""
        ctx = Context(spec, RollbackStatus.from_obj(self.obj), observation, dt.datetime.now(dt.UTC))
        done = errorbudget.cleared(ctx)
        if done is None:
            return
        try:
            self.interpreter.apply(done)
        except Exception as exc:
            log.warning("%s/%s: error count not cleared: %s", self.namespace, self.name, exc)

    def _fail(
        self,
        spec: RollbackSpec,
        observation: Observation,
        now: dt.datetime,
        failure: Failure,
        routed: bool = False,
    ) -> Decision | None:
        """The failure policy applied to what was applied before the failure; None when its
        restore met a pod delete in flight (the decision is made again in a moment). An
        action the failing decision carried that is refused for what it says (a hold-down's
        scale to 0, refused every turn) is an error of the turn, as the error budget says:
        else the flow would crash on it at every restart and never end (`routed`: once)."""
        log.warning("%s/%s: failed: %s", self.namespace, self.name, failure.message)
        after = RollbackStatus.from_obj(self.obj)  # what was applied before it failed
        decision = failed_action(spec, after, observation, now, failure)
        try:
            self.interpreter.apply(decision)
        except DeleteInFlight:  # its restore scales up: made again, not a daemon crash
            return None
        except Exception as exc:
            if routed or refusal(exc) is None:
                raise
            self._keep_lease()
            return self._after_error(exc, spec, observation, now)
        return decision
