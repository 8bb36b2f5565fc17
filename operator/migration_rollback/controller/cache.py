"""The last state the watches showed of each rollback's Jobs, workloads and their
ReplicaSets (an informer's store, kept small): observations read from here instead of asking
the API server each time.

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

from migration_rollback.kube.workloads import TEMPLATE_HASH_LABEL

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


@dataclass(frozen=True)
class ReplicaSetState:
    """One of a Deployment's ReplicaSets: whether its controller can still create a pod."""

    name: str
    template_hash: str  # its pods' pod-template-hash label
    desired: int
    synced: bool  # its controller acted on its latest spec (observedGeneration)
    resource_version: str


def replica_set_state(obj: Mapping[str, Any]) -> ReplicaSetState:
    meta = obj.get("metadata") or {}
    return ReplicaSetState(
        name=str(meta.get("name")),
        template_hash=str((meta.get("labels") or {}).get(TEMPLATE_HASH_LABEL) or ""),
        desired=_desired(obj),
        synced=_synced(obj),
        resource_version=str(meta.get("resourceVersion") or ""),
    )


def owner_deployment(obj: Mapping[str, Any]) -> str | None:
    """The Deployment a ReplicaSet belongs to (its controller owner), if any."""
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("kind") == "Deployment" and ref.get("controller"):
            return str(ref.get("name"))
    return None


def _desired(obj: Mapping[str, Any]) -> int:
    """spec.replicas, 1 when unset (the API's default)."""
    replicas = (obj.get("spec") or {}).get("replicas")
    return int(replicas if replicas is not None else 1)


def _synced(obj: Mapping[str, Any]) -> bool:
    """Its controller has acted on its latest spec (status.observedGeneration)."""
    observed = (obj.get("status") or {}).get("observedGeneration")
    return int(observed or 0) >= int((obj.get("metadata") or {}).get("generation") or 0)


def _newer(new: str, old: str) -> bool:
    """resourceVersions are opaque, but etcd's are increasing integers; anything else wins."""
    if new.isdigit() and old.isdigit():
        return int(new) >= int(old)
    return True


def workload_state(obj: Mapping[str, Any]) -> WorkloadState:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return WorkloadState(
        desired=_desired(obj),
        ready=int(status.get("readyReplicas") or 0),
        current_pods=int(status.get("replicas") or 0),
        match_labels=dict((spec.get("selector") or {}).get("matchLabels") or {}),
        resource_version=str((obj.get("metadata") or {}).get("resourceVersion") or ""),
        terminating=int(status["terminatingReplicas"])
        if status.get("terminatingReplicas") is not None
        else None,
        settled=_synced(obj),
    )


class WatchCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[Key, dict[str, Any]] = {}
        self._workloads: dict[Key, WorkloadState] = {}
        # (namespace, "ReplicaSet", Deployment name) -> its ReplicaSets by name
        self._sets: dict[Key, dict[str, ReplicaSetState]] = {}

    @staticmethod
    def _key(kind: str, obj: Mapping[str, Any]) -> Key:
        meta = obj.get("metadata") or {}
        return (str(meta.get("namespace")), kind, str(meta.get("name")))

    def _version(self, obj: Mapping[str, Any]) -> str:
        return str((obj.get("metadata") or {}).get("resourceVersion") or "")

    def put_job(self, obj: Mapping[str, Any]) -> None:
        key = self._key("Job", obj)
        with self._lock:
            old = self._jobs.get(key)
            if old is None or _newer(self._version(obj), self._version(old)):
                self._jobs[key] = dict(obj)

    def job(self, namespace: str, name: str) -> dict[str, Any] | None:
        with self._lock:
            return self._jobs.get((namespace, "Job", name))

    def put_workload(self, kind: str, obj: Mapping[str, Any]) -> None:
        key, state = self._key(kind, obj), workload_state(obj)
        with self._lock:
            old = self._workloads.get(key)
            if old is None or _newer(state.resource_version, old.resource_version):
                self._workloads[key] = state

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

    def put_replica_set(self, deployment: str, obj: Mapping[str, Any], gone: bool = False) -> None:
        meta, state = obj.get("metadata") or {}, replica_set_state(obj)
        key = (str(meta.get("namespace")), "ReplicaSet", deployment)
        with self._lock:
            sets = self._sets.setdefault(key, {})
            old = sets.get(state.name)
            if gone:
                sets.pop(state.name, None)
            elif old is None or _newer(state.resource_version, old.resource_version):
                sets[state.name] = state

    def replica_sets(self, namespace: str, deployment: str) -> tuple[ReplicaSetState, ...]:
        with self._lock:
            return tuple(self._sets.get((namespace, "ReplicaSet", deployment), {}).values())

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
                self._sets.pop((key[0], "ReplicaSet", key[2]), None)
