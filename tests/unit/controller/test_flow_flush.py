"""When the flow sends the unsent status (pure: the turn, the interpreter and the clock are
fakes): before it waits, at a terminal phase, when asked to stop; and a decision not
beginning with a status patch is made again after the flush, at a later `now`."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from migration_rollback.controller import flow as module
from migration_rollback.controller.flow import RollbackFlow, Stopped
from migration_rollback.lifecycle import actions as a

PATCH, DELETE = a.PatchStatus({"phase": "RollingBack"}), a.DeleteJob("j")


class FakeInterpreter:
    def __init__(self, log: list[str]) -> None:
        self.log, self.unsent = log, True

    def flush(self) -> None:
        if self.unsent:  # as the real one: nothing unsent, no request
            self.log.append("flush")
        self.unsent = False


def flow(log: list[str], decisions: list[a.Decision], stop: bool = False) -> RollbackFlow:
    """Each turn patches status (unsent until flushed); past the last, the phase is final."""
    run = RollbackFlow.__new__(RollbackFlow)
    run.obj = {"status": {"phase": "Preparing"}}
    run.interpreter = interpreter = FakeInterpreter(log)  # type: ignore[assignment]

    def turn() -> a.Decision:
        log.append("turn")
        interpreter.unsent = True
        return decisions.pop(0)

    def wait(seconds: float) -> bool:
        log.append(f"wait {seconds:g}")
        if not decisions:
            run.obj["status"]["phase"] = "Succeeded"
        return stop

    run.turn = turn  # type: ignore[method-assign]
    run._wait_or_stop = wait
    return run


def made(phase: str, wait: float | None) -> a.Decision:
    return a.Decision((), phase, phase, wait)


# (decisions, asked to stop, what the flow did)
ROWS = [
    ([made("Preparing", 0), made("Succeeded", 0)], False, ["turn", "wait 0", "turn", "flush"]),
    ([made("Preparing", 5)], False, ["turn", "flush", "wait 5"]),
    ([made("Preparing", 0.5)], False, ["turn", "flush", "wait 0.5"]),
    ([made("Preparing", None)], False, ["turn", "flush", "wait 30"]),
    ([made("Preparing", 0)], True, ["turn", "wait 0", "flush"]),
    # its record must be judged as stored by the next decision (the rehearsal's pin)
    ([a.Decision((), "ScalingDown", "x", 0, send=True)], False, ["turn", "flush", "wait 0"]),
]


@pytest.mark.parametrize(
    ("decisions", "stop", "done"), ROWS, ids=["zero", "wait", "short", "idle", "stop", "send"]
)
def test_the_unsent_status_goes_before_a_wait_at_the_end_and_at_a_stop(
    decisions: list[a.Decision], stop: bool, done: list[str]
) -> None:
    log: list[str] = []
    run = flow(log, list(decisions), stop)
    try:
        run.run()
    except Stopped:
        assert stop
    assert log == done


NOW = [dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=s) for s in range(3)]

# (actions the first decision begins with, unsent before, decisions made, flushes)
DECIDE_ROWS = [
    ((DELETE,), True, 2, 1),  # the record goes out first, the decision is made again after
    ((PATCH, DELETE), True, 1, 0),  # begins with its own record: sent with the last one's
    ((DELETE,), False, 1, 0),  # nothing unsent: nothing to wait for
    ((), True, 1, 0),  # no action: nothing to order
]


@pytest.mark.parametrize(("actions", "unsent", "decisions", "flushes"), DECIDE_ROWS)
def test_a_decision_not_beginning_with_a_patch_is_made_again_after_the_flush(
    monkeypatch: pytest.MonkeyPatch,
    actions: tuple[a.Action, ...],
    unsent: bool,
    decisions: int,
    flushes: int,
) -> None:
    clock, asked = iter(NOW), []

    class Clock(dt.datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:
            return next(clock)

    def decide(*args: Any) -> a.Decision:
        asked.append(args[-1])
        return a.Decision(actions, "Preparing", "Preparing", 0)

    monkeypatch.setattr(module.dt, "datetime", Clock)
    monkeypatch.setattr(module, "decide", decide)
    log: list[str] = []
    run = flow(log, [])
    run.interpreter.unsent = unsent  # type: ignore[attr-defined]
    _, now = run.decide(None, None, None)  # type: ignore[arg-type]
    assert asked == NOW[:decisions]
    assert now == NOW[decisions - 1]
    assert log.count("flush") == flushes


class TurnFailed(Exception):
    """An observation's API call failing inside a turn."""


@pytest.mark.parametrize("flush_fails", [False, True], ids=["sent", "API down too"])
def test_a_failing_turn_still_sends_the_unsent_status_and_raises_its_own_error(
    flush_fails: bool,
) -> None:
    log: list[str] = []
    run = flow(log, [made("Preparing", 0), made("Preparing", 0)])
    run.namespace, run.name = "shop", "undo"
    turns = run.turn

    def second_turn_fails() -> a.Decision:
        if "turn" in log:
            raise TurnFailed()
        return turns()

    def flush() -> None:
        log.append("flush")
        if flush_fails:
            raise RuntimeError("the API server is gone")

    run.turn = second_turn_fails  # type: ignore[method-assign]
    run.interpreter.flush = flush  # type: ignore[method-assign]
    with pytest.raises(TurnFailed):
        run.run()
    assert log == ["turn", "wait 0", "flush"]
