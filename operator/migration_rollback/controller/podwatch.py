"""Narrow pod watches, one per label selector a running rollback looks at, each in a thread:
its Job's pod (the pod's end, with the runner's result as its termination message, is known
about a second before the Job controller's status says so) and the pods of the workloads it
scales down (gone before the workloads' status says so).

Only while the rollback needs them: the flow keeps the selectors its current phase reads and
stops the others, so the operator never receives the other pods of the namespaces (a kopf pod
handler would get every pod event of every watched namespace). A watch that breaks stops
being `synced`; the observer then reads as it would without it.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kubernetes import watch
from kubernetes.client.exceptions import ApiException

from migration_rollback.kube.client import Clients
from migration_rollback.kube.workloads import TEMPLATE_HASH_LABEL
from migration_rollback.lifecycle.observation import PodGroup
from migration_rollback.lifecycle.podstart import PodBlock, block_of, ran

log = logging.getLogger("migration_rollback.podwatch")
# The API server ends a watch after this long; it is then resumed from its last version. Short:
# a watch stopped before its request was sent lingers until then.
WATCH_SECONDS = 60
# Answers to a watch request that say "not now", not "never from there": a 504 is the watch
# cache not at the version yet ("Too large resource version", a loaded server), the others a
# server too busy. The same version is asked for again after a pause that doubles up to the
# last; a 410 relists (GONE below); any other answer (403...) ends the watch for good. Each
# comes as the HTTP status or as an ERROR event inside the stream (RawWatch).
RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})
BACKOFF_SECONDS = (1.0, 2.0, 4.0, 8.0, 16.0)
# Retries and relists in a row before the watch ends (~31 s with the pauses above): while it
# fails, the pods it shows may be stale; the observer lists them from then on.
RETRIES = 5
# The version it would resume from is gone (compacted, or older than the watch cache holds):
# the pods are listed again at once and watched from the list's version (a relist, as an
# informer does), under a new identity: what happened in between is not known. A 410 again
# before a watch has ended normally relists after a short pause (doubling): at once, a server
# that keeps answering 410 would be sent a list and a watch in a tight loop.
GONE = 410
GONE_BACKOFF_SECONDS = (0.25, 0.5, 1.0, 2.0)


class RawWatch(watch.Watch):
    """The client's watch with events as plain dicts (no model is built: a pod watch reads a
    few fields) and an ERROR event inside the stream raised as the ApiException it carries (its
    Status code: 410, 504, 429...), the same as that answer given as the HTTP status.

    Not the client's ``deserialize=False``: that skips the model, but an ERROR event then
    raises KeyError ('raw_object', a key only its decoder sets; kubernetes 37.0.2), and the
    watch ended on what was only a busy server's "not now". With no return type, its decoder
    keeps the event's object as the dict it is and handles ERROR events itself."""

    def get_return_type(self, func: Any) -> None:
        return None


@dataclass(frozen=True)
class PodView:
    """One look at a selector's pods, taken in one step under its watch's lock: the identity
    always names the watch that showed these very pods (a relist changes both at once)."""

    pods: tuple[PodState, ...]
    ever_started: bool  # a pod of it started a container, gone or not
    watch: str | None  # its watch's identity while unbroken; None: read without one


@dataclass(frozen=True)
class PodState:
    name: str
    resource_version: str
    ended: bool  # every container terminated, or the pod's phase is final
    succeeded: bool  # ended with every container's exit code 0
    ready: bool  # the Ready condition is True and the pod is not being deleted
    deleting: bool  # deleted, its containers being stopped (they may still write)
    started: bool  # a container has started (its environment, the Secret's value, is read)
    finished_at: str | None = None  # the last container's finishedAt
    message: str = ""  # the first terminated container's termination message
    template_hash: str = ""  # its pod-template-hash label: which of a Deployment's ReplicaSets
    block: PodBlock | None = None  # no container started yet: why (lifecycle.podstart)


def pod_state(obj: Mapping[str, Any]) -> PodState:
    meta, status = obj.get("metadata") or {}, obj.get("status") or {}
    containers = (obj.get("spec") or {}).get("containers") or []
    states = [(s.get("state") or {}) for s in status.get("containerStatuses") or []]
    ends = [s["terminated"] for s in states if s.get("terminated")]
    phase = status.get("phase")
    all_ended = bool(ends) and len(ends) >= max(len(containers), len(states))
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
    return PodState(
        name=str(meta.get("name")),
        resource_version=str(meta.get("resourceVersion") or ""),
        ended=all_ended or phase in ("Succeeded", "Failed"),
        succeeded=phase == "Succeeded"
        or (all_ended and all(int(e.get("exitCode", 1)) == 0 for e in ends)),
        ready=conditions.get("Ready") == "True" and not meta.get("deletionTimestamp"),
        deleting=bool(meta.get("deletionTimestamp")),
        started=ran(status),
        finished_at=max((str(e["finishedAt"]) for e in ends if e.get("finishedAt")), default=None),
        message=next((str(e.get("message") or "") for e in ends if e.get("message")), ""),
        template_hash=str((meta.get("labels") or {}).get(TEMPLATE_HASH_LABEL) or ""),
        block=block_of(obj),
    )


def pod_groups(pods: Iterable[PodState]) -> tuple[PodGroup, ...]:
    """Live pods counted by ReplicaSet (pod-template-hash), in the order first seen."""
    counts: dict[str, tuple[int, int]] = {}
    for p in pods:
        undeleted, deleting = counts.get(p.template_hash, (0, 0))
        counts[p.template_hash] = (
            (undeleted, deleting + 1) if p.deleting else (undeleted + 1, deleting)
        )
    return tuple(PodGroup(h, u, d) for h, (u, d) in counts.items())


class PodWatch:
    """The pods one label selector matches in one namespace, as a watch shows them.

    `listed`: the current pods come from one list first and the watch resumes from its
    version, so an empty answer means none (the workloads' pods). Otherwise the watch starts
    from now, its first events being the pods that exist (a Job's pod: only a positive
    answer is read from it, so it needs no list)."""

    def __init__(
        self,
        clients: Clients,
        namespace: str,
        selector: str,
        wake: Callable[[], None],
        listed: bool,
        since: str = "",
    ) -> None:
        self.clients, self.namespace, self.selector = clients, namespace, selector
        self._wake, self._listed, self._since = wake, listed, since
        self._lock = threading.Lock()
        self._pods: dict[str, PodState] = {}
        self._synced = False
        self._stopped = threading.Event()
        self._watch = RawWatch()  # type: ignore[no-untyped-call]
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"pods {selector}")
        self._version: str | None = None  # where the watch resumes: the list's, then events'
        # A pod of it started a container, though it may be gone since (deleted between two
        # looks): a Job stopped for not starting must not count as never started then.
        self.ever_started = False
        # Names this watch: one that breaks is never resumed (the selector is read by lists
        # from then on), and a relist (after a 410) names it anew, so while one identity is
        # synced it has seen every change since it started. Random, not the pid (pid 1 in
        # every container): a restarted operator's differs.
        self.identity = _new_identity()

    def start(self) -> PodWatch:
        if self._since:  # no pod of it exists from before this version: the list is empty
            self._version = self._since
        elif self._listed:
            self._version = self._list()
        self._synced = True
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._watch.stop()  # type: ignore[no-untyped-call]

    @property
    def synced(self) -> bool:
        return self._synced and not self._stopped.is_set()

    def pods(self) -> tuple[PodState, ...]:
        return self.view().pods

    def view(self) -> PodView:
        """Pods, ever_started and identity read together: none of them can be from before a
        relist while another is from after it."""
        with self._lock:
            identity = self.identity if self.synced else None
            return PodView(tuple(self._pods.values()), self.ever_started, identity)

    def _list(self, renamed: bool = False) -> str:
        """The selector's pods as listed now, replacing any seen before; the list's version.
        `renamed`: the watch takes a new identity in the same step, once the list is in hand
        (named before it, a reader during the list would pair the new name with old pods)."""
        found = self.clients.core.list_namespaced_pod(self.namespace, label_selector=self.selector)
        items = self.clients.api.sanitize_for_serialization(found.items)
        with self._lock:
            self._pods.clear()
            for obj in items:
                self._put(obj)
            if renamed:
                self.identity = _new_identity()
        return str(found.metadata.resource_version or "")

    def _relist(self, gone: ApiException) -> None:
        """After a 410: listed again under a new identity (a decision that recorded the old
        one sees the break), the flow woken to read the pods as they are now."""
        self._version = self._list(renamed=True)
        log.info("%s: pod watch %s relisted at %s after %s (%s)", self.namespace,
                 self.selector, self._version, gone.status, gone.reason)  # fmt: skip
        self._wake()

    def _put(self, obj: Mapping[str, Any]) -> bool:
        """True when the pod is new here or a field a decision reads changed."""
        pod = pod_state(obj)
        old = self._pods.get(pod.name)
        self._pods[pod.name] = pod
        self.ever_started = self.ever_started or pod.started
        return old is None or dataclasses.replace(old, resource_version="") != dataclasses.replace(
            pod, resource_version=""
        )

    def _run(self) -> None:
        failures: list[ApiException] = []  # in a row, since a watch last ended normally
        gone: ApiException | None = None  # the 410 a relist is owed for
        try:
            while not self._stopped.is_set():
                try:
                    if gone is not None:
                        self._relist(gone)
                        gone = None
                    self._stream()
                    failures.clear()
                except ApiException as exc:
                    gone = self._failed(exc, failures) or gone
        except Exception as exc:  # the observer reads without the watch from now on
            if not self._stopped.is_set():
                log.warning("%s: pod watch %s ended: %s", self.namespace, self.selector, exc)
        finally:
            with self._lock:  # a reader never pairs this watch's identity with a broken one
                self._synced = False
            self._wake()

    def _failed(self, exc: ApiException, failures: list[ApiException]) -> ApiException | None:
        """Raised again when it ends the watch; else paused after, and returned if a 410."""
        if exc.status not in {*RETRIED_STATUSES, GONE} or len(failures) >= RETRIES:
            raise exc
        failures.append(exc)
        self._pause(exc, retry_delay(failures))
        return exc if exc.status == GONE else None

    def _pause(self, exc: ApiException, delay: float) -> None:
        log.info("%s: pod watch %s at %s: %s (%s), again in %gs", self.namespace,
                 self.selector, self._version, exc.status, exc.reason, delay)  # fmt: skip
        self._stopped.wait(delay)

    def _stream(self) -> None:
        """Watched from `_version` to the stream's end, `_version` following each event: a
        retry after an error mid-stream resumes from the last event seen, not from the start
        (a version further back is likelier compacted away: a 410 and a relist)."""
        kwargs: dict[str, Any] = {"label_selector": self.selector}
        if self._version:
            kwargs["resource_version"] = self._version
        events = self._watch.stream(  # type: ignore[no-untyped-call]
            self.clients.core.list_namespaced_pod,
            self.namespace,
            timeout_seconds=WATCH_SECONDS,
            **kwargs,
        )
        for event in events:
            if isinstance(event, dict):  # not a blank or undecodable line
                self._take(event)
            if self._stopped.is_set():
                break

    def _take(self, event: Mapping[str, Any]) -> None:
        """One event: its version kept, its pod stored (a BOOKMARK carries only a version)."""
        obj = event.get("object") or {}
        meta = obj.get("metadata") or {}
        self._version = str(meta.get("resourceVersion") or self._version or "")
        if event.get("type") == "BOOKMARK":
            return
        with self._lock:
            if event.get("type") == "DELETED":
                self.ever_started = self.ever_started or ran(obj.get("status") or {})
                changed = self._pods.pop(str(meta.get("name")), None) is not None
            else:
                changed = self._put(obj)
        if changed:  # a status update that moves nothing a decision reads wakes none
            self._wake()


def retry_delay(failures: list[ApiException]) -> float:
    """The pause before the next try: a busy server's codes back off; a first 410 relists at
    once (the pods shown are stale), a 410 again after it only after a short pause."""
    status = failures[-1].status
    if status != GONE:
        return BACKOFF_SECONDS[min(len(failures) - 1, len(BACKOFF_SECONDS) - 1)]
    gones = 0
    for failure in reversed(failures):
        if failure.status != GONE:
            break
        gones += 1
    return (
        0.0 if gones == 1 else GONE_BACKOFF_SECONDS[min(gones - 2, len(GONE_BACKOFF_SECONDS) - 1)]
    )


def _new_identity() -> str:
    return f"{os.getpid()}-{uuid.uuid4().hex[:16]}"


class PodWatches:
    """One rollback's pod watches, by selector: those its current phase reads are kept, the
    others stopped."""

    def __init__(self, clients: Clients, namespace: str, wake: Callable[[], None]) -> None:
        self.clients, self.namespace, self._wake = clients, namespace, wake
        self._watches: dict[str, PodWatch] = {}
        self._wanted: set[str] = set()
        self._broken: set[str] = set()  # not watched again: read without the watch

    def view(self, selector: str, listed: bool, since: str = "") -> PodView | None:
        """The selector's pods, whether one ever started and its watch's identity (a decision
        compares it with the one it recorded earlier), from its watch (started now if
        needed), in one look; None when the watch is not in sync (it broke, or could not
        start). `since`: a resourceVersion before which none of its pods can exist (their
        Job's creation): watched from there, the list it would start with is known empty."""
        self._wanted.add(selector)
        if selector in self._broken:
            return None
        found = self._watches.get(selector)
        if found is None:
            found = self._watches[selector] = PodWatch(
                self.clients, self.namespace, selector, self._wake, listed, since
            )
            try:
                found.start()
            except Exception as exc:
                log.warning("%s: could not watch pods %s: %s", self.namespace, selector, exc)
        seen = found.view()
        if seen.watch is None:  # broke (or never started): read without it from now on
            self._broken.add(selector)
            return None
        return seen

    def ever_started(self, selector: str) -> bool:
        """A pod its watch showed started, the watch broken since: for a read without it
        (it only ever turns True, so no look can pair it with the wrong pods)."""
        found = self._watches.get(selector)
        return found is not None and found.view().ever_started

    def keep_only_used(self) -> None:
        """After an observation: stop the watches it did not read."""
        for selector in set(self._watches) - self._wanted:
            self._watches.pop(selector).stop()
        self._wanted = set()

    def stop_all(self) -> None:
        for w in self._watches.values():
            w.stop()
        self._watches.clear()


def ended_pod(pods: Iterable[PodState]) -> PodState | None:
    """The pod that ended, if any (a Job that cannot start another has one)."""
    return next((p for p in pods if p.ended), None)


def blocked_pod(pods: Iterable[PodState]) -> PodBlock | None:
    """Why the Job's pod has not started, when none of its pods has (a Job that started one
    and then another may have run the runner)."""
    found = list(pods)
    blocks = [p.block for p in found if p.block is not None]
    return blocks[0] if found and len(blocks) == len(found) else None
