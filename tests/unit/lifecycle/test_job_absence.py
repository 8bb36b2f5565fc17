"""A recorded Job the API server does not have (lifecycle.jobabsence), and the record that
says its create was accepted: sent only once the create went through, whatever else the
decision records first (the restart race CI met at 68f62a4: `jobCreated` went in the patch
sent before the create, so an operator killed between the two found "created" and no Job)."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.unit.lifecycle.test_decide import DOWN, LOCKED, obs, spec, status, web

from migration_rollback.lifecycle import actions as a
from migration_rollback.lifecycle import jobabsence
from migration_rollback.lifecycle.decide import decide
from migration_rollback.lifecycle.errorbudget import JobFate
from migration_rollback.lifecycle.observation import Observation
from migration_rollback.lifecycle.record import Context, Plan
from migration_rollback.lifecycle.status import RollbackStatus

NOW = dt.datetime(2026, 12, 1, 12, 0, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("accepted", "pods", "running", "fate"),
    [
        (False, 0, 0, JobFate.NEVER_CREATED),  # died between the record and the create
        (True, 0, 0, JobFate.GONE),  # deleted with its pods
        (False, 1, 0, JobFate.GONE),  # its create's record lost, but a pod of it is left
        (True, 1, 0, JobFate.GONE),
        (True, 1, 1, JobFate.MAY_COMMIT),  # a pod outlives its Job: it may still write
        (False, 2, 1, JobFate.MAY_COMMIT),
    ],
)
def test_an_absent_job_is_judged_only_from_what_proves_it(
    accepted: bool, pods: int, running: int, fate: JobFate
) -> None:
    assert jobabsence.fate(jobabsence.AbsentJob(accepted, pods, running)) is fate


def _sent_before_create(decision: a.Decision) -> dict[str, object]:
    """The status fields sent before the decision's CreateJob."""
    before: dict[str, object] = {}
    for action in decision.actions:
        if isinstance(action, a.CreateJob):
            return before
        if isinstance(action, a.PatchStatus):
            before.update(action.fields)
    raise AssertionError(f"no CreateJob in {decision.actions}")


@pytest.mark.parametrize(
    ("phase", "fields", "seen"),
    [
        ("Preparing", LOCKED, {}),  # the rehearsal
        ("RollingBack", DOWN, {"workloads": "down"}),  # the real Job, nothing before it
        ("RollingBack", DOWN, {"workloads": "up"}),  # held down first (a scale before it)
    ],
)
def test_the_create_is_recorded_as_accepted_only_after_it(
    phase: str, fields: dict[str, object], seen: dict[str, str]
) -> None:
    """Every decision that creates a Job: `jobName` goes before the create (a restart finds
    it), `jobCreated` only after (a restart that finds it knows the Job was made)."""
    observed = obs() if not seen else obs(workloads=web(3 if seen["workloads"] == "up" else 0))
    decision = decide(spec(), status(phase, **fields), observed, NOW)
    before = _sent_before_create(decision)
    assert "jobName" in before
    assert "jobCreated" not in before
    created = [
        x for x in decision.actions if isinstance(x, a.PatchStatus) and "jobCreated" in x.fields
    ]
    assert len(created) == 1
    assert decision.actions.index(created[0]) > next(
        i for i, x in enumerate(decision.actions) if isinstance(x, a.CreateJob)
    )


def test_a_done_record_is_never_sent_first_even_when_the_rest_is() -> None:
    """The class, on `Plan` itself: `after` stays after the actions whatever `record_first`
    says; `record_now` with no action before it no longer turns every later field first."""
    ctx = Context(spec(), RollbackStatus.from_obj({"phase": "RollingBack"}), Observation(), NOW)
    first = Plan(ctx).record_first().patch(jobName="j")
    first.act(a.CreateJob("j", "rollback", 1, False)).after(jobCreated="j")
    kinds = [(type(x), getattr(x, "fields", None)) for x in first.decision().actions]
    assert kinds == [
        (a.PatchStatus, {"jobName": "j"}),
        (a.CreateJob, None),
        (a.PatchStatus, {"jobCreated": "j"}),
    ]
    now = Plan(ctx).record_now(jobName="j").act(a.CreateJob("j", "rollback", 1, False))
    now.patch(message="created")
    kinds = [(type(x), getattr(x, "fields", None)) for x in now.decision().actions]
    assert kinds == [
        (a.PatchStatus, {"jobName": "j"}),
        (a.CreateJob, None),
        (a.PatchStatus, {"message": "created"}),
    ]
