"""The approval gate: MANUAL items or data loss stop a rollback until a human approves it.

Approval names the exact SQL (its sha256) in an annotation, so it can be given from Git and
cannot carry over to different SQL; data loss additionally needs `spec.allowDataLoss`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from migration_rollback.api import APPROVAL_ANNOTATION


@dataclass(frozen=True, slots=True)
class PlanSummary:
    statements: int
    manual_items: int
    destroys_data: bool
    non_transactional: int
    strongest_lock: str

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
