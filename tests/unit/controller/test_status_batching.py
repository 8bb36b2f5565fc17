"""Status patches wait for the next action that is not one (pure: the API calls recorded
here): a decision made at once after another sends both records as one request, and every
other action still meets the status its decision meant it to meet."""

from __future__ import annotations

from typing import Any

import pytest

from migration_rollback.controller import interpreter as module
from migration_rollback.controller.interpreter import Interpreter
from migration_rollback.controller.observe import Memory
from migration_rollback.lifecycle import actions as a

P, DELETE = a.PatchStatus, a.DeleteJob("undo-rollback-1")


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    sent: list[Any] = []

    def patch_status(_c: Any, _ns: str, _n: str, fields: dict[str, Any]) -> dict[str, Any]:
        sent.append(dict(fields))  # stored as a CRD older than the operator stores it
        return {k: v for k, v in fields.items() if v is not None and k != "databaseIdentity"}

    monkeypatch.setattr(module.resources, "patch_status", patch_status)
    monkeypatch.setattr(module.jobs, "delete_job", lambda *_: sent.append("delete"))
    return sent


class Events:
    def __init__(self, calls: list[Any]) -> None:
        self.calls = calls

    def post(self, event: Any) -> None:
        self.calls.append(event.reason)


def interpreter(calls: list[Any], status: dict[str, Any] | None = None) -> Interpreter:
    obj = {"metadata": {"namespace": "shop", "name": "undo"}, "status": dict(status or {})}
    events = Events(calls)
    return Interpreter(None, None, None, Memory(), obj, events, None)  # type: ignore[arg-type]


def decision(*actions: a.Action) -> a.Decision:
    return a.Decision(actions, "Preparing", "Preparing", 0)


def test_patches_in_a_row_go_as_one_before_the_next_action(calls: list[Any]) -> None:
    run = interpreter(calls)
    run.apply(decision(P({"phase": "Preparing", "databaseLock": "db"})))
    run.apply(decision(P({"jobName": "j", "phase": "Preparing"})))
    assert calls == []  # nothing else happened yet: nothing to be ordered before
    run.apply(decision(DELETE))
    assert calls == [{"phase": "Preparing", "databaseLock": "db", "jobName": "j"}, "delete"]


def test_a_later_value_replaces_an_earlier_one_and_our_copy_has_it_at_once(
    calls: list[Any],
) -> None:
    run = interpreter(calls, {"heldDown": 1, "message": "held down"})
    run.apply(decision(P({"heldDown": 2}), P({"heldDown": 3, "message": None})))
    assert run.obj["status"] == {"heldDown": 3}
    run.flush()
    assert calls == [{"heldDown": 3, "message": None}]


def test_a_patch_after_an_action_is_sent_after_it_and_its_event_after_the_patch(
    calls: list[Any],
) -> None:
    run = interpreter(calls)
    run.apply(decision(DELETE, P({"phase": "RollingBack"}), a.RecordEvent("R", "m")))
    assert calls == ["delete"]  # the Event announces a status not sent yet: held with it
    run.flush()
    run.flush()  # nothing left: no request, no Event twice
    assert calls == ["delete", {"phase": "RollingBack"}, "R"]


def test_held_events_go_out_after_the_patch_another_action_sends_first(
    calls: list[Any],
) -> None:
    run = interpreter(calls)
    run.apply(decision(P({"phase": "ScalingDown"}), a.RecordEvent("DryRunDone", "m")))
    run.apply(decision(P({"heldDown": 1})))
    assert calls == []
    run.apply(decision(DELETE))
    assert calls == [{"phase": "ScalingDown", "heldDown": 1}, "DryRunDone", "delete"]


def test_an_event_with_nothing_unsent_is_posted_at_once(calls: list[Any]) -> None:
    run = interpreter(calls, {"phase": "Preparing"})
    run.apply(decision(P({"phase": "Preparing"}), a.RecordEvent("R", "m")))
    assert calls == ["R"]  # its status is recorded already


def test_what_status_has_already_is_never_sent(calls: list[Any]) -> None:
    run = interpreter(calls, {"phase": "Preparing"})
    run.apply(decision(P({"phase": "Preparing"})))
    run.flush()
    assert calls == []


def test_a_database_lease_another_holds_is_read_first_on_the_next_try(
    monkeypatch: pytest.MonkeyPatch, calls: list[Any]
) -> None:
    """A rollback waiting for the database's Lease costs one read per try, not a 409 first;
    once it is ours, it is released by its version, and another's never by ours."""
    tries: list[Any] = []

    def try_acquire(*args: Any) -> Any:
        tries.append(args[-1])
        return module.leases.Attempt("shop/other")

    monkeypatch.setattr(module.leases, "try_acquire", try_acquire)
    run = interpreter(calls)
    run.settings = type("S", (), {"namespace": "op"})()  # type: ignore[assignment]
    for _ in range(2):
        with pytest.raises(module.LeaseTaken):
            run.apply(decision(a.AcquireLease("db")))
    assert tries == [None, module.leases.Attempt("shop/other")]
    released: list[str] = []
    monkeypatch.setattr(module.leases, "release", lambda *args: released.append(args[-1]))
    run.apply(decision(a.ReleaseLease("db")))
    assert released == [""]  # not ours: read before any delete


def test_a_field_the_api_server_did_not_keep_leaves_our_copy(calls: list[Any]) -> None:
    """The next decision judges what is stored (a CRD older than the operator prunes
    status.databaseIdentity: the scale-down's first look must see it missing)."""
    run = interpreter(calls)
    run.apply(decision(P({"phase": "ScalingDown", "databaseIdentity": "7714/app"})))
    assert run.obj["status"]["databaseIdentity"] == "7714/app"
    run.flush()
    assert run.obj["status"] == {"phase": "ScalingDown"}
