"""The flow on an error no retry seems to fix, turn after turn (the interpreter a fake that
records what it is given; the decisions the real pure ones): in RollingBack it never ends
the rollback nor frees the Lease; from ScalingUp on it ends once the budget is spent, saying
so; before anything is touched it ends at once; an error a retry may pass goes to kopf."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from migration_rollback.controller.flow import RollbackFlow
from migration_rollback.lifecycle import actions as a
from migration_rollback.lifecycle.errorbudget import TRIES
from migration_rollback.lifecycle.model import RollbackSpec
from migration_rollback.lifecycle.observation import Observation
from migration_rollback.lifecycle.phases import Phase

SPEC = RollbackSpec.from_obj(
    {
        "database": {"urlSecretRef": {"name": "db"}},
        "rollback": {"sql": "select 1"},
        "workloads": [{"name": "web"}],
    }
)
NOW = dt.datetime(2026, 12, 2, tzinfo=dt.UTC)


class Recorder:
    """Applies status patches to the flow's copy, as the real interpreter does."""

    def __init__(self, obj: dict[str, Any]) -> None:
        self.obj, self.applied = obj, []  # type: list[a.Decision]

    def apply(self, decision: a.Decision) -> None:
        self.applied.append(decision)
        self.obj["status"].update(decision.patch())


def flow(phase: Phase) -> tuple[RollbackFlow, Recorder]:
    run = RollbackFlow.__new__(RollbackFlow)
    run.namespace, run.name, run.errors = "shop", "undo", None
    run.obj = {
        "metadata": {"name": "undo", "namespace": "shop"},
        "status": {
            "phase": str(phase),
            "originalReplicas": {"web": 3},
            "jobName": "undo-rollback-abc",
            "databaseLock": "mrb-db-x",
            "databaseChanged": phase is not Phase.SCALING_DOWN,
        },
    }
    run.interpreter = recorder = Recorder(run.obj)  # type: ignore[assignment]
    return run, recorder


def errors(run: RollbackFlow, times: int, exc: Exception) -> list[a.Decision]:
    return [run._after_error(exc, SPEC, Observation(resource="undo"), NOW) for _ in range(times)]  # type: ignore[misc]


def test_rolling_back_never_ends_nor_frees_the_lease() -> None:
    run, recorder = flow(Phase.ROLLING_BACK)
    made = errors(run, TRIES * 3, ValueError("bad"))
    assert all(d.phase == "RollingBack" for d in made)
    assert not any(d.of(a.ReleaseLease) for d in recorder.applied)
    assert all(d.of(a.RecordEvent)[0].warning for d in recorder.applied)
    assert run.obj["status"]["phase"] == "RollingBack"


@pytest.mark.parametrize("phase", [Phase.SCALING_UP, Phase.VERIFYING, Phase.RESTORING])
def test_from_the_commit_on_it_ends_when_the_budget_is_spent(phase: Phase) -> None:
    run, _ = flow(phase)
    made = errors(run, TRIES, ValueError("bad"))
    assert [d.phase for d in made[:-1]] == [str(phase)] * (TRIES - 1)
    assert made[-1].phase == "Failed"
    assert "gave up" in run.obj["status"]["message"]


def test_scaling_down_ends_at_once_through_the_policy() -> None:
    run, _ = flow(Phase.SCALING_DOWN)
    (made,) = errors(run, 1, ValueError("bad"))
    assert made.phase == "Restoring"


def test_an_error_a_retry_may_pass_goes_to_kopf() -> None:
    run, recorder = flow(Phase.ROLLING_BACK)
    with pytest.raises(KeyError):
        errors(run, 1, KeyError("x"))
    assert recorder.applied == []
