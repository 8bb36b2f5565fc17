"""DO blocks, undone from the shadow's catalog delta.

The static generator cannot see into a DO block; the shadow can see what it left. The schema
after the migration minus the schema before it is what the whole migration did; the part of it
that no statement outside a DO block names (and that a DO block's text does name, the object or
the table it lives on) is what the DO blocks did. `repair` writes the SQL that takes it back,
dependents dropped first, parents created first. It runs where the last DO block's inverse goes
in the rollback (before the inverses of everything the DO blocks could have built on); the round
trip then proves it. A DO block that did nothing lasting (an `IF NOT EXISTS` guard, an
`EXCEPTION WHEN duplicate_object`) needs nothing. Rows a DO block writes are data: those stay a
MANUAL item.

Part of the state-aware rollbacks (see the package's docstring); pure, no database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from migration_rollback.sql import RollbackPlan, RollbackStep, classify
from migration_rollback.verify.diff import Difference, diff_objects
from migration_rollback.verify.snapshot import ObjectId, Snapshot
from migration_rollback.verify.stateful.lookups import Unknown, find, unquote
from migration_rollback.verify.stateful.repair import repair

_WRITES_ROWS = re.compile(
    r"\b(insert\s+into|delete\s+from|truncate|merge\s+into|update\s+[\w.\"]+\s+(\w+\s+)?set)\b",
    re.IGNORECASE,
)


def is_do_block(step: RollbackStep) -> bool:
    return step.forward.kind == "DoStmt"


def do_body(step: RollbackStep) -> str:
    """The code of a DO block (its `AS` argument)."""
    for arg in getattr(step.forward.node, "args", None) or ():
        if getattr(arg, "defname", None) == "as":
            return str(getattr(arg.arg, "sval", ""))
    return ""


def writes_rows(step: RollbackStep) -> bool:
    """Whether a DO block's code writes rows (INSERT, UPDATE … SET, DELETE, TRUNCATE, MERGE)."""
    return _WRITES_ROWS.search(do_body(step)) is not None


@dataclass
class DoBlocks:
    """The inverse of all DO blocks of one migration, handed out once (to the first DO step in
    rollback order); the later ones are covered by it."""

    plan: RollbackPlan
    before: Snapshot
    after: Snapshot | None
    creator: str | None
    data_loss: list[str] = field(default_factory=list, init=False)
    _given: bool = field(default=False, init=False)

    def fill(self) -> tuple[list[str], str]:
        if self._given:
            return [], "undone with the migration's other DO blocks (above)"
        if self.after is None:
            raise Unknown("the state after the migration is not known")
        statements, done = undo_do_blocks(self.plan, self.before, self.after, self.creator)
        self._given = True
        self.data_loss = [
            f"{what} (DO block's effect undone)" for what in done if _holds_data(what)
        ]
        if not statements:
            return [], "the DO blocks left nothing in the schema to undo"
        return statements, "undoes what the DO blocks did (shadow's delta): " + "; ".join(done)


def undo_do_blocks(
    plan: RollbackPlan, before: Snapshot, after: Snapshot, creator: str | None
) -> tuple[list[str], list[str]]:
    """SQL taking back the DO blocks' part of the migration's delta, and what it does."""
    bodies = [do_body(s).lower() for s in plan.steps if is_do_block(s)]
    static = _named_outside_do_blocks(plan.steps, before, after)
    delta = [
        d
        for d in diff_objects(before.objects, after.objects)
        if _from_do_block(d, static, bodies, before)
    ]
    if not delta:
        return [], []
    statements, done, failed = repair(delta, before, after, creator=creator)
    if failed:
        raise Unknown("; ".join(failed))
    return statements, done


def _named_outside_do_blocks(
    steps: Sequence[RollbackStep], before: Snapshot, after: Snapshot
) -> set[ObjectId]:
    out: set[ObjectId] = set()
    for step in steps:
        if is_do_block(step):
            continue
        for ref in classify(step.forward).targets:
            for state in (after, before):
                obj = find(state, ref)
                if obj is not None:
                    out.add(obj.id)
    return out


def _from_do_block(
    d: Difference, static: set[ObjectId], bodies: Iterable[str], before: Snapshot
) -> bool:
    if d.object in static:
        return False
    if d.parent is not None and d.parent in static and d.parent not in before.objects:
        return False  # lives on an object the migration made: goes with it
    names = [_simple_name(d.object)]
    if d.parent is not None:
        names.append(_simple_name(d.parent))
    return any(_mentions(body, name) for body in bodies for name in names)


def _simple_name(oid: ObjectId) -> str:
    """The object's own name, unquoted: `public.t.c` → `c`, `public.f(integer)` → `f`."""
    name = oid.name.split("(", 1)[0]
    parts = re.findall(r'"(?:[^"]|"")*"|[^.]+', name)
    return unquote(parts[-1]).lower() if parts else name.lower()


def _mentions(body: str, name: str) -> bool:
    return re.search(rf"(?<![\w$]){re.escape(name)}(?![\w$])", body) is not None


_DATA_HOLDERS = ("table ", "column ", "sequence ")


def _holds_data(what: str) -> bool:
    """A repair line that drops or recreates rows' home: "drops table …", "recreates column …"."""
    verb, _, rest = what.partition(" ")
    return verb in ("drops", "recreates") and rest.startswith(_DATA_HOLDERS)
