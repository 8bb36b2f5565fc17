"""What the controller may do to the world, as typed values (pure): `decide` returns them and
`controller.interpreter` applies them, each idempotently (a repeat after a crash is harmless).

A decision's status changes travel as one `PatchStatus`, placed where they must happen: before
an action whose effect a restart has to know about (the replicas recorded before the scale to
zero), after one whose result it records (the ConfigMap created before its name is written).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PatchStatus:
    """A JSON merge patch of status: None removes a field."""

    fields: Mapping[str, Any]


@dataclass(frozen=True)
class RecordEvent:
    reason: str
    message: str
    warning: bool = False


@dataclass(frozen=True)
class EnsureSqlConfigMap:
    """The validated SQL, for the Jobs to mount (create-if-absent; named after its hash): one
    rollback, or (spec.targetVersion) file name -> SQL for each of the set."""

    name: str
    sql: str | Mapping[str, str]


@dataclass(frozen=True)
class CreateJob:
    """Create-if-absent: a restarted operator never runs a Job twice."""

    name: str
    purpose: str  # dryrun | rollback
    attempt: int
    dry_run: bool


@dataclass(frozen=True)
class ScaleTo:
    workload: str  # a status.originalReplicas key
    replicas: int


@dataclass(frozen=True)
class DeletePods:
    """A Deployment scaled to 0, the ReplicaSets whose controller has begun deleting their
    pods: the rest of their pods deleted now, each with its own grace period (as that
    controller would), rather than at the pace of the controller manager's rate-limited client
    (seconds with many at once)."""

    workload: str  # a status.originalReplicas key
    template_hashes: tuple[str, ...]  # the ReplicaSets' pod-template-hash labels


@dataclass(frozen=True)
class SetMaintenance:
    enabled: bool


@dataclass(frozen=True)
class RestoreRevision:
    """Put the Deployment back on the pod template of `revision` (as `kubectl rollout undo`)."""

    workload: str
    revision: int
    current: int
    template_hash: str


@dataclass(frozen=True)
class AcquireLease:
    name: str


@dataclass(frozen=True)
class RenewLease:
    name: str


@dataclass(frozen=True)
class ReleaseLease:
    name: str


@dataclass(frozen=True)
class DeleteJob:
    """`foreground`: the Job object stays until its pods are gone, so its absence says so."""

    name: str
    foreground: bool = False


Action = (
    PatchStatus
    | RecordEvent
    | EnsureSqlConfigMap
    | CreateJob
    | ScaleTo
    | DeletePods
    | SetMaintenance
    | RestoreRevision
    | AcquireLease
    | RenewLease
    | ReleaseLease
    | DeleteJob
)


@dataclass(frozen=True)
class Decision:
    """What one look at the world leads to: the actions in order, the phase the resource is
    in once they are applied, and when to look again without a watch event (None: only on
    one)."""

    actions: tuple[Action, ...]
    phase: str
    reason: str
    requeue_after: float | None = None
    # Its status is sent before the next decision, which must see what the API server kept.
    send: bool = False

    def patch(self) -> Mapping[str, Any]:
        """The decision's status patches merged, in the order they are sent (empty when it
        has none)."""
        merged: dict[str, Any] = {}
        for action in self.actions:
            if isinstance(action, PatchStatus):
                merged.update(action.fields)
        return merged

    def of(self, kind: type[Any]) -> list[Any]:
        return [a for a in self.actions if isinstance(a, kind)]
