"""An error no retry seems to fix, by phase (lifecycle.errorbudget): it ends the rollback at
once only before anything is touched past what the failure policy restores; from RollingBack
on it is tried again, and RollingBack (a Job may still commit) never ends on it."""

from __future__ import annotations

import datetime as dt

import pytest

from migration_rollback.lifecycle.errorbudget import (
    CAP_SECONDS,
    TRIES,
    Budget,
    JobFate,
    after_error,
)
from migration_rollback.lifecycle.phases import Phase, Reason

BEFORE = [Phase.PENDING, Phase.VALIDATING, Phase.AWAITING_APPROVAL, Phase.PREPARING,
          Phase.SCALING_DOWN]  # fmt: skip
BOUNDED = [Phase.SCALING_UP, Phase.VERIFYING, Phase.RESTORING]


@pytest.mark.parametrize("phase", BEFORE)
def test_before_anything_is_touched_the_error_ends_at_once(phase: Phase) -> None:
    step = after_error(phase, 1, 0.0, "refused")
    assert step.end
    assert step.message == "refused"


@pytest.mark.parametrize("phase", BOUNDED)
@pytest.mark.parametrize("tries", [1, 2, TRIES - 1])
def test_from_the_commit_on_it_is_tried_again_within_the_budget(phase: Phase, tries: int) -> None:
    step = after_error(phase, tries, 30.0, "refused")
    assert not step.end
    assert 0 < step.delay <= CAP_SECONDS
    assert "refused" in step.message
    assert "trying again" in step.message


@pytest.mark.parametrize("phase", BOUNDED)
def test_the_spent_budget_ends_saying_what_was_tried(phase: Phase) -> None:
    step = after_error(phase, TRIES, 245.0, "refused")
    assert step.end
    assert f"{TRIES} tries over 245s in {phase}; gave up" in step.message


@pytest.mark.parametrize("tries", [1, TRIES, TRIES * 10, 10_000])
def test_rolling_back_never_ends_on_it_while_the_job_may_commit(tries: int) -> None:
    step = after_error(Phase.ROLLING_BACK, tries, 1.0, "refused")
    assert not step.end
    assert "Lease is kept" in step.message
    assert "A human is needed" in step.message
    assert step.reason is Reason.ERROR_WAITING_FOR_JOB
    assert step.delay <= CAP_SECONDS


@pytest.mark.parametrize("fate", [JobFate.ENDED, JobFate.NEVER_CREATED])
@pytest.mark.parametrize("tries", [1, TRIES * 10])
def test_rolling_back_ends_once_the_job_fate_is_known(fate: JobFate, tries: int) -> None:
    step = after_error(Phase.ROLLING_BACK, tries, 1.0, "refused", fate)
    assert step.end
    assert step.message.startswith("refused (")
    assert str(fate) in step.message


def test_the_count_goes_on_from_what_status_recorded() -> None:
    now = dt.datetime(2026, 12, 2, 12, tzinfo=dt.UTC)
    first = Budget.counted({}, now)
    assert (first.tries, first.since) == (1, now)
    later = Budget.counted(first.to_status(), now + dt.timedelta(seconds=90))
    assert later.tries == 2
    assert later.since == now
    assert later.seconds(now + dt.timedelta(seconds=90)) == 90.0
    assert Budget.counted({"tries": 5}, now).tries == 1  # no start recorded: counted anew


def test_the_delay_doubles_to_the_cap() -> None:
    delays = [after_error(Phase.RESTORING, n, 0.0, "x").delay for n in range(1, 8)]
    assert delays == [2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]


def test_the_wait_for_a_job_says_how_a_human_ends_it() -> None:
    step = after_error(Phase.ROLLING_BACK, 1, 0.0, "refused", JobFate.MAY_COMMIT)
    assert "delete the Job and its pods" in step.message
    assert "--cascade=foreground" in step.message
