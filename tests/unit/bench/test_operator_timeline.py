"""The operator bench's timeline (pure: events made up here, no cluster): each moment is
found from the events after the scale-down began, and each gap is attributed to its row."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import pytest
from tests.unit.bench.bench_support import load_script

timeline = load_script(
    Path(__file__).resolve().parents[3] / "bench" / "operator" / "timeline.py", "bench_timeline"
)
T0 = 1_800_000_000.0  # the scale-down decision, epoch seconds


def stamp(offset: float) -> str:
    return dt.datetime.fromtimestamp(T0 + offset, dt.UTC).isoformat()


def seen(offset: float, kind: str, name: str = "x", type_: str = "MODIFIED", **obj: Any) -> Any:
    return timeline.Seen(T0 + offset, kind, type_, "ns", name, obj)


STATUS = {
    "downtimeStartedAt": stamp(0),
    "jobName": "undo-rollback",
    "steps": [
        {"name": "ScaleDown", "startedAt": stamp(0), "finishedAt": stamp(1.0)},
        {"name": "Rollback", "startedAt": stamp(1.0), "finishedAt": stamp(3.0)},
        {"name": "ScaleUp", "startedAt": stamp(3.0), "finishedAt": stamp(4.0)},
    ],
}
JOB_POD = {"metadata": {"labels": {"job-name": "undo-rollback"}}}
RUNNING = {"containerStatuses": [{"state": {"running": {}}}]}
ENDED = {"containerStatuses": [{"state": {"terminated": {}}}]}
EVENTS = [
    seen(-5, "Deployment", spec={"replicas": 0}),  # an earlier scale: before the window
    seen(0.1, "Deployment", spec={"replicas": 0}),
    seen(0.3, "ReplicaSet", spec={"replicas": 0}),
    seen(0.6, "Pod", "a", metadata={"deletionTimestamp": "t"}),
    seen(0.9, "Pod", "a", "DELETED"),
    seen(0.95, "Pod", "b", "DELETED"),
    seen(1.1, "Job", "undo-rollback", "ADDED"),
    seen(1.2, "JobPod", "p", "ADDED", **JOB_POD),
    seen(1.3, "JobPod", "p", spec={"nodeName": "n"}, **JOB_POD),
    seen(1.6, "JobPod", "p", status=RUNNING, **JOB_POD),
    seen(2.9, "JobPod", "p", status=ENDED, **JOB_POD),
    seen(3.2, "Deployment", spec={"replicas": 2}),
]


def test_each_moment_is_the_first_event_showing_it_in_the_window() -> None:
    found = timeline.marks(EVENTS, STATUS)
    expected = [0, 0.1, 0.3, 0.6, 0.95, 1.0, 1.1, 1.2, 1.3, 1.6, 2.9, 3.0, 3.2, 4.0]
    assert [m.name for m in timeline.MARKS] == list(found)
    assert [round(found[m.name] - T0, 3) for m in timeline.MARKS] == expected


def test_a_moment_not_seen_is_nan_and_left_out_of_its_row() -> None:
    found = timeline.marks([e for e in EVENTS if e.kind != "ReplicaSet"], STATUS)
    assert math.isnan(found["ReplicaSet at 0 seen"])
    lines = timeline.breakdown([found])
    assert not any("ReplicaSet at 0 seen" in line for line in lines)
    assert not any("first app pod deleting" in line for line in lines)


def test_each_gap_is_its_row_with_its_actor() -> None:
    lines = timeline.breakdown([timeline.marks(EVENTS, STATUS)])
    row = next(line for line in lines if "last app pod gone" in line)
    assert "0.35 s" in row
    assert "node agent" in row
    assert any("coordination ends" in line for line in lines)


@pytest.mark.parametrize(("ours", "theirs"), [(0.1 + 0.05, 0.85)])
def test_coordination_is_split_between_the_operator_and_the_control_plane(
    ours: float, theirs: float
) -> None:
    (line,) = timeline.coordination_shares([timeline.marks(EVENTS, STATUS)])
    assert f"operator's hops {ours:6.2f} s" in line
    assert f"control plane's {theirs:6.2f} s" in line


def test_a_replica_set_back_above_zero_in_the_window_is_counted() -> None:
    fight = [
        seen(-1, "ReplicaSet", "rs", spec={"replicas": 3}),  # before the window
        seen(0.2, "ReplicaSet", "rs", spec={"replicas": 0}),
        seen(0.3, "ReplicaSet", "rs", spec={"replicas": 3}),  # undone
        seen(0.4, "ReplicaSet", "other", spec={"replicas": 2}),  # never at 0 here
        seen(0.5, "ReplicaSet", "rs", spec={"replicas": 0}),
        seen(3.5, "ReplicaSet", "rs", spec={"replicas": 3}),  # the scale-up, after the window
    ]
    assert timeline.replica_sets_back_up(fight, STATUS) == 1
    assert timeline.replica_sets_back_up(EVENTS, STATUS) == 0


def test_an_app_pod_created_in_the_window_is_counted() -> None:
    created = [
        seen(-1, "Pod", "a", "ADDED"),  # the app before the window
        seen(0.5, "Pod", "a", "ADDED"),  # listed again: not created
        seen(0.7, "Pod", "r", "ADDED"),  # a replacement
        seen(3.5, "Pod", "n", "ADDED"),  # the scale-up, after the window
    ]
    assert timeline.pods_added_in_window(created, STATUS) == 1
    assert timeline.pods_added_in_window(EVENTS, STATUS) == 0
