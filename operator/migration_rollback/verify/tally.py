"""How a replay's verdicts add up: per status, and the failed forwards per cause. Pure.

A project built partly outside its migrations fails most of its forwards for one reason (an
object no migration creates); counted by cause, that shows at a glance instead of being found
migration by migration. A forward that fails only because an earlier one did (depends_on) is
also counted under the cause of the failure its chain starts from.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
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


def cause_counts(results: Sequence[VerifyResult], *, traced: bool = False) -> dict[str, int]:
    """The failed forwards by cause kind: every kind (0 too), and `unclassified` if any.
    `traced`: a `depends_on` counted as the cause of the failure it comes from, first of all."""
    first = _first_failures(results) if traced else {}
    counts = Counter(
        _kind(first.get(r.migration, r)) for r in results if r.status == "forward_failed"
    )
    out: dict[str, int] = {kind: counts.get(kind, 0) for kind in CAUSE_KINDS}
    if counts.get(UNCLASSIFIED):
        out[UNCLASSIFIED] = counts[UNCLASSIFIED]
    return out


def _kind(result: VerifyResult) -> str:
    return result.cause.kind if result.cause is not None else UNCLASSIFIED


def _first_failures(results: Sequence[VerifyResult]) -> dict[str, VerifyResult]:
    """Each failed forward that depends on another -> the failure at the start of the chain."""
    by_name = {r.migration: r for r in results}
    out: dict[str, VerifyResult] = {}
    for result in results:
        first, seen = result, {result.migration}
        while (earlier := by_name.get(first.depends_on or "")) is not None:
            if earlier.migration in seen:
                break  # never a cycle in migration order; kept finite all the same
            first, seen = earlier, seen | {earlier.migration}
        out[result.migration] = first
    return out


def tally(results: Sequence[VerifyResult]) -> dict[str, dict[str, int]]:
    """JSON: `verdicts` by status, `forward_failed_causes` by cause kind, and
    `forward_failed_first_causes` with each depends_on counted as the failure it comes from."""
    statuses = Counter(r.status for r in results)
    return {
        "verdicts": {status: statuses.get(status, 0) for status in STATUSES},
        "forward_failed_causes": cause_counts(results),
        "forward_failed_first_causes": cause_counts(results, traced=True),
    }


def tally_lines(results: Sequence[VerifyResult]) -> list[str]:
    """`130 replayed on the shadow: 20 verified, 71 forward_failed, ...` and, when forwards
    failed, `71 forwards failed: 61 on objects no migration creates, ...` (largest first),
    then the same traced to the first failures when some depend on others."""
    statuses = Counter(r.status for r in results)
    shown = ", ".join(f"{statuses[s]} {s}" for s in STATUSES if statuses.get(s))
    lines = [f"{len(results)} replayed on the shadow: {shown or 'none'}"]
    failed = statuses.get("forward_failed", 0)
    if not failed:
        return lines
    counts = cause_counts(results)
    lines.append(f"{failed} forward{'s' if failed > 1 else ''} failed: {_said(counts)}")
    if counts["depends_on"]:
        traced = _said(cause_counts(results, traced=True))
        lines.append(f"  traced to their first failures: {traced}")
    return lines


def _said(counts: dict[str, int]) -> str:
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])
    return ", ".join(f"{n} {_phrase(kind)}" for kind, n in ranked if n)


def _phrase(kind: str) -> str:
    return CAUSE_PHRASES.get(kind, "without a cause (the verifier's own read failed)")
