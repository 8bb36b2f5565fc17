"""kstatus-style conditions computed from a phase: what `kubectl wait`, Flux and Argo CD read.

Ready is True only when the rollback succeeded (or the dry run passed); Reconciling is True
while work is under way; Stalled is True when nothing will progress without a human (failed,
or waiting for approval). Succeeded and Failed make `kubectl wait --for=condition=...` work.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from migration_rollback.lifecycle.phases import ConditionType, Phase, Reason

Condition = dict[str, Any]


def _condition(
    kind: ConditionType, status: bool, reason: str, message: str, generation: int
) -> Condition:
    return {
        "type": str(kind),
        "status": "True" if status else "False",
        "reason": reason,
        "message": message,
        "observedGeneration": generation,
    }


def desired_conditions(
    phase: Phase, reason: str, message: str, generation: int, approved: bool | None = None
) -> list[Condition]:
    """The full set of conditions for a phase (lastTransitionTime is merged in later)."""
    failed = phase is Phase.FAILED
    succeeded = phase is Phase.SUCCEEDED
    waiting = phase is Phase.AWAITING_APPROVAL
    working = not phase.terminal and not waiting
    conditions = [
        _condition(ConditionType.READY, succeeded, reason, message, generation),
        _condition(
            ConditionType.RECONCILING, working, reason, message if working else "", generation
        ),
        _condition(
            ConditionType.STALLED,
            failed or waiting,
            reason,
            message if failed or waiting else "",
            generation,
        ),
        _condition(ConditionType.SUCCEEDED, succeeded, reason, message, generation),
        _condition(ConditionType.FAILED, failed, reason, message if failed else "", generation),
    ]
    if approved is not None:
        conditions.append(
            _condition(
                ConditionType.APPROVED,
                approved,
                str(Reason.APPROVED if approved else Reason.AWAITING_APPROVAL),
                "" if approved else message,
                generation,
            )
        )
    return conditions


def merge_conditions(
    previous: Sequence[Mapping[str, Any]] | None, desired: list[Condition], now: str
) -> list[Condition]:
    """Keep lastTransitionTime when a condition's status did not change."""
    old = {c.get("type"): c for c in previous or ()}
    merged: list[Condition] = []
    for condition in desired:
        before = old.get(condition["type"])
        same = before is not None and before.get("status") == condition["status"]
        stamp = before.get("lastTransitionTime") if same and before else None
        merged.append({**condition, "lastTransitionTime": stamp or now})
    kept = {c["type"] for c in merged}
    merged.extend(dict(c) for t, c in old.items() if t not in kept and t is not None)
    return merged
