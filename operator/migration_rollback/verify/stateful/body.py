"""The state-aware rollback body: the static plan's steps in order, each written as the static
generator had it, taken over by the before-state, or left MANUAL with the reason it could not
be filled; and what was filled, left, or lost on the way.

Part of the state-aware rollbacks (see the package's docstring); pure, no database.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from migration_rollback.errors import UnsafeOutputError
from migration_rollback.sql import (
    MANUAL_PREFIX,
    NON_TRANSACTIONAL_MARK,
    ManualItem,
    ManualNeed,
    RollbackPlan,
    RollbackStep,
    classify,
)
from migration_rollback.verify.snapshot import Snapshot
from migration_rollback.verify.stateful.ddl import Writer, checked
from migration_rollback.verify.stateful.dynamic import DoBlocks, is_do_block, writes_rows
from migration_rollback.verify.stateful.fill import fill
from migration_rollback.verify.stateful.lookups import Unknown
from migration_rollback.verify.stateful.renames import column_renames, waits_for_rename
from migration_rollback.verify.stateful.steps import (
    dropped_earlier,
    in_creation_order,
    needs_no_undo,
    recreation,
    redefined_targets,
    restorable,
)


@dataclass(frozen=True)
class Filled:
    """A MANUAL step the before-state answered."""

    location: str
    need: str
    target: str
    statements: tuple[str, ...]
    note: str

    def to_json(self) -> dict[str, Any]:
        return {
            "location": self.location,
            "need": self.need,
            "target": self.target,
            "sql": list(self.statements),
            "note": self.note,
        }


@dataclass(frozen=True)
class StillManual:
    location: str
    need: str
    reason: str

    def __str__(self) -> str:
        return f"{self.location}: {self.need}: {self.reason}"


@dataclass
class StatefulResult:
    """The rollback body with the state-aware SQL in place, and what could not be filled."""

    sql_body: str
    filled: list[Filled] = field(default_factory=list)
    still_manual: list[StillManual] = field(default_factory=list)
    data_loss: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _table_of(step: RollbackStep, gen: Writer) -> str | None:
    """The table the object a step recreates lives on (its parent in the before-state)."""
    ref = step.manual.target if step.manual is not None else None
    obj = gen.find(ref) if ref is not None else None
    return obj.parent.name if obj is not None and obj.parent is not None else None


def stateful_rollback(
    plan: RollbackPlan,
    before: Snapshot,
    after: Snapshot | None = None,
    *,
    creator: str | None = "postgres",
    state_first: bool = False,
) -> StatefulResult:
    """The plan's rollback body with the MANUAL steps the before-state can answer filled in.

    `before` is the schema before the migration; `after` (optional) the schema after it, which
    lets a restored function or view be replaced in place when its signature allows.
    `state_first`: also replace the static generator's restores of earlier definitions (CREATE
    OR REPLACE of a view/function/trigger, ALTER POLICY, COMMENT) by the before-state's; the
    shadow's state is the ground truth, the earlier migrations' text only a guess of it.
    """
    gen = Writer(before, after, creator)
    do_blocks = DoBlocks(plan, before, after, creator, gen.created)
    result = StatefulResult("")
    out: list[str] = []
    overridden: set[int] = set()
    renames = column_renames(plan)
    for table, blocks in do_blocks.renamed_tables().items():
        renames.setdefault(table, []).extend(blocks)
    deferred: dict[int, list[str]] = {}
    for step in in_creation_order([recreation(s, plan, gen) for s in plan.steps], plan):
        mark = len(out)
        if (
            state_first
            and step.sql is not None
            and restorable(step)
            and not dropped_earlier(step, plan)
        ):
            if step.forward.index in overridden:
                continue
            overridden.add(step.forward.index)
            targets = redefined_targets(step.forward.node) or classify(step.forward).targets
            step = replace(
                step,
                sql=None,
                notes=(),
                manual=ManualItem(
                    ManualNeed.PRIOR_DEFINITION,
                    f"restore what {step.forward.first_line} replaced",
                    targets[0] if targets else None,
                ),
            )
        if step.sql is None and step.manual is None:
            continue
        no_undo = needs_no_undo(step, plan, gen)
        if no_undo is not None:
            loc = step.forward.location
            out.append(f"-- undoes {loc.file}:{loc.line}: {step.forward.first_line}")
            out.append(f"-- state-aware: {no_undo}")
            out.append("")
            continue
        loc = step.forward.location
        where = f"{loc.file}:{loc.line}"
        out.append(f"-- undoes {where}: {step.forward.first_line}")
        out.extend(f"-- note: {note}" for note in step.notes)
        if step.sql is not None:
            if not step.transactional:
                out.append(NON_TRANSACTIONAL_MARK)
            out.append(step.sql.rstrip().rstrip(";") + ";")
        if step.manual is not None:
            need = str(step.manual.need)
            try:
                sql, what = do_blocks.fill(step) if is_do_block(step) else fill(step, gen)
                statements = checked(sql)
            except (Unknown, UnsafeOutputError) as exc:
                result.still_manual.append(
                    StillManual(where, need, f"{step.manual.reason} ({exc})")
                )
                out.extend(
                    f"{MANUAL_PREFIX} {line}".rstrip() for line in step.manual.reason.splitlines()
                )
            else:
                target = step.manual.target.describe() if step.manual.target else need
                result.filled.append(Filled(where, need, target, statements, what))
                out.append(f"-- state-aware ({need}): {what}")
                out.extend(f"{s};" for s in statements)
                if (
                    need in ("RECREATE_DROPPED",)
                    and step.manual.target is not None
                    and (step.manual.target.kind in ("table", "column", "sequence", "schema"))
                ):
                    out.append("-- data loss: the structure is back, the rows are not")
                if is_do_block(step) and writes_rows(step, do_blocks.before, do_blocks.after):
                    reason = "the DO block writes rows: review the data it changed"
                    result.still_manual.append(StillManual(where, "DATA", reason))
                    out.append(f"{MANUAL_PREFIX} {reason}")
                wait = waits_for_rename(step, _table_of(step, gen), renames)
                if need == "RECREATE_DROPPED" and wait is not None:
                    out.append("-- (after the rename back below: it uses the columns' old names)")
                    deferred.setdefault(wait, []).extend([*out[mark:], ""])
                    del out[mark:]
                    continue
        out.append("")
        out.extend(deferred.pop(step.forward.index, []))
    for lines in deferred.values():
        out.extend(lines)
    result.sql_body = "\n".join(out).rstrip() + "\n"
    result.data_loss = list(dict.fromkeys([*gen.data_loss, *do_blocks.data_loss]))
    result.notes = list(dict.fromkeys(gen.notes))
    return result
