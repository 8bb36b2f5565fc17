"""The failure policy as a table: app touched x onFailure x database changed x phase; the
restore actions the Restoring phase and the deletion finalizer share; retry backoff."""

from __future__ import annotations

import itertools

import pytest

from migration_rollback.lifecycle import policy
from migration_rollback.lifecycle.model import RollbackSpec
from migration_rollback.lifecycle.phases import Phase
from migration_rollback.lifecycle.policy import Outcome
from migration_rollback.lifecycle.status import RollbackStatus

BEFORE_COMMIT = [Phase.VALIDATING, Phase.PREPARING, Phase.SCALING_DOWN, Phase.ROLLING_BACK]
AFTER_COMMIT = [Phase.SCALING_UP, Phase.VERIFYING]


def expected(phase: Phase, touched: bool, restore: bool, changed: bool | None) -> Outcome:
    if phase is Phase.RESTORING:
        return Outcome.RESTORE_FAILED
    if phase in AFTER_COMMIT:
        return Outcome.SCALED_BACK
    if not touched:
        return Outcome.FAIL
    return Outcome.RESTORE if restore and not changed else Outcome.HOLD


@pytest.mark.parametrize(
    ("phase", "touched", "restore", "changed"),
    list(
        itertools.product(
            [*BEFORE_COMMIT, *AFTER_COMMIT, Phase.RESTORING],
            [False, True],
            [False, True],
            [None, False, True],
        )
    ),
)
def test_the_failure_table(
    phase: Phase, touched: bool, restore: bool, changed: bool | None
) -> None:
    plan = policy.on_failure(phase, touched, restore, changed, "boom")
    assert plan.outcome is expected(phase, touched, restore, changed)
    assert plan.phase is (Phase.RESTORING if plan.outcome is Outcome.RESTORE else Phase.FAILED)
    assert plan.message.startswith("boom") or plan.outcome is Outcome.RESTORE_FAILED
    assert plan.held_for_human is (plan.outcome in (Outcome.HOLD, Outcome.SCALED_BACK,
                                                    Outcome.RESTORE_FAILED))  # fmt: skip


def test_held_messages_say_why() -> None:
    changed = policy.on_failure(Phase.ROLLING_BACK, True, True, True, "SQL_ERROR")
    assert changed.message.endswith("left down for a human (the database may have changed)")
    hold = policy.on_failure(Phase.ROLLING_BACK, True, False, False, "SQL_ERROR")
    assert hold.message.endswith("(onFailure is hold)")
    after = policy.on_failure(Phase.VERIFYING, True, True, True, "unhealthy", maintenance_on=True)
    assert after.message.endswith("with maintenance mode still on")


@pytest.mark.parametrize(
    ("seen", "says"),
    [({"web": 0, "api": 0}, "the application is left down for a human"),
     ({"web": 3, "api": 0}, "it is not down, its workloads were last seen scaled up (web=3;"),
     ({"web": 0, "api": None}, "left as it is for a human (the replicas of api could not be"),
     ({"web": 2, "api": None}, "it is not down")],
)  # fmt: skip
def test_a_held_application_is_said_down_only_when_it_was_seen_at_zero(
    seen: dict[str, int | None], says: str
) -> None:
    held = policy.held_app({"web": 3, "api": 1}, seen)
    assert says in held
    plan = policy.on_failure(Phase.ROLLING_BACK, True, True, True, "boom", held=held)
    assert plan.outcome is Outcome.HOLD
    assert plan.message == f"boom; {held} (the database may have changed)"


@pytest.mark.parametrize(
    ("phase", "says"),
    [(Phase.SCALING_UP, "the application was asked to scale back"),
     (Phase.VERIFYING, "the application was scaled back")],
)  # fmt: skip
def test_after_the_commit_the_message_claims_only_what_the_phase_saw(
    phase: Phase, says: str
) -> None:
    """ScalingUp fails before the workloads were seen Ready: "scaled back" would be a guess."""
    assert policy.on_failure(phase, True, True, True, "boom").message.endswith(says)


SPEC = RollbackSpec.from_obj(
    {
        "database": {"urlSecretRef": {"name": "db"}},
        "rollback": {"sql": "select 1"},
        "workloads": [{"name": "web"}],
        "maintenance": {"configMap": {"name": "flags", "key": "m"}},
    }
)


def status(phase: Phase, **extra: object) -> RollbackStatus:
    return RollbackStatus.from_obj(
        {
            "phase": str(phase),
            "originalReplicas": {"web": 3, "StatefulSet/worker": 1},
            "maintenanceEnabled": True,
            "jobName": "undo-rollback-abc",
            "databaseLock": "mrb-db-x",
            **extra,
        }
    )


def test_restoring_and_deleting_share_the_actions() -> None:
    restoring = policy.restore_actions(SPEC, status(Phase.RESTORING), deleting=False)
    assert restoring == [
        policy.ScaleTo("web", 3),
        policy.ScaleTo("StatefulSet/worker", 1),
        policy.SetMaintenance(False),
    ]
    deleting = policy.restore_actions(SPEC, status(Phase.ROLLING_BACK), deleting=True)
    assert deleting == [
        *restoring,
        policy.DeleteJob("undo-rollback-abc"),
        policy.ReleaseLease("mrb-db-x"),
    ]


def test_a_finished_resource_restores_nothing_but_its_lease() -> None:
    done = policy.restore_actions(
        SPEC, status(Phase.SUCCEEDED, maintenanceEnabled=False), deleting=True
    )
    assert done == [policy.ReleaseLease("mrb-db-x")]
    untouched = policy.restore_actions(SPEC, RollbackStatus(), deleting=True)
    assert untouched == []


def test_retry_backoff_doubles_within_the_budget() -> None:
    assert [policy.retry_delay(True, n, 3) for n in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, None]
    assert policy.retry_delay(False, 1, 3) is None
    assert policy.retry_delay(True, 1, 0) is None
    assert policy.retry_delay(True, 10, 20, cap=30) == 30


def test_each_retry_doubles_the_lock_timeout() -> None:
    assert [policy.attempt_lock_timeout("500ms", n) for n in (1, 2, 3, 4)] == [
        "500ms",
        "1000ms",
        "2000ms",
        "4000ms",
    ]
    assert policy.attempt_lock_timeout("5s", 2) == "10000ms"


@pytest.mark.parametrize(
    ("wanted", "current", "available", "target"),
    [
        ("current", 3, [1, 2, 3], 3),
        ("previous", 3, [1, 2, 3], 2),
        ("previous", 5, [1, 3, 5], 3),  # as kubectl rollout undo: the newest older one
        ("previous", 1, [1], None),
        ("2", 3, [1, 2, 3], 2),
        ("7", 3, [1, 2, 3], None),
    ],
)
def test_the_revision_a_workload_comes_back_on(
    wanted: str, current: int, available: list[int], target: int | None
) -> None:
    assert policy.target_revision(wanted, current, available) == target
