"""Where a scale-down's wait goes: the app's Deployments, ReplicaSets and pods as watch events
show them, timed on arrival, beside the operator's own step times in status.

The wait runs from the operator's scale of the Deployment to the moment it sees no pod left.
Between them: the Deployment controller scales the ReplicaSet, the ReplicaSet controller deletes
the pods (gracefully), the node agent (kwok here, the kubelet on a real cluster) stops and
removes them. Each hand-off is a row of the breakdown, so the slow one shows. Arrival times,
not the objects' timestamps: those are whole seconds.
"""

from __future__ import annotations

import datetime as dt
import itertools
import statistics
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kubernetes import client, watch

Lister = Callable[..., Any]


@dataclass(frozen=True)
class Seen:
    at: float  # wall-clock seconds when the event arrived here
    kind: str
    type: str
    namespace: str
    name: str
    obj: Mapping[str, Any]


@dataclass
class Timeline:
    """Every event of the app's objects (pods and ReplicaSets by `selector`, all
    Deployments), as it arrived."""

    api: client.ApiClient
    selector: str
    events: list[Seen] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _watches: list[watch.Watch] = field(default_factory=list)

    def start(self) -> Timeline:
        core, apps = client.CoreV1Api(self.api), client.AppsV1Api(self.api)
        for kind, lister, selector in (
            ("Deployment", apps.list_deployment_for_all_namespaces, ""),
            ("ReplicaSet", apps.list_replica_set_for_all_namespaces, self.selector),
            ("Pod", core.list_pod_for_all_namespaces, self.selector),
        ):
            w = watch.Watch()  # type: ignore[no-untyped-call]
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
        while not self._stop.is_set():
            stream = w.stream(  # type: ignore[no-untyped-call]
                lister, label_selector=selector, deserialize=False, timeout_seconds=300
            )
            for event in stream:
                obj = event.get("object") or {}
                meta = obj.get("metadata") or {}
                self.events.append(
                    Seen(
                        time.time(),
                        kind,
                        str(event.get("type")),
                        str(meta.get("namespace")),
                        str(meta.get("name")),
                        obj,
                    )
                )

    def of(self, namespace: str, kind: str) -> list[Seen]:
        return [e for e in list(self.events) if e.namespace == namespace and e.kind == kind]


def _epoch(text: str) -> float:
    return dt.datetime.fromisoformat(text).timestamp()


def _step(status: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    return next((s for s in status.get("steps", []) if s["name"] == name), {})


def _first(events: list[Seen], test: Callable[[Seen], bool]) -> float:
    return next((e.at for e in events if test(e)), float("nan"))


def marks(timeline: Timeline, namespace: str, status: Mapping[str, Any]) -> dict[str, float]:
    """The scale-down's moments for one rollback, in wall-clock seconds."""
    deployments = timeline.of(namespace, "Deployment")
    sets = timeline.of(namespace, "ReplicaSet")
    pods = timeline.of(namespace, "Pod")
    down = _step(status, "ScaleDown")
    deleting: dict[str, float] = {}  # each pod: when it was first seen being deleted
    for e in pods:
        if (e.obj.get("metadata") or {}).get("deletionTimestamp"):
            deleting.setdefault(e.name, e.at)
    return {
        "step started": _epoch(down["startedAt"]),
        "Deployment at 0 seen": _first(
            deployments, lambda e: (e.obj.get("spec") or {}).get("replicas") == 0
        ),
        "ReplicaSet at 0 seen": _first(
            sets, lambda e: (e.obj.get("spec") or {}).get("replicas") == 0
        ),
        "first pod deleting seen": min(deleting.values(), default=float("nan")),
        "last pod deleting seen": max(deleting.values(), default=float("nan")),
        "last pod gone seen": max(
            (e.at for e in pods if e.type == "DELETED"), default=float("nan")
        ),
        "step finished": _epoch(down["finishedAt"]),
    }


def breakdown(timeline: Timeline, done: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """One line per hand-off: the median and max over the rollbacks of the time from the
    previous moment to this one."""
    rows = [marks(timeline, ns, status) for ns, status in done.items()]
    names = list(rows[0]) if rows else []
    lines = ["scale-down breakdown (from the previous row; median / max over rollbacks):"]
    for before, after in itertools.pairwise(names):
        gaps = [r[after] - r[before] for r in rows if r[after] == r[after]]
        if gaps:
            lines.append(
                f"  {after:28} {statistics.median(gaps):6.2f} s  {max(gaps):6.2f} s"
                f"   ({len(gaps)} rollbacks)"
            )
    return lines
