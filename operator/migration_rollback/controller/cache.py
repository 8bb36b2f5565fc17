"""The last state the watches showed of each rollback's Jobs and workloads (an informer's
store, kept small): observations read from here instead of asking the API server each time.

Entries come from watch events (controller.handlers) and from the answers to the controller's
own writes, so a decision never sees the world from before its own last action. A write's
answer and a watch event may arrive in either order: the newer resourceVersion wins.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from migration_rollback.kube import jobs

Key = tuple[str, str, str]  # namespace, kind, name


@dataclass(frozen=True)
class WorkloadState:
    desired: int
    ready: int
    current_pods: int  # status.replicas: pods not yet terminated
    match_labels: Mapping[str, str]
    resource_version: str
    terminating: int | None = None  # status.terminatingReplicas, where the cluster reports it
    settled: bool = True  # its controller acted on its latest spec (observedGeneration)


def _newer(new: str, old: str) -> bool:
    """resourceVersions are opaque, but etcd's are increasing integers; anything else wins."""
    if new.isdigit() and old.isdigit():
        return int(new) >= int(old)
    return True


def workload_state(obj: Mapping[str, Any]) -> WorkloadState:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    replicas = spec.get("replicas")
    return WorkloadState(
        desired=int(replicas if replicas is not None else 1),
        ready=int(status.get("readyReplicas") or 0),
        current_pods=int(status.get("replicas") or 0),
        match_labels=dict((spec.get("selector") or {}).get("matchLabels") or {}),
        resource_version=str((obj.get("metadata") or {}).get("resourceVersion") or ""),
        terminating=int(status["terminatingReplicas"])
        if status.get("terminatingReplicas") is not None
        else None,
        settled=int(status.get("observedGeneration") or 0)
        >= int((obj.get("metadata") or {}).get("generation") or 0),
    )


class WatchCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[Key, dict[str, Any]] = {}
        self._workloads: dict[Key, WorkloadState] = {}

    @staticmethod
    def _key(kind: str, obj: Mapping[str, Any]) -> Key:
        meta = obj.get("metadata") or {}
        return (str(meta.get("namespace")), kind, str(meta.get("name")))

    def _version(self, obj: Mapping[str, Any]) -> str:
        return str((obj.get("metadata") or {}).get("resourceVersion") or "")

    def put_job(self, obj: Mapping[str, Any]) -> bool:
        """True when a decision could see a change: the Job is new here or its end changed
        (not its counters and timestamps on the way: they wake no decision)."""
        key = self._key("Job", obj)
        with self._lock:
            old = self._jobs.get(key)
            if old is not None and not _newer(self._version(obj), self._version(old)):
                return False
            self._jobs[key] = dict(obj)
        return old is None or jobs.completion(dict(old)) != jobs.completion(dict(obj))

    def job(self, namespace: str, name: str) -> dict[str, Any] | None:
        with self._lock:
            return self._jobs.get((namespace, "Job", name))

    def put_workload(self, kind: str, obj: Mapping[str, Any]) -> bool:
        """True when a decision could see a change: new here, or a field it reads changed."""
        key, state = self._key(kind, obj), workload_state(obj)
        with self._lock:
            old = self._workloads.get(key)
            if old is not None and not _newer(state.resource_version, old.resource_version):
                return False
            self._workloads[key] = state
        return old is None or dataclasses.replace(old, resource_version="") != dataclasses.replace(
            state, resource_version=""
        )

    def scaled(self, namespace: str, kind: str, name: str, scale: Mapping[str, Any]) -> None:
        """The answer to our own scale: the desired replicas changed, nothing else yet (its
        controller has yet to act on a change)."""
        key = (namespace, kind, name)
        version = str((scale.get("metadata") or {}).get("resourceVersion") or "")
        replicas = int((scale.get("spec") or {}).get("replicas") or 0)
        with self._lock:
            old = self._workloads.get(key)
            if old is not None and _newer(version, old.resource_version):
                self._workloads[key] = dataclasses.replace(
                    old,
                    desired=replicas,
                    resource_version=version,
                    settled=old.settled and replicas == old.desired,
                )

    def workload(self, namespace: str, kind: str, name: str) -> WorkloadState | None:
        with self._lock:
            return self._workloads.get((namespace, kind, name))

    def forget(self, kind: str, obj: Mapping[str, Any]) -> None:
        """A DELETED event: the object is gone."""
        key = self._key(kind, obj)
        with self._lock:
            self._jobs.pop(key, None)
            self._workloads.pop(key, None)

    def forget_rollback(self, namespace: str, jobs: list[str], workloads: list[Key]) -> None:
        """A finished rollback's entries: nobody reads them again."""
        with self._lock:
            for name in jobs:
                self._jobs.pop((namespace, "Job", name), None)
            for key in workloads:
                self._workloads.pop(key, None)
