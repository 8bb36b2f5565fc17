"""Where a rollback's downtime goes: every hand-off from the scale-down to the pods back,
each timed and attributed to whoever does it (the operator, a control-plane controller, the
node agent, the runner), so the slow one shows and what is ours is told from what is not.

Moments come from two clocks on this one machine: the arrival of watch events here (the app's
Deployment, ReplicaSets and pods, the rollback's Job and its pod) and the operator's own
decision times in status (`steps[].startedAt` / `finishedAt`, milliseconds). Arrival times,
not the objects' timestamps: those are whole seconds. A gap between two moments is the work of
whoever acts between them; a watch's own delivery adds a few milliseconds to each.

Coordination, as the issue defines it (downtime - Job - ScaleUp), is the window from the
scale-down decision to the decision that saw the last pod gone: the first rows below.
"""

from __future__ import annotations

import datetime as dt
import itertools
import statistics
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import urllib3
from kubernetes import client, watch

from migration_rollback.controller.podwatch import RawWatch

Lister = Callable[..., Any]
MANAGED = "app.kubernetes.io/managed-by=migration-rollback"
NAN = float("nan")


@dataclass(frozen=True)
class Seen:
    at: float  # wall-clock seconds when the event arrived here
    kind: str  # Deployment, ReplicaSet, Pod (the app's), Job, JobPod
    type: str
    namespace: str
    name: str
    obj: Mapping[str, Any]

    @property
    def meta(self) -> Mapping[str, Any]:
        return self.obj.get("metadata") or {}

    @property
    def spec(self) -> Mapping[str, Any]:
        return self.obj.get("spec") or {}


@dataclass(frozen=True)
class Mark:
    """One moment of the window and who acts from the previous moment up to it."""

    name: str
    actor: str


# In order; the coordination window is the first COORDINATION marks.
MARKS = (
    Mark("scale-down decided", "operator: the decision (downtime starts)"),
    Mark("Deployment at 0 seen", "operator: scale PATCH; API server"),
    Mark("ReplicaSet at 0 seen", "Deployment controller"),
    Mark("first app pod deleting", "ReplicaSet controller"),
    Mark("last app pod gone", "node agent (kwok); operator's pod delete"),
    Mark("pods gone decided", "operator: pod watch -> decision"),
    Mark("Job created seen", "operator: status PATCH + Job POST"),
    Mark("Job pod created", "Job controller"),
    Mark("Job pod bound", "scheduler"),
    Mark("Job process started", "node agent (job executor): env, spawn"),
    Mark("Job process ended", "runner: python start, connect, SQL, result"),
    Mark("Job end decided", "operator: pod watch -> decision"),
    Mark("Deployment back up seen", "operator: scale PATCH; API server"),
    Mark("pods Ready decided", "controllers, scheduler, node agent, operator"),
)
COORDINATION = 6  # "scale-down decided" .. "pods gone decided"


@dataclass
class Timeline:
    """Every event of the app's objects (pods and ReplicaSets by `selector`, all
    Deployments) and of the operator's Jobs and their pods, as it arrived."""

    api: client.ApiClient
    selector: str
    events: list[Seen] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _watches: list[watch.Watch] = field(default_factory=list)

    def start(self) -> Timeline:
        core, apps = client.CoreV1Api(self.api), client.AppsV1Api(self.api)
        batch = client.BatchV1Api(self.api)
        for kind, lister, selector in (
            ("Deployment", apps.list_deployment_for_all_namespaces, ""),
            ("ReplicaSet", apps.list_replica_set_for_all_namespaces, self.selector),
            ("Pod", core.list_pod_for_all_namespaces, self.selector),
            ("Job", batch.list_job_for_all_namespaces, MANAGED),
            ("JobPod", core.list_pod_for_all_namespaces, MANAGED),
        ):
            w = RawWatch()  # type: ignore[no-untyped-call]  # ERROR events as ApiException
            self._watches.append(w)
            args = (w, kind, lister, selector)
            threading.Thread(target=self._run, args=args, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for w in self._watches:
            w.stop()  # type: ignore[no-untyped-call]

    def _run(self, w: watch.Watch, kind: str, lister: Lister, selector: str) -> None:
        try:
            self._follow(w, kind, lister, selector)
        except Exception:
            if not self._stop.is_set():
                raise

    def _follow(self, w: watch.Watch, kind: str, lister: Lister, selector: str) -> None:
        """Resumed from its last event where the API server cuts it (a loaded one does);
        a version it has not caught up with yet (504) is tried again."""
        version = ""
        while not self._stop.is_set():
            since = {"resource_version": version} if version else {}
            try:
                version = self._stream(w, kind, lister, selector, since) or version
            except (client.exceptions.ApiException, urllib3.exceptions.HTTPError) as exc:
                if getattr(exc, "status", None) == 410:
                    version = ""  # listed again: Pods seen before are not counted again
                time.sleep(0.2)

    def _stream(
        self, w: watch.Watch, kind: str, lister: Lister, selector: str, since: dict[str, str]
    ) -> str:
        version = ""
        stream = w.stream(  # type: ignore[no-untyped-call]
            lister, label_selector=selector, timeout_seconds=300, **since
        )
        for event in stream:
            if not isinstance(event, dict):  # a blank or undecodable line
                continue
            obj = event.get("object") or {}
            meta = obj.get("metadata") or {}
            namespace, name = str(meta.get("namespace")), str(meta.get("name"))
            version = str(meta.get("resourceVersion") or version)
            self.events.append(
                Seen(time.time(), kind, str(event.get("type")), namespace, name, obj)
            )
        return version

    def of(self, namespace: str) -> list[Seen]:
        return [e for e in list(self.events) if e.namespace == namespace]


def _epoch(text: str | None) -> float:
    return dt.datetime.fromisoformat(text).timestamp() if text else NAN


def _step(status: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    return next((s for s in status.get("steps", []) if s["name"] == name), {})


def _first(events: Sequence[Seen], after: float, test: Callable[[Seen], bool]) -> float:
    return next((e.at for e in events if e.at >= after and test(e)), NAN)


def _containers(e: Seen) -> list[Mapping[str, Any]]:
    statuses = (e.obj.get("status") or {}).get("containerStatuses") or []
    return [s.get("state") or {} for s in statuses]


def _at_zero(e: Seen) -> bool:
    return e.spec.get("replicas") == 0


def _job_of(e: Seen) -> str:
    return str((e.meta.get("labels") or {}).get("job-name") or "")


def _started(e: Seen) -> bool:
    return any("running" in s or "terminated" in s for s in _containers(e))


def _ended(e: Seen) -> bool:
    states = _containers(e)
    return bool(states) and all("terminated" in s for s in states)


def marks(events: Sequence[Seen], status: Mapping[str, Any]) -> dict[str, float]:
    """One rollback's moments (wall-clock seconds; NaN where not seen), from its namespace's
    events and its final status."""
    down, job_step, up = (_step(status, n) for n in ("ScaleDown", "Rollback", "ScaleUp"))
    start = _epoch(status.get("downtimeStartedAt") or down.get("startedAt"))
    job = str(status.get("jobName") or "")
    by = {kind: [e for e in events if e.kind == kind] for kind in ("Deployment", "ReplicaSet")}
    app_pods = [e for e in events if e.kind == "Pod"]
    job_pods = [e for e in events if e.kind == "JobPod" and _job_of(e) == job]
    gone = [e.at for e in app_pods if e.type == "DELETED" and e.at >= start]
    decided_end = _epoch(job_step.get("finishedAt"))
    return {
        "scale-down decided": start,
        "Deployment at 0 seen": _first(by["Deployment"], start, _at_zero),
        "ReplicaSet at 0 seen": _first(by["ReplicaSet"], start, _at_zero),
        "first app pod deleting": _first(
            app_pods, start, lambda e: bool(e.meta.get("deletionTimestamp"))
        ),
        "last app pod gone": max(gone, default=NAN),
        "pods gone decided": _epoch(down.get("finishedAt")),
        "Job created seen": _first(
            [e for e in events if e.kind == "Job" and e.name == job], start, lambda e: True
        ),
        "Job pod created": _first(job_pods, start, lambda e: True),
        "Job pod bound": _first(job_pods, start, lambda e: bool(e.spec.get("nodeName"))),
        "Job process started": _first(job_pods, start, _started),
        "Job process ended": _first(job_pods, start, _ended),
        "Job end decided": decided_end,
        "Deployment back up seen": _first(
            by["Deployment"], decided_end, lambda e: (e.spec.get("replicas") or 0) > 0
        ),
        "pods Ready decided": _epoch(up.get("finishedAt")),
    }


def replica_sets_back_up(events: Sequence[Seen], status: Mapping[str, Any]) -> int:
    """ReplicaSet events, from the scale-down to the decision that saw the pods gone, showing
    one above 0 after it was seen at 0: a zero undone in the window (pods would be created)."""
    start = _epoch(status.get("downtimeStartedAt") or _step(status, "ScaleDown").get("startedAt"))
    end = _epoch(_step(status, "ScaleDown").get("finishedAt"))
    zero: set[str] = set()
    back = 0
    for e in events:
        if e.kind != "ReplicaSet" or not start <= e.at <= end:
            continue
        if _at_zero(e):
            zero.add(e.name)
        elif e.name in zero:
            back += 1
    return back


def pods_added_in_window(events: Sequence[Seen], status: Mapping[str, Any]) -> int:
    """App pods created from the scale-down to the decision that saw the pods gone: a
    ReplicaSet replacing a pod deleted under it before it saw the zero (none is right)."""
    start = _epoch(status.get("downtimeStartedAt") or _step(status, "ScaleDown").get("startedAt"))
    end = _epoch(_step(status, "ScaleDown").get("finishedAt"))
    first: dict[str, float] = {}
    for e in events:
        if e.kind == "Pod" and e.type == "ADDED":
            first.setdefault(e.name, e.at)
    return sum(1 for at in first.values() if start <= at <= end)


def _median_max(values: Sequence[float]) -> str:
    return f"{statistics.median(values):6.2f} s  {max(values):6.2f} s"


def breakdown(rows: Sequence[Mapping[str, float]]) -> list[str]:
    """One line per hand-off: who acts, and the median and max over the rollbacks of the time
    from the previous moment to this one; then the coordination window's rows summed."""
    lines = ["timeline (each row: from the previous row; median / max over rollbacks):"]
    for i, (before, after) in enumerate(itertools.pairwise(MARKS), start=1):
        gaps = [r[after.name] - r[before.name] for r in rows]
        gaps = [g for g in gaps if g == g]  # NaN: a moment not seen
        if i == COORDINATION:
            lines.append("  -- coordination ends; the rollback Job's time --")
        if i == len(MARKS) - 2:
            lines.append("  -- the Job's time ends; ScaleUp --")
        if gaps:
            lines.append(f"  {after.name:26} {_median_max(gaps)}  {after.actor}  ({len(gaps)})")
    return lines


def coordination_shares(rows: Sequence[Mapping[str, float]]) -> list[str]:
    """The coordination window split between the operator and the control plane, per
    rollback, medians: the operator's rows are its scale and its decision on the pods' end."""
    names = [m.name for m in MARKS[:COORDINATION]]
    ours: list[float] = []
    theirs: list[float] = []
    for r in rows:
        gaps = {b: r[b] - r[a] for a, b in itertools.pairwise(names)}
        if any(g != g for g in gaps.values()):
            continue
        mine = gaps["Deployment at 0 seen"] + gaps["pods gone decided"]
        ours.append(mine)
        theirs.append(sum(gaps.values()) - mine)
    if not ours:
        return []
    return [
        f"coordination: operator's hops {_median_max(ours)}   "
        f"control plane's {_median_max(theirs)}   (median / max)"
    ]
