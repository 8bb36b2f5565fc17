"""A Job's pod that cannot start (pure): read from the pod's own status, judged by a table.

A pod whose container never started never ran the runner, so the database was not touched:
a Secret or key deleted after validation (CreateContainerConfigError), an image that cannot
be pulled or named, a runtime that refuses the container, a pod no node fits, a pod evicted
before its container ran. Without this the Job would wait out `spec.job.timeoutSeconds` with
the app at zero. Each cause has a grace here (one table): how long the kubelet or the
scheduler is given to get past it before the Job counts as failed before the database.

Init containers (none in the Job's template, but an admission webhook may add one: a secrets
agent, a mesh's network setup) run first, and meanwhile the runner's container only waits
(`PodInitializing`): their own states say why, and which. One that cannot start is judged as a
container would be, one that failed fails the pod (restartPolicy Never), one that runs and never
ends is bounded by `NOT_STARTED`'s grace. A native sidecar (an init container with
restartPolicy Always) is restarted by the kubelet: its exit is a crash loop, and its running is
no init container that never ends. Whichever container it is, the cause names it; of a
container not ours (a webhook's) it says the name, exit code, reason and the kubelet's own
words, never the container's (its termination message may be its log tail). Each cause's grace
counts from the end of the init containers before it, not the pod's start: a slow init
container does not use up the next cause's grace.

Not seen: a volume that cannot be mounted (`FailedMount` is an Event, not a pod status; the pod
only stays `ContainerCreating`). It is bounded by `NOT_STARTED`'s grace, as is any other way a
pod can fail to start that the status does not name.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from migration_rollback.lifecycle.durations import parse_timestamp

MESSAGE_LIMIT = 300


class Blocked(enum.StrEnum):
    """Why a pod has not started a container: the kubelet's waiting reasons, and the pod's."""

    CONFIG_ERROR = "CreateContainerConfigError"  # a Secret/ConfigMap or key it reads is missing
    INVALID_IMAGE = "InvalidImageName"
    IMAGE_PULL = "ErrImagePull"
    IMAGE_BACKOFF = "ImagePullBackOff"
    CREATE_ERROR = "CreateContainerError"
    RUN_ERROR = "RunContainerError"
    CRASH_LOOP = "CrashLoopBackOff"  # an init container restarted (a native sidecar's)
    UNSCHEDULABLE = "Unschedulable"  # PodScheduled=False: no node fits its requests
    POD_FAILED = "PodFailed"  # phase Failed (evicted, rejected by the node) before a start
    NOT_STARTED = "NotStarted"  # pending for another reason (ContainerCreating: a mount)
    # No pod at all: the Job controller's pod was refused (an admission policy or webhook,
    # PodSecurity, a quota), said only in its FailedCreate Event.
    CREATE_REFUSED = "FailedCreate"


# Seconds a cause may last before the Job counts as failed. Zero: the kubelet retries it, but
# only a person can fix it (an image name). The kubelet and runtime also report passing
# trouble under the container errors ("failed to sync secret cache: timed out", "context
# deadline exceeded" on a loaded node): those get a few of its retries, unless the message
# names a permanent cause (`PERMANENT`). A pull gets a few retries (10, 20, 40 s back-off)
# for a registry's hiccup; scheduling gets time for an autoscaler to add a node; anything
# unnamed gets the time a slow image pull takes.
GRACE_SECONDS: dict[Blocked, float] = {
    Blocked.CONFIG_ERROR: 30,
    Blocked.INVALID_IMAGE: 0,
    Blocked.IMAGE_PULL: 60,
    Blocked.IMAGE_BACKOFF: 60,
    Blocked.CREATE_ERROR: 30,
    Blocked.RUN_ERROR: 30,
    Blocked.CRASH_LOOP: 60,
    Blocked.UNSCHEDULABLE: 120,
    Blocked.POD_FAILED: 0,
    Blocked.NOT_STARTED: 300,
    Blocked.CREATE_REFUSED: 60,  # a quota another pod's end frees
}
# A Job's pod usually exists a second after the Job: past this, a Job with none has its
# FailedCreate Events read (a request each look), and CREATE_REFUSED's grace may begin.
CREATE_LOOK_SECONDS = 5.0
# Words (lower case) in a cause's message that name what only a person can fix: a Secret,
# ConfigMap, key or executable that is not there, a root image under runAsNonRoot. No grace.
_MISSING = ("not found", "couldn't find key", "runasnonroot", "cannot verify user is non-root")
PERMANENT: dict[Blocked, tuple[str, ...]] = {
    Blocked.CONFIG_ERROR: _MISSING,
    Blocked.CREATE_ERROR: _MISSING,
    Blocked.RUN_ERROR: _MISSING,
    # An admission policy or webhook's "denied", PodSecurity's "violates": only a person (or
    # the policy's owner) changes them. A quota's "exceeded quota" keeps its grace.
    Blocked.CREATE_REFUSED: ("denied", "violates podsecurity"),
}
_WAITING = {b.value: b for b in Blocked}
# The runner's container in the Job's template (kube/jobs.py names it so): the only one whose
# own words (its termination message) are read; the others may be anyone's (a webhook's).
RUNNER_CONTAINER = "rollback"
# Causes whose message the kubelet writes itself, from names (an image; a Secret or ConfigMap
# and key, never a value): kept whichever container they are about.
KUBELET_WORDED = frozenset(
    {
        Blocked.CONFIG_ERROR,
        Blocked.INVALID_IMAGE,
        Blocked.IMAGE_PULL,
        Blocked.IMAGE_BACKOFF,
        Blocked.CRASH_LOOP,
    }  # "back-off 20s restarting failed container=..."
)
# Seconds a deleted Job's pods get to be gone before the operator says they are stuck (a node
# that stopped answering keeps a pod terminating until it is force-deleted). Meanwhile and after,
# the app is not restored: its pods must never run beside a rollback pod that could start.
GONE_SECONDS = 120.0


@dataclass(frozen=True)
class PodBlock:
    """A pod none of whose containers has started: why, the kubelet's or scheduler's words
    (a Secret's name and key, never a value: the kubelet never reads one into a message),
    and since when (from the pod's own timestamps, so a restarted operator keeps the clock)."""

    reason: Blocked
    message: str
    since: dt.datetime | None
    container: str = ""  # the container it is about ("": the pod's own cause)
    init: bool = False  # an init container
    permanent: bool = False  # words only a person can act on were said (maybe not kept)

    def overdue(self, now: dt.datetime) -> bool:
        return self.seconds_left(now) <= 0

    def seconds_left(self, now: dt.datetime) -> float:
        """Of its grace; the whole grace while its start is unknown (zero stays zero)."""
        grace = self.grace()
        if self.since is None or grace == 0:
            return grace
        return grace - (now - self.since).total_seconds()

    def grace(self) -> float:
        if self.permanent or _permanent(self.reason, self.message):
            return 0
        return GRACE_SECONDS[self.reason]

    def describe(self) -> str:
        """Cut here, not when read: the controller scrubs `message` first, and a secret cut
        in two would no longer be found by the redactor."""
        message = self.message[:MESSAGE_LIMIT]
        detail = f": {message}" if message else ""
        kind = "init container" if self.init else "container"
        which = f" in {kind} {self.container}" if self.container else ""
        return f"its pod never started ({self.reason}{which}{detail})"


def block_of(pod: Mapping[str, Any]) -> PodBlock | None:
    """None once any container has run (the runner may have touched the database)."""
    status = pod.get("status") or {}
    if ran(status):
        return None
    meta = pod.get("metadata") or {}
    start = parse_timestamp(status.get("startTime") or meta.get("creationTimestamp"))
    inits = _statuses(status, "initContainerStatuses", _restartable(pod))
    # Init containers run first: while one is in trouble, the others only wait for it.
    found = _Containers(inits, _statuses(status, "containerStatuses", frozenset()), start)
    return _container_block(status, found) or _pod_block(status, found)


def _container_block(status: Mapping[str, Any], found: _Containers) -> PodBlock | None:
    """Why, from the containers' own states: one failed, one cannot start, a sidecar exits."""
    named = next((c for c in found.all if c.waiting.get("reason") in _WAITING), None)
    failed = next((c for c in found.inits if c.failed and not c.restartable), None)
    if status.get("phase") == "Failed" or failed is not None:
        return _failed(status, failed or named, found.since(failed or named))
    if named is not None:
        return named.block(_WAITING[named.waiting["reason"]], named.said, found.since(named))
    # A native sidecar between an exit and its restart (the kubelet restarts it whatever the
    # pod's restartPolicy): a crash loop, not a failed pod.
    exited = next((c for c in found.inits if c.restartable and c.ended_state), None)
    if exited is not None:
        return exited.block(Blocked.CRASH_LOOP, exited.ended(), found.since(exited))
    return None


def _pod_block(status: Mapping[str, Any], found: _Containers) -> PodBlock | None:
    """Why, from the pod: no node fits it, or it is pending for a reason no state names."""
    scheduled = _condition(status, "PodScheduled")
    if scheduled.get("status") == "False" and scheduled.get("reason") == "Unschedulable":
        when = parse_timestamp(scheduled.get("lastTransitionTime")) or found.start
        return _block(Blocked.UNSCHEDULABLE, str(scheduled.get("message") or ""), when)
    if status.get("phase") not in (None, "Pending"):
        return None
    # A sidecar runs for the pod's life: only a run-to-completion one that never ends counts.
    running = next((c for c in found.inits if c.running and not c.restartable), None)
    if running is not None:  # never ends: bounded by NOT_STARTED's grace
        return running.block(Blocked.NOT_STARTED, "running, not finished", found.since(running))
    waiting = next((c for c in found.all if c.waiting), None)
    said = str(waiting.waiting.get("reason") or "") if waiting else ""
    return _block(Blocked.NOT_STARTED, said, found.since(None))


@dataclass(frozen=True)
class _Container:
    """One container's status, as far as a start is concerned."""

    name: str
    init: bool
    state: Mapping[str, Any]
    restartable: bool = False  # an init container with restartPolicy Always (a native sidecar)
    last: Mapping[str, Any] = field(default_factory=dict)  # its lastState (before a restart)

    @property
    def waiting(self) -> Mapping[str, Any]:
        return self.state.get("waiting") or {}

    @property
    def said(self) -> str:
        """The waiting message when it may be shown: ours, or the kubelet's own words."""
        return self._waiting_said if self._shown else ""

    @property
    def _waiting_said(self) -> str:
        return str(self.waiting.get("message") or "")

    @property
    def _shown(self) -> bool:
        return self.ours or str(self.waiting.get("reason")) in KUBELET_WORDED

    @property
    def running(self) -> bool:
        return "running" in self.state

    @property
    def ended_state(self) -> Mapping[str, Any]:
        end = self.state.get("terminated")
        return end if isinstance(end, Mapping) else {}

    @property
    def failed(self) -> bool:
        """An init container that ended unsuccessfully (the pod cannot go on: restartPolicy
        Never)."""
        return self.ended_state.get("exitCode") not in (0, None)

    def let_through(self) -> dt.datetime | None:
        """When the next container could begin: this init container's successful end, or a
        sidecar's start (None: not yet, or not said)."""
        if self.restartable:  # its earliest start known: a restart does not reset the clock
            runs = (self.state.get("running"), self.ended_state, self.last.get("terminated"))
            starts = [parse_timestamp(r.get("startedAt")) for r in runs if isinstance(r, Mapping)]
            return min((t for t in starts if t is not None), default=None)
        if self.ended_state and not self.failed:
            return parse_timestamp(self.ended_state.get("finishedAt"))
        return None

    def ended(self) -> str:
        """Exit code and reason, never the container's own message: only init containers
        are read so, none of them ours, and a webhook's may write its log tail there
        (FallbackToLogsOnError)."""
        end = self.ended_state
        why = f" ({end['reason']})" if end.get("reason") else ""
        return f"exited {end.get('exitCode')}{why}"

    @property
    def ours(self) -> bool:
        return not self.init and self.name == RUNNER_CONTAINER

    def block(self, reason: Blocked, message: str, since: dt.datetime | None) -> PodBlock:
        """Another's container (a webhook's) is named with its reason; of its waiting words
        only the kubelet's own (`KUBELET_WORDED`) are shown (`said`). Whether the words not
        shown name a permanent cause is still judged."""
        hidden = not self._shown and _permanent(reason, self._waiting_said)
        return PodBlock(reason, _clean(message), since, self.name, self.init, hidden)


@dataclass(frozen=True)
class _Containers:
    """A pod's init containers (in order) and containers, and when it started."""

    inits: list[_Container]
    main: list[_Container]
    start: dt.datetime | None

    @property
    def all(self) -> list[_Container]:
        return [*self.inits, *self.main]

    def since(self, culprit: _Container | None) -> dt.datetime | None:
        """When `culprit` could first have been in trouble: the pod's start or the end of the
        init containers before it (all of them for a container or the pod), the later: a
        slow init container does not use up the grace of the cause after it."""
        before = (
            self.inits
            if culprit is None or not culprit.init
            else self.inits[: self.inits.index(culprit)]
        )
        times = [t for t in (c.let_through() for c in before) if t is not None]
        return max([*times, *([self.start] if self.start else [])], default=None)


def _restartable(pod: Mapping[str, Any]) -> frozenset[str]:
    """The init containers the kubelet restarts (restartPolicy Always: native sidecars)."""
    specs = (pod.get("spec") or {}).get("initContainers") or []
    return frozenset(str(c.get("name")) for c in specs if c.get("restartPolicy") == "Always")


def _statuses(status: Mapping[str, Any], key: str, restartable: frozenset[str]) -> list[_Container]:
    init = key == "initContainerStatuses"
    return [
        _Container(name, init, s.get("state") or {}, name in restartable, s.get("lastState") or {})
        for s in status.get(key) or []
        for name in [str(s.get("name") or "?")]
    ]


def _failed(
    status: Mapping[str, Any], culprit: _Container | None, since: dt.datetime | None
) -> PodBlock:
    """The pod failed (or will: an init container failed) before the runner's container ran."""
    if culprit is not None and culprit.failed:
        return culprit.block(Blocked.POD_FAILED, culprit.ended(), since)
    why = status.get("reason") or (culprit.waiting.get("reason") if culprit else None) or "Failed"
    block = _block(Blocked.POD_FAILED, f"{why}: {status.get('message') or ''}", since)
    return block if culprit is None else culprit.block(block.reason, block.message, since)


def refused(message: str, since: dt.datetime | None) -> PodBlock:
    """A Job that has no pod because the Job controller's were refused (its FailedCreate)."""
    return _block(Blocked.CREATE_REFUSED, message, since)


def ran(status: Mapping[str, Any]) -> bool:
    """A container has started: running (keys, not values: a running state may carry
    nothing yet), or ended after a start. An end counts only with a container or a start
    time: the kubelet (1.27+) rewrites a container that never started as terminated
    (ContainerStatusUnknown, exit 137, neither) when its pod is deleted or evicted."""
    for s in status.get("containerStatuses") or []:
        state, last = s.get("state") or {}, s.get("lastState") or {}
        if "running" in state or _started_end(state) or _started_end(last):
            return True
    return False


def _started_end(state: Mapping[str, Any]) -> bool:
    end = state.get("terminated")
    return isinstance(end, Mapping) and bool(end.get("containerID") or end.get("startedAt"))


def _condition(status: Mapping[str, Any], kind: str) -> Mapping[str, Any]:
    return next((c for c in status.get("conditions") or [] if c.get("type") == kind), {})


def _block(reason: Blocked, message: str, since: dt.datetime | None) -> PodBlock:
    return PodBlock(reason, _clean(message), since)


def _permanent(reason: Blocked, message: str) -> bool:
    said = message.lower()
    return any(words in said for words in PERMANENT.get(reason, ()))


def _clean(message: str) -> str:
    return message.strip().rstrip(":")
