"""Prometheus metrics of the operator: the one place their names and labels are defined.

Labels stay low-cardinality: outcome, phase/step names and health-check names (bounded by the
CRD); never a resource name, namespace or migration, which would grow without bound.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)
_BUCKETS = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 3600)

RUNS = Counter(
    "migration_rollback_runs_total",
    "Rollbacks that reached a terminal phase, by outcome.",
    ["outcome"],
    registry=REGISTRY,
)
DURATION = Histogram(
    "migration_rollback_duration_seconds",
    "Time from the start of a rollback to its terminal phase.",
    buckets=_BUCKETS,
    registry=REGISTRY,
)
DOWNTIME = Histogram(
    "migration_rollback_downtime_seconds",
    "Time the application was held at zero replicas.",
    buckets=_BUCKETS,
    registry=REGISTRY,
)
STEP_DURATION = Histogram(
    "migration_rollback_step_duration_seconds",
    "Duration of each step of the flow.",
    ["step"],
    buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900),
    registry=REGISTRY,
)
IN_PROGRESS = Gauge(
    "migration_rollback_in_progress",
    "Rollbacks currently between Validating and a terminal phase.",
    registry=REGISTRY,
)
HEALTH_CHECK_FAILURES = Counter(
    "migration_rollback_health_check_failures_total",
    "Failed health-check probes after scaling back up, by check name.",
    ["check"],
    registry=REGISTRY,
)
HELD_DOWN = Counter(
    "migration_rollback_workloads_held_down_total",
    "Times something scaled a workload back up during the window and it was held down.",
    registry=REGISTRY,
)
API_REQUESTS = Counter(
    "migration_rollback_api_requests_total",
    "Requests the operator's Kubernetes client sent (kopf's own watches and patches excluded).",
    ["method"],
    registry=REGISTRY,
)
