"""What the alerting gauges report, computed from the last status seen of every resource.

Alerts need "how long": a rollback that has sat in one phase for an hour is stuck, and an
application held at zero replicas for twenty minutes needs a human. Counters cannot say that,
and a gauge per resource would grow without bound, so these figures are the longest such
duration per phase, recomputed at every scrape from the statuses the operator watches. They
come from status timestamps, so a restarted operator reports them again at once, including
for a Failed resource that left its application down (`onFailure: hold`).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from migration_rollback.lifecycle.durations import parse_timestamp
from migration_rollback.lifecycle.phases import Phase


@dataclass(frozen=True)
class Seen:
    """The part of one resource's status the gauges need."""

    phase: Phase
    phase_since: dt.datetime | None
    down_since: dt.datetime | None


@dataclass(frozen=True)
class Gauges:
    resources: dict[Phase, int]
    phase_seconds: dict[Phase, float]
    app_down_seconds: float


def seen_from_status(status: Mapping[str, Any] | None) -> Seen:
    status = status or {}
    try:
        phase = Phase(status.get("phase") or Phase.PENDING)
    except ValueError:
        phase = Phase.PENDING
    metrics = status.get("metrics") or {}
    # downtimeStartedAt is written with maintenance mode or the scale-down; downtimeSeconds once the
    # workloads are back and Ready. In between (or for good, when a failure left the app down
    # for a human) the application is down.
    down_since = None
    if "downtimeSeconds" not in metrics:
        down_since = parse_timestamp(status.get("downtimeStartedAt"))
    since = parse_timestamp(status.get("phaseTransitionTime") or status.get("startedAt"))
    return Seen(phase=phase, phase_since=since, down_since=down_since)


def compute(seen: Mapping[str, Seen], now: dt.datetime) -> Gauges:
    resources = dict.fromkeys(Phase, 0)
    in_phase: dict[Phase, float] = {phase: 0.0 for phase in Phase if not phase.terminal}
    down = 0.0
    for item in seen.values():
        resources[item.phase] += 1
        if not item.phase.terminal and item.phase_since is not None:
            seconds = (now - item.phase_since).total_seconds()
            in_phase[item.phase] = max(in_phase[item.phase], seconds)
        if item.down_since is not None:
            down = max(down, (now - item.down_since).total_seconds())
    return Gauges(resources=resources, phase_seconds=in_phase, app_down_seconds=down)


class Activity:
    """The statuses seen, keyed by resource uid; written by watch events, read by scrapes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, Seen] = {}

    def observe(self, uid: str, status: Mapping[str, Any] | None) -> None:
        item = seen_from_status(status)
        with self._lock:
            self._seen[uid] = item

    def forget(self, uid: str) -> None:
        with self._lock:
            self._seen.pop(uid, None)

    def gauges(self, now: dt.datetime | None = None) -> Gauges:
        with self._lock:
            seen = dict(self._seen)
        return compute(seen, now or dt.datetime.now(dt.UTC))
