"""What every part of observing one rollback shares (I/O): the controller's memory of it, the
clients, and the database URL read from its Secret (which the Job reads and the redactor
scrubs). controller.observe_jobs reads the phase's Job on top of it; controller.observe the
rest (sources, Lease, workloads, health) and which phase looks at what.

`Memory` is what one rollback's controller keeps between decisions: the redactor built from
the Secret, the Jobs it has seen, the health checks' counts, when it last renewed the Lease.
A restart loses it, and every part of it is rebuilt from a read (the health counts from status).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from migration_rollback import conninfo
from migration_rollback.controller import podwatch
from migration_rollback.controller.cache import WatchCache
from migration_rollback.kube import leases, sources
from migration_rollback.kube.client import Clients
from migration_rollback.lifecycle import health
from migration_rollback.lifecycle.model import RollbackSpec
from migration_rollback.lifecycle.observation import JobView, Observation
from migration_rollback.lifecycle.podstart import PodBlock
from migration_rollback.redact import Redactor
from migration_rollback.redact_url import http_url_shown

URL_FIELD = "spec.database.urlSecretRef"
Prober = Callable[[str, float], health.Probe]


def http_probe(url: str, timeout: float) -> health.Probe:
    import httpx

    try:
        response = httpx.get(url, timeout=timeout)
    except httpx.HTTPError as exc:
        return health.Probe(
            status=None, error=f"{type(exc).__name__} calling {http_url_shown(url)}"
        )
    return health.Probe(status=response.status_code, body=response.text[:65536])


@dataclass
class Memory:
    redactor: Redactor = field(default_factory=Redactor.none)
    target: conninfo.DatabaseTarget | None = None
    seen_jobs: set[str] = field(default_factory=set)
    finished: dict[str, JobView] = field(default_factory=dict)
    trackers: dict[str, health.Tracker] = field(default_factory=dict)
    probed_at: dict[str, float] = field(default_factory=dict)
    lease_renewed_at: dt.datetime | None = None
    lease_holder: str | None = None  # another holder the last attempt to take the Lease met
    lease_held: leases.Attempt | None = None  # our last try at it: ours, renewed/released by it
    job_versions: dict[str, str] = field(default_factory=dict)  # Jobs created here: their version
    secret_read_for: str | None = None  # the Job whose start the URL was re-read after
    hpas: dict[str, dict[str, int]] = field(default_factory=dict)
    # Status fields the API server did not keep (an outdated CRD): our copy keeps them
    pruned: set[str] = field(default_factory=set)


class ObserverBase:
    def __init__(
        self,
        clients: Clients,
        cache: WatchCache,
        memory: Memory,
        namespace: str,
        identity: tuple[str, str],
        pods: podwatch.PodWatches,
        probe: Prober = http_probe,
    ) -> None:
        self.clients, self.cache, self.memory = clients, cache, memory
        self.namespace = namespace
        self.lease_namespace, self.identity = identity
        self.pods = pods
        self.probe = probe

    def bare(self, obj: dict[str, Any], spec: RollbackSpec) -> Observation:
        """What is known without a request: what a failure found mid-observation decides on."""
        meta = obj["metadata"]
        return Observation(
            resource=str(meta["name"]),
            generation=int(meta.get("generation", 1)),
            annotations=dict(meta.get("annotations") or {}),
            url_where=self.url_where(spec),
            lease_renewed_at=self.memory.lease_renewed_at,
        )

    # --- the database URL -------------------------------------------------------------------

    @staticmethod
    def url_where(spec: RollbackSpec) -> str:
        """Where the URL comes from, for messages: names the Secret and key, never the value."""
        db = spec.database.url_secret_ref
        return f"Secret {db.name} key {db.key} ({URL_FIELD})"

    def read_target(self, spec: RollbackSpec) -> conninfo.DatabaseTarget:
        """The Secret's URL parsed as libpq parses it; refreshes the redactor, so it scrubs
        what the Jobs are given. Raises SourceNotFoundError or InvalidDatabaseUrlError."""
        db = spec.database.url_secret_ref
        text = sources.secret_value(self.clients, self.namespace, db.name, db.key, URL_FIELD)
        target = conninfo.parse_database_url(text, where=self.url_where(spec))
        self.memory.target, self.memory.redactor = target, target.redactor()
        return target

    def scrubbed(self, block: PodBlock | None) -> PodBlock | None:
        if block is None:
            return None
        return dataclasses.replace(block, message=self.memory.redactor.scrub(block.message))


def lease_name(target: conninfo.DatabaseTarget) -> str:
    """The per-database Lease: one rollback at a time per host, port and database."""
    return f"mrb-db-{target.identity}"


def with_fields(base: Observation, **fields: Any) -> Observation:
    return dataclasses.replace(base, **fields)
