"""The flow on an error no retry seems to fix, turn after turn (the interpreter a fake that
records what it is given, the Job's fate a given; the decisions the real pure ones): in
RollingBack it never ends the rollback nor frees the Lease while the Job may commit, saying
a human is needed, and ends through the failure policy once the Job's fate is known; from
ScalingUp on it ends once the budget is spent, counted in status across a restart; before
anything is touched it ends at once; an error a retry may pass goes to kopf; whatever the
error, the Lease is renewed when due."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from migration_rollback.controller.flow import RollbackFlow
from migration_rollback.controller.observe import Memory
from migration_rollback.lifecycle import actions as a
from migration_rollback.lifecycle.errorbudget import TRIES, JobFate
from migration_rollback.lifecycle.model import RollbackSpec
from migration_rollback.lifecycle.observation import Observation
from migration_rollback.lifecycle.phases import Phase, Reason
from migration_rollback.lifecycle.record import Context, Plan
from migration_rollback.lifecycle.status import RollbackStatus

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

        self.renewed: list[str] = []

    def apply(self, decision: a.Decision) -> None:
        self.applied.append(decision)
        self.obj["status"].update(decision.patch())

    def renew(self, action: a.RenewLease) -> None:
        self.renewed.append(action.name)


class Fates:
    """The Job's fate as the observer would read it; a turn's observation that fails."""

    def __init__(self, fate: JobFate, changed: bool | None, error: Exception) -> None:
        self.fate, self.changed, self.error = fate, changed, error
        self.asked = 0

    def job_fate(self, resource: str, status: Any) -> tuple[JobFate, bool | None]:
        self.asked += 1
        return self.fate, self.changed

    def bare(self, obj: dict[str, Any], spec: RollbackSpec) -> Observation:
        return Observation(resource="undo")

    def observe(self, *_: Any) -> Observation:
        raise self.error


def flow(
    phase: Phase,
    fate: JobFate = JobFate.MAY_COMMIT,
    changed: bool | None = None,
    obj: dict[str, Any] | None = None,
) -> tuple[RollbackFlow, Recorder]:
    run = RollbackFlow.__new__(RollbackFlow)
    run.namespace, run.name, run.memory = "shop", "undo", Memory()
    run.observer = Fates(fate, changed, ValueError("bad"))  # type: ignore[assignment]
    run.obj = obj or {
        "metadata": {"name": "undo", "namespace": "shop"},
        "status": {
            "phase": str(phase),
            "originalReplicas": {"web": 3},
            "jobName": "undo-rollback-abc",
            "databaseLock": "mrb-db-x",
            "databaseChanged": phase is not Phase.SCALING_DOWN,
            "sqlSha256": "abc",
        },
    }
    run.body = run.obj
    run.interpreter = recorder = Recorder(run.obj)  # type: ignore[assignment]
    return run, recorder


def errors(run: RollbackFlow, times: int, exc: Exception) -> list[a.Decision]:
    return [run._after_error(exc, SPEC, Observation(resource="undo"), NOW) for _ in range(times)]  # type: ignore[misc]


def test_rolling_back_never_ends_nor_frees_the_lease_while_the_job_may_commit() -> None:
    run, recorder = flow(Phase.ROLLING_BACK)
    made = errors(run, TRIES * 3, ValueError("bad"))
    assert all(d.phase == "RollingBack" for d in made)
    assert not any(d.of(a.ReleaseLease) for d in recorder.applied)
    assert all(d.of(a.RecordEvent)[0].warning for d in recorder.applied)
    status = run.obj["status"]
    assert status["phase"] == "RollingBack"
    assert status["reason"] == "ErrorWaitingForJobNeedsHuman"
    assert "waiting for the rollback Job" in status["message"]
    assert "A human is needed" in status["message"]
    reconciling = [c for c in status["conditions"] if c["type"] == "Reconciling"]
    assert reconciling[0]["reason"] == "ErrorWaitingForJobNeedsHuman"
    assert status["errorRetries"]["tries"] == TRIES * 3


@pytest.mark.parametrize(
    ("fate", "changed", "phase", "says"),
    [
        (JobFate.ENDED, False, "Restoring", "has ended"),
        # The turn's look failed: the workloads' replicas were not seen, so not "left down".
        (JobFate.ENDED, None, "Failed", "left as it is for a human (the replicas of web"),
        (JobFate.ENDED, True, "Failed", "the database may have changed"),
        (JobFate.NEVER_CREATED, False, "Restoring", "never created"),
        (JobFate.GONE, None, "Failed", "was deleted and no pod of it is left running"),
        (JobFate.GONE, False, "Restoring", "can commit nothing more"),
    ],
)
def test_rolling_back_ends_through_the_policy_once_the_job_fate_is_known(
    fate: JobFate, changed: bool | None, phase: str, says: str
) -> None:
    run, recorder = flow(Phase.ROLLING_BACK, fate, changed)
    (made,) = errors(run, 1, ValueError("bad"))
    status = run.obj["status"]
    assert made.phase == phase == status["phase"]
    assert says in status["message"]
    assert "bad" in status["message"]
    assert status["failure"]["reason"] == "UnexpectedError"
    assert status.get("errorRetries") is None
    if phase == "Failed":  # the Lease is freed only where the rollback ends
        assert any(d.of(a.ReleaseLease) for d in recorder.applied)


def test_the_count_lives_in_status_so_a_restart_counts_on() -> None:
    run, _ = flow(Phase.SCALING_UP)
    errors(run, TRIES - 1, ValueError("bad"))
    restarted, _ = flow(Phase.SCALING_UP, obj=run.obj)  # a new flow: nothing in memory
    (made,) = errors(restarted, 1, ValueError("bad"))
    assert made.phase == "Failed"
    assert f"{TRIES} tries" in run.obj["status"]["message"]


def test_a_turn_that_goes_through_clears_the_count_and_the_reason() -> None:
    run, _ = flow(Phase.SCALING_UP)
    errors(run, 2, ValueError("bad"))
    assert run.obj["status"]["reason"] == "RetryingAfterError"
    run._cleared(SPEC, Observation(resource="undo"))
    status = run.obj["status"]
    assert status["errorRetries"] is None
    assert status["reason"] == "ScalingUp"
    assert "after 2 failed turn(s)" in status["message"]


@pytest.mark.parametrize("error", [ValueError("bad"), KeyError("watch race")])
def test_the_lease_is_renewed_whatever_the_turn_error(error: Exception) -> None:
    run, recorder = flow(Phase.ROLLING_BACK)
    run.observer.error = error  # type: ignore[attr-defined]
    run.decided_on = RollbackFlow.decided_on  # type: ignore[method-assign]
    with contextlib.suppress(KeyError):  # kopf's to retry: the Lease renewed all the same
        run.turn()
    assert recorder.renewed == ["mrb-db-x"]
    recorder.renewed.clear()
    run.memory.lease_renewed_at = NOW.replace(year=3000)  # renewed just now: not due
    run.observer.error = KeyError("again")  # type: ignore[attr-defined]
    with pytest.raises(KeyError):
        run.turn()
    assert recorder.renewed == []


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


class RefusesScales(Recorder):
    """The API server refuses every scale (an admission policy): 422."""

    def apply(self, decision: a.Decision) -> None:
        if decision.of(a.ScaleTo):
            raise ApiException(status=422, reason="Unprocessable Entity")
        super().apply(decision)


def test_a_failure_whose_decision_carries_a_refused_scale_ends_as_an_error() -> None:
    """The Job vanished while a hold-down's scale to 0 is refused every turn: the failure's
    decision carries that scale. It must not crash the flow at every restart (never ending):
    it goes to the error budget, which ends it from a plan of its own, on the Job's fate."""
    run, _ = flow(Phase.ROLLING_BACK, JobFate.GONE, None)
    run.interpreter = RefusesScales(run.obj)  # type: ignore[assignment]
    status = RollbackStatus.from_obj(run.obj)
    ctx = Context(SPEC, status, Observation(resource="undo"), NOW)
    plan = Plan(ctx).act(a.ScaleTo("web", 0))
    failure = plan.failure(Reason.JOB_FAILED, "Job undo-rollback-abc disappeared")
    made = run._fail(SPEC, Observation(resource="undo"), NOW, failure)
    assert made is not None
    assert made.phase == "Failed" == run.obj["status"]["phase"]
    assert "(422)" in run.obj["status"]["message"]
    assert "no pod of it is left running" in run.obj["status"]["message"]
