"""What a round trip concludes: the migration pair it checked, how its attempts went (the
outcome), and the verdict with its report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from migration_rollback.verify.as_apply import DataAnswer
from migration_rollback.verify.causes import Cause
from migration_rollback.verify.covered import Covered, folded, split
from migration_rollback.verify.diff import Difference, render, summarize
from migration_rollback.verify.rollback_source import Prepared

if TYPE_CHECKING:
    from migration_rollback.sql import RollbackPlan

Status = Literal["verified", "manual", "mismatch", "rollback_failed", "forward_failed", "skipped"]


@dataclass(frozen=True, slots=True)
class MigrationPair:
    """A forward migration file and its rollback file (None: there is none)."""

    name: str
    forward_path: Path
    rollback_path: Path | None = None
    # The rollback's text as `validate` read and judged it: verified as is, never read again
    # (a file changed between the two reads would be verified as one thing, validated as
    # another). None: read from `rollback_path`.
    rollback_text: str | None = field(default=None, repr=False, compare=False)
    # The generator's static plan of the forward (as `generate` writes it): its MANUAL items'
    # targets cover differences when the rollback file is that plan's body (verify/covered.py).
    plan: RollbackPlan | None = field(default=None, repr=False, compare=False)


@dataclass
class VerifyResult:
    """The verdict on one migration's rollback."""

    migration: str
    status: Status
    # What the rollback got wrong: the differences no MANUAL item covers.
    differences: list[Difference] = field(default_factory=list)
    # Differences on objects a MANUAL item of the rollback leaves to a human (verify/covered.py):
    # not counted against it (the verdict is `manual`), still reported.
    covered: list[Covered] = field(default_factory=list)
    message: str = ""
    location: str | None = None  # file:line of the statement that failed
    # Differences that do not count against the verdict: column order (PostgreSQL cannot put a
    # re-added column back in its place; see `strict_column_order`).
    tolerated: list[Difference] = field(default_factory=list)
    manual: list[str] = field(default_factory=list)  # MANUAL items nobody filled
    # MANUAL items (data) that the restore from apply's captures answers, proven on the shadow.
    restored: list[str] = field(default_factory=list)
    data_loss: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    elapsed_ms: float = 0.0
    rollback_sql: str | None = None  # the rollback that was checked, when generated
    # Extensions that were stand-ins on the shadow and that this migration (or its rollback)
    # created or used: the verdict holds for the stand-ins' definitions, not the real ones.
    standins: list[str] = field(default_factory=list)
    cause: Cause | None = None  # why the forward migration failed (forward_failed only)
    # forward_failed: the statements a partial replay skipped ("file:line:col: error"); the
    # others were applied, so that later migrations find what they created.
    skipped_statements: list[str] = field(default_factory=list)
    # The rollback ran and the schema came back (whatever MANUAL data items remain): what a
    # schema-only tool calls restored, so the corpus can compare like with like.
    schema_restored: bool = False

    @property
    def verified(self) -> bool:
        return self.status == "verified"

    @property
    def order_note(self) -> str:
        """`, column order differs` when a column came back in another place (tolerated)."""
        return ", column order differs" if self.tolerated else ""

    @property
    def verdict(self) -> str:
        """The status, with what it tolerated and the stand-ins it relied on: `verified, column
        order differs (stand-ins: pg_cron)`."""
        if not self.standins:
            return self.status + self.order_note
        return f"{self.status}{self.order_note} (stand-ins: {', '.join(self.standins)})"

    @property
    def depends_on(self) -> str | None:
        """The earlier failed migration this one's failure comes from, if that is the cause."""
        return self.cause.subject if self.cause and self.cause.kind == "depends_on" else None

    def report(self) -> str:
        """Human-readable: the verdict, then the differences or the error."""
        lines = [
            f"{self.migration}: {self.verdict}" + (f" - {self.message}" if self.message else "")
        ]
        if self.location:
            lines.append(f"  at {self.location}")
        if self.cause is not None:
            lines.append(f"  cause: {self.cause}")
        if self.differences:
            lines.append(render(self.differences))
        if self.covered:
            lines.append("  left to a human by MANUAL items:")
            lines.extend(f"    {c.describe()}" for c in folded(self.covered))
        if self.tolerated:
            lines.append("  tolerated (column order):")
            lines.append(render(self.tolerated, indent="    "))
        lines.extend(f"  MANUAL: {item}" for item in self.manual)
        lines.extend(f"  restored from captures: {item}" for item in self.restored)
        lines.extend(f"  data loss: {item}" for item in self.data_loss)
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "migration": self.migration,
            "status": self.status,
            "verdict": self.verdict,
            "standins": list(self.standins),
            "cause": self.cause.to_json() if self.cause is not None else None,
            "depends_on": self.depends_on,
            "message": self.message,
            "location": self.location,
            "differences": [d.to_json() for d in self.differences],
            "covered": [c.to_json() for c in self.covered],
            "column_order_differs": bool(self.tolerated),
            "schema_restored": self.schema_restored,
            "tolerated": [d.to_json() for d in self.tolerated],
            "manual": list(self.manual),
            "restored_from_captures": list(self.restored),
            "data_loss": list(self.data_loss),
            "notes": list(self.notes),
            "elapsed_ms": round(self.elapsed_ms, 2),
            "skipped_statements": list(self.skipped_statements),
        }


@dataclass
class Failure:
    message: str
    location: str | None
    sqlstate: str | None = None
    primary: str = ""  # the server's primary message alone (for classification)
    context: str = ""  # the server's error context ("compilation of PL/pgSQL function …")
    in_body: bool = False  # the error's position is inside a DO block's or function's code
    own: bool = False  # the verifier's own read failed, not a statement (session_lost.py)


@dataclass
class Outcome:
    prepared: Prepared | None = None
    forward_failure: Failure | None = None
    rollback_failure: Failure | None = None
    differences: list[Difference] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data: DataAnswer | None = None  # the MANUAL markers apply's captures answer


def verdict_of(name: str, out: Outcome, tolerated: Callable[[Difference], bool]) -> VerifyResult:
    prepared = out.prepared
    result = VerifyResult(name, "verified", notes=list(out.notes))
    if prepared is not None:
        result.manual = list(prepared.manual)
        result.data_loss = list(prepared.data_loss)
        result.notes.extend(prepared.notes)
    if out.forward_failure is not None:
        result.status = "forward_failed"
        own = out.forward_failure.own  # the message says whose read failed
        result.message = ("" if own else "the forward migration failed: ") + (
            out.forward_failure.message
        )
        result.location = out.forward_failure.location
        return result
    if prepared is None or prepared.script is None:
        result.status = (
            "manual" if prepared is None or prepared.location is None else "rollback_failed"
        )
        problem = prepared.problem if prepared is not None else None
        result.message = problem or "no rollback"
        if prepared is not None and prepared.location is not None:
            why = "execute refuses it" if prepared.refused else "the rollback does not parse"
            result.message = f"{why}: {problem}"
            result.location = prepared.location
        return result
    if out.rollback_failure is not None:
        result.status = "rollback_failed"
        result.message = f"the rollback failed: {out.rollback_failure.message}"
        result.location = out.rollback_failure.location
        return result
    counted = [d for d in out.differences if not tolerated(d)]
    result.differences, result.covered = split(counted, prepared.covers)
    result.tolerated = [d for d in out.differences if tolerated(d)]
    order = _order_note(result)
    result.schema_restored = not counted
    if result.differences:
        result.status = "mismatch"
        result.message = (
            "the rollback does not restore the schema: "
            + summarize(result.differences)
            + _also_covered(result.covered)
        )
    elif result.covered:
        _left_to_a_human(result, out.data)
    elif result.manual and restored(result, out.data):
        result.message = "the rollback restores the schema exactly, and the data from captures"
    elif result.manual:
        result.status = "manual"
        result.message = (
            f"the schema round trip matches, but {len(result.manual)} MANUAL item(s) remain "
            "(data or steps a human must supply)" + order
        )
    elif order:
        result.message = "the rollback restores the schema" + order
    else:
        result.message = "the rollback restores the schema exactly"
    return result


def _order_note(result: VerifyResult) -> str:
    """`; column order differs in …` (also kept as a note) when a column came back elsewhere."""
    if not result.tolerated:
        return ""
    tables = sorted({str(d.parent.name) for d in result.tolerated if d.parent is not None})
    order = (
        f"; column order differs in {', '.join(tables)} (a re-added column comes last: "
        "SELECT *, INSERT without a column list and COPY see another order; "
        "--exact-column-order rebuilds the table)"
    )
    result.notes.append(order[2:])
    return order


def _also_covered(covered: list[Covered]) -> str:
    if not covered:
        return ""
    return f"; {len(covered)} more difference(s) where MANUAL items leave the step to a human"


def _left_to_a_human(result: VerifyResult, data: DataAnswer | None) -> None:
    """Every difference is on an object a MANUAL item leaves to a human: `manual`, each
    difference named with the item (file:line) that covers it."""
    result.status = "manual"
    result.message = (
        "the schema differs only where MANUAL items leave the step to a human: "
        + "; ".join(c.describe() for c in folded(result.covered))
    )
    if data is not None and data.answered:
        _restored_in_part(result, data)


def restored(result: VerifyResult, data: DataAnswer | None) -> bool:
    """Every MANUAL item is data that the restore from apply's captures answers (proven by
    the round trip): verified, with the items moved to `restored` and a note saying so."""
    if data is None or not data.answered:
        return False
    if not data.complete or len(result.manual) > data.markers:
        _restored_in_part(result, data)
        return False
    result.restored, result.manual = list(data.answered), []
    result.notes.append(data.note())
    return True


def _restored_in_part(result: VerifyResult, data: DataAnswer) -> None:
    """Some MANUAL items are data the captures restore, others are not: the verdict stays
    manual, and lists only what remains for a human (the rest under `restored`), so the
    remaining item is the one the summary names."""
    answered = set(data.answered)
    result.restored = [item for item in result.manual if item in answered]
    if result.restored:
        result.manual = [item for item in result.manual if item not in answered]
        result.notes.append(
            f"data: {len(result.restored)} MANUAL item(s) restored from apply's captures; "
            "the rest need a human"
        )
