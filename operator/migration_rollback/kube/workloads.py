"""Find, scale and watch the application's workloads (Deployments and StatefulSets)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from migration_rollback.kube.client import Clients, is_not_found
from migration_rollback.lifecycle.model import WorkloadRef


@dataclass(frozen=True, slots=True, order=True)
class Workload:
    kind: str
    name: str

    @property
    def key(self) -> str:
        """How status.originalReplicas names it: `shop-web` for Deployments, else `Kind/name`."""
        return self.name if self.kind == "Deployment" else f"{self.kind}/{self.name}"

    @classmethod
    def from_key(cls, key: str) -> Workload:
        kind, _, name = key.rpartition("/")
        return cls(kind or "Deployment", name)


class WorkloadNotFoundError(LookupError):
    pass


class LabelSyntaxError(ValueError):
    """A matchLabels key or value outside Kubernetes' label syntax (the spec is wrong)."""


# Kubernetes' label syntax. The selector is sent as text, so a key or value outside it changes
# what is selected: a key "tier!" makes "tier!=web", every workload NOT labelled tier=web.
_LABEL_NAME = r"([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]"
# fullmatch: `$` also matches before a final newline, which "web\n" would carry through.
_LABEL_KEY = re.compile(rf"([a-z0-9]([-a-z0-9.]{{0,251}}[a-z0-9])?/)?{_LABEL_NAME}")
_LABEL_VALUE = re.compile(rf"({_LABEL_NAME})?")


def check_match_labels(labels: Mapping[str, str], where: str) -> None:
    """LabelSyntaxError naming the first key or value that is not a label's."""
    for key, value in labels.items():
        if not _LABEL_KEY.fullmatch(key):
            raise LabelSyntaxError(f"{where}: {key!r} is not a label key")
        if not _LABEL_VALUE.fullmatch(value):
            raise LabelSyntaxError(f"{where}.{key}: {value!r} is not a label value")


def selector_string(match_labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(match_labels.items()))


@dataclass(frozen=True)
class Found:
    """A workload the spec names: the (last) entry of spec.workloads naming it, and the
    workload as API JSON (as a watch event carries it: the observer needs no second read)."""

    ref: WorkloadRef
    obj: Mapping[str, Any]


def resolve_refs(
    clients: Clients, namespace: str, refs: list[WorkloadRef]
) -> dict[Workload, Found]:
    """Each workload the spec names, as read now."""
    found: dict[Workload, Found] = {}
    for index, ref in enumerate(refs):
        kind = ref.kind
        if ref.name:
            workload = Workload(kind, ref.name)
            try:
                obj = _read(clients, namespace, workload)
            except Exception as exc:
                if is_not_found(exc):
                    raise WorkloadNotFoundError(
                        f"spec.workloads[{index}]: {kind} {namespace}/{workload.name} not found"
                    ) from None
                raise
            found[workload] = Found(ref, _json(clients, obj))
            continue
        labels = dict(ref.match_labels or {})
        check_match_labels(labels, f"spec.workloads[{index}].selector.matchLabels")
        items = _list(clients, namespace, kind, selector_string(labels))
        if not items:
            raise WorkloadNotFoundError(
                f"spec.workloads[{index}]: no {kind} in {namespace} matches {labels}"
            )
        found.update(
            {Workload(kind, i.metadata.name): Found(ref, _json(clients, i)) for i in items}
        )
    return found


def _json(clients: Clients, obj: Any) -> dict[str, Any]:
    return dict(clients.api.sanitize_for_serialization(obj))


def _read(clients: Clients, namespace: str, workload: Workload) -> Any:
    if workload.kind == "StatefulSet":
        return clients.apps.read_namespaced_stateful_set(workload.name, namespace)
    return clients.apps.read_namespaced_deployment(workload.name, namespace)


def _list(clients: Clients, namespace: str, kind: str, selector: str) -> list[Any]:
    if kind == "StatefulSet":
        return list(
            clients.apps.list_namespaced_stateful_set(namespace, label_selector=selector).items
        )
    return list(clients.apps.list_namespaced_deployment(namespace, label_selector=selector).items)


def read(clients: Clients, namespace: str, workload: Workload) -> dict[str, Any]:
    """The workload as API JSON (as a watch event carries it)."""
    return _json(clients, _read(clients, namespace, workload))


def scale(clients: Clients, namespace: str, workload: Workload, replicas: int) -> dict[str, Any]:
    """Set the replicas; returns the Scale (its resourceVersion is the workload's)."""
    body = {"spec": {"replicas": replicas}}
    if workload.kind == "StatefulSet":
        done = clients.apps.patch_namespaced_stateful_set_scale(workload.name, namespace, body)
    else:
        done = clients.apps.patch_namespaced_deployment_scale(workload.name, namespace, body)
    return dict(clients.api.sanitize_for_serialization(done))


def delete_replica_set_pods(
    clients: Clients,
    namespace: str,
    match_labels: Mapping[str, str],
    template_hashes: tuple[str, ...],
    timeout: float | None = None,
) -> None:
    """The pods the named ReplicaSets of a Deployment made (its selector, and one of their
    pod-template-hash labels; a bare pod with the same labels is not touched), each stopped
    with its own grace period, in one request."""
    clients.core.delete_collection_namespaced_pod(
        namespace,
        label_selector=replica_set_pods_selector(match_labels, template_hashes),
        _request_timeout=timeout,
    )


def replica_set_pods_selector(
    match_labels: Mapping[str, str], template_hashes: tuple[str, ...]
) -> str:
    if not template_hashes:  # "in ()" is no valid selector, and would not mean "none"
        raise ValueError("no ReplicaSet named: no pod to delete")
    hashes = ",".join(sorted(template_hashes))
    return f"{selector_string(dict(match_labels))},{TEMPLATE_HASH_LABEL} in ({hashes})"


def pods_matching(clients: Clients, namespace: str, match_labels: dict[str, str]) -> int:
    """Pods with these labels (terminating ones count: they may still write)."""
    if not match_labels:
        return 0
    pods = clients.core.list_namespaced_pod(namespace, label_selector=selector_string(match_labels))
    return len(pods.items)


def hpa_min_replicas(clients: Clients, namespace: str, workload: Workload) -> dict[str, int]:
    """HPAs that target the workload, with their minReplicas (recorded; an HPA does not act on a
    workload scaled to zero, and takes over again after the scale back up)."""
    found: dict[str, int] = {}
    for hpa in clients.autoscaling.list_namespaced_horizontal_pod_autoscaler(namespace).items:
        ref = hpa.spec.scale_target_ref
        if ref.kind == workload.kind and ref.name == workload.name:
            found[hpa.metadata.name] = int(hpa.spec.min_replicas or 1)
    return found


REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
TEMPLATE_HASH_LABEL = "pod-template-hash"


def _owned_replica_sets(clients: Clients, namespace: str, name: str) -> tuple[Any, list[Any]]:
    deployment = clients.apps.read_namespaced_deployment(name, namespace)
    labels = (deployment.spec.selector.match_labels or {}) if deployment.spec.selector else {}
    items = clients.apps.list_namespaced_replica_set(
        namespace, label_selector=selector_string(labels)
    ).items
    owned = [
        rs
        for rs in items
        if any(o.uid == deployment.metadata.uid for o in rs.metadata.owner_references or [])
    ]
    return deployment, owned


def revisions(clients: Clients, namespace: str, name: str) -> tuple[int, dict[int, str]]:
    """A Deployment's current revision, and each revision's pod-template-hash (as
    `kubectl rollout history` lists them)."""
    deployment, owned = _owned_replica_sets(clients, namespace, name)
    current = int((deployment.metadata.annotations or {}).get(REVISION_ANNOTATION, 0))
    found: dict[int, str] = {}
    for rs in owned:
        revision = (rs.metadata.annotations or {}).get(REVISION_ANNOTATION)
        template_hash = (rs.metadata.labels or {}).get(TEMPLATE_HASH_LABEL)
        if revision and template_hash:
            found[int(revision)] = str(template_hash)
    return current, found


def roll_back_template(clients: Clients, namespace: str, name: str, template_hash: str) -> bool:
    """Put back the pod template of the ReplicaSet with this hash, as `kubectl rollout undo`
    does (a new revision; the same template twice is a no-op). False if it is gone."""
    _, owned = _owned_replica_sets(clients, namespace, name)
    for rs in owned:
        if (rs.metadata.labels or {}).get(TEMPLATE_HASH_LABEL) == template_hash:
            template = clients.api.sanitize_for_serialization(rs.spec.template)
            template.get("metadata", {}).get("labels", {}).pop(TEMPLATE_HASH_LABEL, None)
            clients.apps.patch_namespaced_deployment(
                name, namespace, [{"op": "replace", "path": "/spec/template", "value": template}]
            )
            return True
    return False
