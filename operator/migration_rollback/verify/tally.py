"""How a replay's verdicts add up: per status, and the failed forwards per cause. Pure.

A project built partly outside its migrations fails most of its forwards for one reason (an
object no migration creates); counted by cause, that shows at a glance instead of being found
migration by migration.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import get_args

from migration_rollback.verify.causes import CAUSE_KINDS
from migration_rollback.verify.verdict import Status, VerifyResult

STATUSES: tuple[Status, ...] = get_args(Status)
# A forward that failed without a cause: the verifier's own read failed (session_lost.py).
UNCLASSIFIED = "unclassified"

# How the text summary says each cause, after "N forwards failed: M ...".
CAUSE_PHRASES: dict[str, str] = {
    "not_created": "on objects no migration creates",
    "created_later": "on objects only a later migration creates",
    "depends_on": "after an earlier failed migration",
    "missing_extension": "on an extension the shadow lacks",
    "missing_platform_object": "on a platform object the shadow lacks",
    "other_major": "written for another PostgreSQL major",
    "migration_error": "with an error in the migration itself",
}


def cause_counts(results: Iterable[VerifyResult]) -> dict[str, int]:
    """The failed forwards by cause kind: every kind (0 too), and `unclassified` if any."""
    counts = Counter(
        r.cause.kind if r.cause is not None else UNCLASSIFIED
        for r in results
        if r.status == "forward_failed"
    )
    out: dict[str, int] = {kind: counts.get(kind, 0) for kind in CAUSE_KINDS}
    if counts.get(UNCLASSIFIED):
        out[UNCLASSIFIED] = counts[UNCLASSIFIED]
    return out


def tally(results: Sequence[VerifyResult]) -> dict[str, dict[str, int]]:
    """JSON: `verdicts` by status and `forward_failed_causes` by cause kind."""
    statuses = Counter(r.status for r in results)
    return {
        "verdicts": {status: statuses.get(status, 0) for status in STATUSES},
        "forward_failed_causes": cause_counts(results),
    }


def tally_lines(results: Sequence[VerifyResult]) -> list[str]:
    """`130 replayed on the shadow: 20 verified, 71 forward_failed, ...` and, when forwards
    failed, `71 forwards failed: 61 on objects no migration creates, ...` (largest first)."""
    statuses = Counter(r.status for r in results)
    shown = ", ".join(f"{statuses[s]} {s}" for s in STATUSES if statuses.get(s))
    lines = [f"{len(results)} replayed on the shadow: {shown or 'none'}"]
    failed = statuses.get("forward_failed", 0)
    if failed:
        causes = sorted(cause_counts(results).items(), key=lambda kv: -kv[1])
        said = ", ".join(f"{n} {_phrase(kind)}" for kind, n in causes if n)
        lines.append(f"{failed} forward{'s' if failed > 1 else ''} failed: {said}")
    return lines


def _phrase(kind: str) -> str:
    return CAUSE_PHRASES.get(kind, "without a cause (the verifier's own read failed)")
