"""Prometheus metrics that follow from status changes: a step done, heldDown counted up, a
rollback ended. Derived from the status before and after each patch, so every path that
writes status (a phase, a failure, a restore) counts the same way."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from migration_rollback.lifecycle.durations import parse_timestamp
from migration_rollback.lifecycle.phases import Phase, Reason, StepState
from migration_rollback.metrics import (
    DOWNTIME,
    DURATION,
    HELD_DOWN,
    OUTCOME_DRY_RUN,
    OUTCOME_FAILED,
    OUTCOME_SUCCEEDED,
    RUNS,
    STEP_DURATION,
)


def record_metrics(before: Mapping[str, Any], after: Mapping[str, Any]) -> None:
    _steps(before.get("steps") or [], after.get("steps") or [])
    held = int(after.get("heldDown") or 0) - int(before.get("heldDown") or 0)
    if held > 0:
        HELD_DOWN.inc(held)
    if after.get("phase") != before.get("phase") and Phase(after.get("phase", "Pending")).terminal:
        _ended(after)


def _steps(before: list[Mapping[str, Any]], after: list[Mapping[str, Any]]) -> None:
    done_before = {s.get("name") for s in before if s.get("state") == str(StepState.DONE)}
    for step in after:
        if step.get("state") != str(StepState.DONE) or step.get("name") in done_before:
            continue
        started = parse_timestamp(step.get("startedAt"))
        finished = parse_timestamp(step.get("finishedAt")) or dt.datetime.now(dt.UTC)
        if started is not None:
            STEP_DURATION.labels(str(step.get("name"))).observe(
                (finished - started).total_seconds()
            )


def _ended(status: Mapping[str, Any]) -> None:
    outcome = OUTCOME_SUCCEEDED if status.get("phase") == str(Phase.SUCCEEDED) else OUTCOME_FAILED
    if status.get("reason") == str(Reason.DRY_RUN_SUCCEEDED):
        outcome = OUTCOME_DRY_RUN
    RUNS.labels(outcome).inc()
    metrics = status.get("metrics") or {}
    if "durationSeconds" in metrics:
        DURATION.observe(metrics["durationSeconds"])
    if "downtimeSeconds" in metrics:
        DOWNTIME.observe(metrics["downtimeSeconds"])
