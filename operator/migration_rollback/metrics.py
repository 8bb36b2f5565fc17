"""Prometheus metrics of the operator: the one place their names and labels are defined.

Labels stay low-cardinality: outcome, phase/step names and health-check names (bounded by the
CRD); never a resource name, namespace or migration, which would grow without bound.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from migration_rollback.lifecycle.activity import Activity

REGISTRY = CollectorRegistry(auto_describe=True)
_BUCKETS = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 3600)

OUTCOME_SUCCEEDED, OUTCOME_FAILED, OUTCOME_DRY_RUN = "succeeded", "failed", "dry-run"
RUNS = Counter(
    "migration_rollback_runs_total",
    "Rollbacks that reached a terminal phase, by outcome.",
    ["outcome"],
    registry=REGISTRY,
)
# Exported at 0 from the start: increase() over a series that appears with its first failure
# would miss that failure, and the chart's MigrationRollbackFailed alert with it.
for _outcome in (OUTCOME_SUCCEEDED, OUTCOME_FAILED, OUTCOME_DRY_RUN):
    RUNS.labels(_outcome)
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
# How long the operator itself takes: each kind of action (its API writes, as its client sees
# them: the server's answer and any wait for a connection) and each decision (the reads it
# needed and the CPU). What a rollback's window spends in the operator, not in the cluster.
_FAST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
ACTION_SECONDS = Histogram(
    "migration_rollback_action_seconds",
    "Time to apply one action of a decision, by kind of action.",
    ["action"],
    buckets=_FAST_BUCKETS,
    registry=REGISTRY,
)
DECISION_SECONDS = Histogram(
    "migration_rollback_decision_seconds",
    "Time to observe and decide one turn of a rollback's loop (before its actions), by the "
    "phase it was in.",
    ["phase"],
    buckets=_FAST_BUCKETS,
    registry=REGISTRY,
)
API_REQUESTS = Counter(
    "migration_rollback_api_requests_total",
    "Requests the operator's Kubernetes client sent (kopf's own watches and patches excluded).",
    ["method"],
    registry=REGISTRY,
)

# Computed at scrape time from the statuses the operator watches (see lifecycle.activity); the
# chart's PrometheusRule alerts on these.
RESOURCES_NAME = "migration_rollback_resources"
PHASE_SECONDS_NAME = "migration_rollback_phase_seconds"
APP_DOWN_SECONDS_NAME = "migration_rollback_app_down_seconds"
ACTIVITY = Activity()


class _ActivityCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauges = ACTIVITY.gauges()
        resources = GaugeMetricFamily(
            RESOURCES_NAME,
            "MigrationRollback resources the operator sees, by phase.",
            labels=["phase"],
        )
        for phase, count in gauges.resources.items():
            resources.add_metric([str(phase)], count)
        in_phase = GaugeMetricFamily(
            PHASE_SECONDS_NAME,
            "Longest time any unfinished rollback has been in its current phase, by phase.",
            labels=["phase"],
        )
        for phase, seconds in gauges.phase_seconds.items():
            in_phase.add_metric([str(phase)], seconds)
        down = GaugeMetricFamily(
            APP_DOWN_SECONDS_NAME,
            "Longest time an application has been held at zero replicas by a rollback that has "
            "not brought it back (0 when none is down).",
            value=gauges.app_down_seconds,
        )
        yield resources
        yield in_phase
        yield down


REGISTRY.register(_ActivityCollector())
