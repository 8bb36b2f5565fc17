"""How a decision writes status (pure): one merged patch, steps, phase and conditions.

`Plan` collects a decision's actions and status fields. Reads through it (`current`) see the
fields already set in the same decision, so two steps recorded in one decision both land.
The patch goes after the actions whose results it records unless `record_first()` says it
must go before them (what a restart has to know before an action happens); events go last.
`first(...)` splits the record: those fields before the actions, the rest after them (an
action announced before it happens and marked done only once it has).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from migration_rollback.lifecycle import conditions
from migration_rollback.lifecycle.actions import Action, Decision, PatchStatus, RecordEvent
from migration_rollback.lifecycle.durations import parse_timestamp
from migration_rollback.lifecycle.model import RollbackSpec
from migration_rollback.lifecycle.observation import Observation
from migration_rollback.lifecycle.phases import Phase, Reason, StepName, StepState
from migration_rollback.lifecycle.status import STATUS_KEYS, RollbackStatus

STEP_MESSAGE_LIMIT = 500


def iso(now: dt.datetime) -> str:
    return now.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Context:
    """Everything a decision may look at."""

    spec: RollbackSpec
    status: RollbackStatus
    obs: Observation
    now: dt.datetime

    @property
    def phase(self) -> Phase:
        return Phase(self.status.phase)

    def seconds_since(self, stamp: str | None) -> float:
        started = parse_timestamp(stamp)
        return (self.now - started).total_seconds() if started is not None else 0.0


class Failure(Exception):
    """A failure no retry will fix, raised by a phase's decision (with the plan it had made
    so far, whose status fields the failure keeps) or by an action."""

    def __init__(
        self,
        reason: Reason,
        message: str,
        step: StepName | None = None,
        plan: Plan | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.step = step
        self.plan = plan


class Plan:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.fields: dict[str, Any] = {}
        self.actions: list[Action] = []
        self.phase = ctx.phase
        self.reason = str(ctx.status.reason or "")
        self._first = False
        self._send = False
        self._early: dict[str, Any] = {}
        self._inline: dict[str, Any] = {}  # sent among the actions (`record_now`)
        self.requeue: float | None = None

    def wake_in(self, seconds: float) -> Plan:
        """Look again after `seconds` at the latest (a watch event may come first)."""
        self.requeue = seconds if self.requeue is None else min(self.requeue, seconds)
        return self

    def current(self, key: str, default: Any = None) -> Any:
        """A status field as it stands once this decision's patch is applied."""
        if key in self.fields:
            return self.fields[key]
        if key in self._inline:
            return self._inline[key]
        if key in self._early:
            return self._early[key]
        value = getattr(self.ctx.status, STATUS_KEYS[key], None)
        return default if value is None else value

    def patch(self, **fields: Any) -> Plan:
        self.fields.update(fields)
        return self

    def send_now(self) -> Plan:
        """The record goes to the API server before the next decision is made (that one
        judges what the server kept of it, not the copy here)."""
        self._send = True
        return self

    def record_first(self) -> Plan:
        self._first = True
        return self

    def record_now(self, **fields: Any) -> Plan:
        """The record so far, with `fields`, sent here: after the actions planned so far and
        before the next one (the record of an action about to be sent, which a restart must
        find, yet never of one an earlier action's failure keeps from being sent). Fields
        patched later go after the actions: never turned into `record_first`, which would
        send a field saying an action was done before it."""
        self.fields.update(fields)
        if self._first:  # everything goes first already
            return self
        return self._inline_patch(self.fields)

    def after(self, **fields: Any) -> Plan:
        """`fields` sent once the actions planned so far went through, before any planned
        next: what says an action was done (`jobCreated` after the create). Unlike `patch`,
        never sent first, whatever `record_first` says."""
        for key in fields:
            self.fields.pop(key, None)
        return self._inline_patch(fields)

    def _inline_patch(self, fields: dict[str, Any]) -> Plan:
        self._inline.update(fields)
        self.actions.append(PatchStatus(dict(fields)))
        if fields is self.fields:
            self.fields = {}
        return self

    def first(self, **fields: Any) -> Plan:
        """These fields in a patch of their own before the actions, whatever follows."""
        self._early.update(fields)
        return self

    def act(self, *actions: Action) -> Plan:
        self.actions.extend(actions)
        return self

    def event(self, reason: str, message: str, warning: bool = False) -> Plan:
        return self.act(RecordEvent(reason, message, warning))

    def step(self, name: StepName, state: StepState, message: str = "") -> Plan:
        """Record a step; Done, Failed and Skipped also post an event (`ScaleDownDone`)."""
        stamp = iso(self.ctx.now)
        steps = [dict(s) for s in self.current("steps", ())]
        entry = next((s for s in steps if s.get("name") == str(name)), None)
        if entry is None:
            entry = {"name": str(name), "startedAt": stamp}
            steps.append(entry)
        entry["state"] = str(state)
        if message:
            entry["message"] = message[:STEP_MESSAGE_LIMIT]
        if state is not StepState.RUNNING:
            entry["finishedAt"] = stamp
            self.event(
                f"{name}{state}",
                message or f"{name}: {str(state).lower()}",
                warning=state is StepState.FAILED,
            )
        return self.patch(steps=steps)

    def failure(self, reason: Reason, message: str, step: StepName | None = None) -> Failure:
        return Failure(reason, message, step, self)

    def step_state(self, name: StepName) -> str | None:
        steps = self.current("steps", ())
        return next((str(s.get("state")) for s in steps if s.get("name") == str(name)), None)

    def enter(self, phase: Phase, reason: Reason | str, message: str, **extra: Any) -> Plan:
        """The phase, its reason and message, and the conditions kubectl and GitOps read."""
        generation = self.ctx.obs.generation
        desired = conditions.desired_conditions(
            phase, str(reason), message, generation, approved=self.current("approved")
        )
        stamp = iso(self.ctx.now)
        merged = conditions.merge_conditions(self.current("conditions", ()), desired, stamp)
        if self.ctx.status.phase != str(phase) or not self.ctx.status.phase_transition_time:
            extra["phaseTransitionTime"] = stamp
        self.phase, self.reason = phase, str(reason)
        return self.patch(
            **extra,
            phase=str(phase),
            reason=str(reason),
            message=message,
            observedGeneration=generation,
            conditions=merged,
        )

    def decision(self, requeue_after: float | None = None) -> Decision:
        if requeue_after is not None:
            self.wake_in(requeue_after)
        # Events go last: status is the record, an event announces what it already says.
        events = [x for x in self.actions if isinstance(x, RecordEvent)]
        actions: list[Action] = [x for x in self.actions if not isinstance(x, RecordEvent)]
        early, late = (self._early | self.fields, {}) if self._first else (self._early, self.fields)
        if early:
            actions.insert(0, PatchStatus(dict(early)))
        if late:
            actions.append(PatchStatus(dict(late)))
        actions += events
        return Decision(tuple(actions), str(self.phase), self.reason, self.requeue, self._send)
