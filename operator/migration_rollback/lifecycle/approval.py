"""The approval gate: MANUAL items or data loss stop a rollback until a human approves it.

Approval names the exact SQL (its sha256) in an annotation, so it can be given from Git and
cannot carry over to different SQL; data loss additionally needs `spec.allowDataLoss`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from migration_rollback.api import APPROVAL_ANNOTATION


@dataclass(frozen=True, slots=True)
class PlanSummary:
    statements: int
    manual_items: int
    destroys_data: bool
    non_transactional: int
    strongest_lock: str

    @classmethod
    def from_status(cls, plan: Mapping[str, Any]) -> PlanSummary:
        """From status.plan (as `to_status` wrote it)."""
        return cls(
            statements=int(plan.get("statements", 0)),
            manual_items=int(plan.get("manualItems", 0)),
            destroys_data=bool(plan.get("destroysData", False)),
            non_transactional=int(plan.get("nonTransactional", 0)),
            strongest_lock=str(plan.get("strongestLock", "")),
        )

    def to_status(self) -> dict[str, object]:
        return {
            "statements": self.statements,
            "manualItems": self.manual_items,
            "destroysData": self.destroys_data,
            "nonTransactional": self.non_transactional,
            "strongestLock": self.strongest_lock,
        }


@dataclass(frozen=True, slots=True)
class ApprovalDecision:
    approved: bool
    needed: bool
    message: str


def decide(
    plan: PlanSummary,
    sha256: str,
    annotations: Mapping[str, str] | None,
    allow_data_loss: bool,
) -> ApprovalDecision:
    reasons = []
    if plan.manual_items:
        reasons.append(f"{plan.manual_items} MANUAL item(s) need a human")
    if plan.destroys_data:
        reasons.append("it destroys data")
    if not reasons:
        return ApprovalDecision(approved=True, needed=False, message="no approval needed")
    given = (annotations or {}).get(APPROVAL_ANNOTATION, "").strip().lower()
    how = f"annotate with {APPROVAL_ANNOTATION}={sha256}"
    if plan.destroys_data and not allow_data_loss:
        return ApprovalDecision(
            approved=False,
            needed=True,
            message=f"{'; '.join(reasons)}: set spec.allowDataLoss=true and {how}",
        )
    if given == sha256:
        return ApprovalDecision(approved=True, needed=True, message=f"approved sha256 {sha256}")
    if given:
        return ApprovalDecision(
            approved=False,
            needed=True,
            message=f"approval names sha256 {given[:12]}… but the SQL is {sha256}: {how}",
        )
    return ApprovalDecision(approved=False, needed=True, message=f"{'; '.join(reasons)}: {how}")
