"""The alerting gauges: time in phase, and how long an application has been left down."""

from __future__ import annotations

import datetime as dt

from migration_rollback.lifecycle.activity import Activity, compute, seen_from_status
from migration_rollback.lifecycle.phases import Phase

NOW = dt.datetime(2026, 11, 24, 12, 0, 0, tzinfo=dt.UTC)


def stamp(minutes_ago: float) -> str:
    return (NOW - dt.timedelta(minutes=minutes_ago)).isoformat().replace("+00:00", "Z")


def test_time_in_phase_counts_from_the_last_transition_not_the_start() -> None:
    status = {"phase": "Preparing", "startedAt": stamp(120), "phaseTransitionTime": stamp(2)}
    gauges = compute({"a": seen_from_status(status)}, NOW)
    assert gauges.phase_seconds[Phase.PREPARING] == 120.0
    assert gauges.resources[Phase.PREPARING] == 1


def test_older_statuses_without_a_transition_time_fall_back_to_the_start() -> None:
    gauges = compute({"a": seen_from_status({"phase": "RollingBack", "startedAt": stamp(5)})}, NOW)
    assert gauges.phase_seconds[Phase.ROLLING_BACK] == 300.0


def test_the_longest_of_several_in_one_phase_is_reported() -> None:
    seen = {
        "a": seen_from_status({"phase": "ScalingDown", "phaseTransitionTime": stamp(1)}),
        "b": seen_from_status({"phase": "ScalingDown", "phaseTransitionTime": stamp(7)}),
    }
    gauges = compute(seen, NOW)
    assert gauges.phase_seconds[Phase.SCALING_DOWN] == 420.0
    assert gauges.resources[Phase.SCALING_DOWN] == 2


def test_finished_rollbacks_are_counted_but_never_stuck() -> None:
    gauges = compute({"a": seen_from_status({"phase": "Succeeded", "startedAt": stamp(90)})}, NOW)
    assert gauges.resources[Phase.SUCCEEDED] == 1
    assert Phase.SUCCEEDED not in gauges.phase_seconds
    assert max(gauges.phase_seconds.values()) == 0.0


def test_an_app_left_down_by_a_failure_keeps_counting() -> None:
    held = {"phase": "Failed", "downtimeStartedAt": stamp(25), "metrics": {"durationSeconds": 9}}
    assert compute({"a": seen_from_status(held)}, NOW).app_down_seconds == 1500.0


def test_an_app_brought_back_is_no_longer_down() -> None:
    back = {
        "phase": "Verifying",
        "downtimeStartedAt": stamp(3),
        "metrics": {"downtimeSeconds": 4.2},
    }
    assert compute({"a": seen_from_status(back)}, NOW).app_down_seconds == 0.0


def test_unknown_phases_and_bad_timestamps_do_not_break_a_scrape() -> None:
    seen = seen_from_status({"phase": "Exploded", "startedAt": "yesterday-ish"})
    assert seen.phase is Phase.PENDING
    assert seen.phase_since is None


def test_deleted_resources_are_forgotten() -> None:
    activity = Activity()
    activity.observe("uid-1", {"phase": "ScalingDown", "downtimeStartedAt": stamp(10)})
    assert activity.gauges(NOW).app_down_seconds == 600.0
    activity.forget("uid-1")
    assert activity.gauges(NOW).app_down_seconds == 0.0
    assert sum(activity.gauges(NOW).resources.values()) == 0
