"""What the controller saw of the world for one decision (pure data, filled in by
`controller.observe`). Fields a phase does not need stay at their defaults: the observer reads
only what the current phase's decision looks at, from its watch caches where it can.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from migration_rollback.jobresult import JobResult
from migration_rollback.lifecycle.health import Verdict
from migration_rollback.lifecycle.podstart import PodBlock


@dataclass(frozen=True)
class PodEnd:
    """How the Job's pod ended (every container terminated), as the pod watch showed it."""

    succeeded: bool
    finished_at: dt.datetime | None = None


@dataclass(frozen=True)
class JobView:
    """The current Job (status.jobName's, or the one the phase would create next).
    `finished`/`succeeded` are the Job's own conditions; `pod_end` its pod's end, seen before
    the Job controller's status catches up; `replaceable`: the Job may start another pod;
    `pod_block`: why its pod has not started a container (none of its pods ever has);
    `pods`: its pods not yet gone (None: not known, its pods not listed); `pod_ran`: one of them
    started a container, though it may be gone since; `gone`: the Job object is (a Job the
    operator deleted for not starting, still looked at for its pods); `deleting`: the Job
    object has a deletionTimestamp (a delete reached the API server); `watch`: the identity of
    the watch of its pods while unbroken (None: not watched, or the watch broke)."""

    name: str
    finished: bool = False
    succeeded: bool = False
    result: JobResult | None = None
    message: str = ""  # scrubbed of the URL's secrets
    finished_at: dt.datetime | None = None
    pod_end: PodEnd | None = None
    replaceable: bool = True
    pod_block: PodBlock | None = None
    pods: int | None = 0
    pod_ran: bool = False
    gone: bool = False
    deleting: bool = False
    watch: str | None = None
    running: int = 0  # of a gone Job: its pods not ended, or being deleted (they may write)


@dataclass(frozen=True)
class PodGroup:
    """A workload's live pods of one ReplicaSet (its pod-template-hash; "" for pods without
    one): a Deployment mid-rollout has several, each with a controller of its own."""

    template_hash: str
    undeleted: int = 0  # nobody has deleted them yet
    deleting: int = 0  # deleted and stopping


@dataclass(frozen=True)
class WorkloadView:
    """One selected workload, as its last watch event (or a read) showed it."""

    key: str  # as status.originalReplicas names it
    desired: int
    ready: int = 0
    current_pods: int = 0  # status.replicas: pods not yet terminated (lags the pods)
    hpa_min_replicas: Mapping[str, int] = field(default_factory=dict)
    live_pods: int | None = None  # its pods not yet gone (terminating ones count); None: uncounted
    settled: bool = True  # its controller acted on its latest spec (observedGeneration)
    pod_groups: tuple[PodGroup, ...] = ()  # the live pods by ReplicaSet (when counted)
    kind: str = "Deployment"


@dataclass(frozen=True)
class RevisionView:
    """A workload whose spec asks for another revision than the current one."""

    key: str
    kind: str
    wanted: str
    current: int = 0
    templates: Mapping[int, str] = field(default_factory=dict)  # revision -> pod-template-hash


@dataclass(frozen=True)
class LeaseView:
    name: str
    holder: str | None  # None: free, or expired
    ours: bool


@dataclass(frozen=True)
class CheckView:
    name: str
    verdict: Verdict
    last: str
    period_seconds: float
    successes: int = 0  # in a row
    failures: int = 0  # in all

    def to_status(self) -> dict[str, object]:
        """status.healthChecks[]: the counts a restarted operator goes on from."""
        return {
            "name": self.name,
            "successes": self.successes,
            "failures": self.failures,
            "message": self.last,
        }


@dataclass(frozen=True)
class Observation:
    resource: str = ""  # the MigrationRollback's name: its Jobs and ConfigMap are named after it
    generation: int = 1
    annotations: Mapping[str, str] = field(default_factory=dict)
    # Validating: the rollback SQL; or why a source is missing (waited for); or a URL that
    # does not parse (final). `url_where` names the Secret and key, never the value.
    sql_text: str | None = None
    # spec.targetVersion: the migrations ConfigMap (spec.rollback.migrationsFrom), key -> text.
    migration_files: Mapping[str, str] | None = None
    missing: str | None = None
    url_error: str | None = None
    # A maintenance header (its Secret's key) that cannot be sent: why, never its value (final).
    headers_error: str | None = None
    url_where: str = ""
    database: str | None = None  # host, port and database: the Lease's name
    lease: LeaseView | None = None
    lease_renewed_at: dt.datetime | None = None  # when the controller last renewed it
    job: JobView | None = None
    workloads: tuple[WorkloadView, ...] = ()
    workload_error: str | None = None
    revisions: tuple[RevisionView, ...] = ()
    # this controller saw the current Job exist, or status says its create was accepted
    # (so absent = vanished)
    job_seen: bool = False
    health: tuple[CheckView, ...] = ()

    def workload(self, key: str) -> WorkloadView | None:
        return next((w for w in self.workloads if w.key == key), None)
