"""A CRD one version behind the operator prunes status fields the flow decides on: the
operator's copy keeps them (the error budget counts, the Job's record stays), a Warning Event
names the outdated CRD once, and the retries end after the budget instead of every ~2 s
forever. (The API server's answer is a fake here that stores what an old CRD stores.)"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from migration_rollback.controller import interpreter as module
from migration_rollback.controller.flow import RollbackFlow
from migration_rollback.controller.interpreter import Interpreter
from migration_rollback.controller.observe import Memory
from migration_rollback.lifecycle import actions as a
from migration_rollback.lifecycle import pruning
from migration_rollback.lifecycle.errorbudget import TRIES
from migration_rollback.lifecycle.model import RollbackSpec
from migration_rollback.lifecycle.observation import Observation

OLD_CRD_LACKS = frozenset({"errorRetries", "jobName", "databaseIdentity"})
SPEC = RollbackSpec.from_obj(
    {
        "database": {"urlSecretRef": {"name": "db"}},
        "rollback": {"sql": "select 1"},
        "workloads": [{"name": "web"}],
    }
)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    patches: list[dict[str, Any]] = []

    def patch_status(_c: Any, _ns: str, _n: str, fields: dict[str, Any]) -> dict[str, Any]:
        patches.append(dict(fields))
        return {k: v for k, v in fields.items() if v is not None and k not in OLD_CRD_LACKS}

    monkeypatch.setattr(module.resources, "patch_status", patch_status)
    return patches


class Events:
    def __init__(self) -> None:
        self.posted: list[Any] = []

    def post(self, event: Any) -> None:
        self.posted.append(event)


def interpreter(status: dict[str, Any]) -> tuple[Interpreter, Events]:
    obj = {"metadata": {"namespace": "shop", "name": "undo"}, "status": dict(status)}
    events = Events()
    return Interpreter(None, None, None, Memory(), obj, events, None), events  # type: ignore[arg-type]


def test_pruned_fields_stay_in_our_copy_and_one_event_names_the_crd(sent: Any) -> None:
    run, events = interpreter({"phase": "RollingBack"})
    fields = {"jobName": "j", "errorRetries": {"tries": 1}, "databaseIdentity": "x"}
    run.apply(a.Decision((a.PatchStatus(fields),), "RollingBack", "", 0))
    run.flush()
    assert run.obj["status"]["jobName"] == "j"
    assert run.obj["status"]["errorRetries"] == {"tries": 1}
    assert "databaseIdentity" not in run.obj["status"]  # the flow judges its absence
    (event,) = events.posted
    assert event.reason == pruning.EVENT_REASON
    assert event.warning
    assert "status.databaseIdentity, status.errorRetries, status.jobName" in event.message
    assert pruning.CRD_FILE in event.message
    run.apply(a.Decision((a.PatchStatus({"errorRetries": {"tries": 2}}),), "RollingBack", "", 0))
    run.flush()
    assert len(events.posted) == 1  # said once per field
    assert run.obj["status"]["errorRetries"] == {"tries": 2}


class Failing:
    """Every turn's look fails with an error no retry fixes."""

    def bare(self, obj: dict[str, Any], spec: RollbackSpec) -> Observation:
        return Observation(resource="undo")

    def observe(self, *_: Any) -> Observation:
        raise ValueError("bad")


@pytest.mark.parametrize("phase", ["ScalingUp", "Verifying", "Restoring"])
def test_the_budget_ends_the_retries_though_the_crd_prunes_the_count(sent: Any, phase: str) -> None:
    status = {"phase": phase, "originalReplicas": {"web": 3}, "databaseChanged": True}
    run = RollbackFlow.__new__(RollbackFlow)
    run.namespace, run.name, run.memory = "shop", "undo", Memory()
    run.observer = Failing()  # type: ignore[assignment]
    run.obj = {"metadata": {"namespace": "shop", "name": "undo"}, "status": status}
    run.body = run.obj
    run.interpreter = Interpreter(None, None, None, run.memory, run.obj, Events(), None)  # type: ignore[arg-type]
    now = dt.datetime(2026, 12, 2, tzinfo=dt.UTC)
    made = []
    for _ in range(TRIES):
        made.append(run._after_error(ValueError("bad"), SPEC, Observation(resource="undo"), now))
        run.interpreter.flush()
    assert all(d is not None and d.phase == phase for d in made[:-1])
    assert "status.errorRetries is kept in the operator's memory only" in str(
        made[1].patch()["message"] if made[1] else ""
    )
    assert run.obj["status"]["phase"] == "Failed", run.obj["status"].get("message")
    assert "gave up" in run.obj["status"]["message"]
