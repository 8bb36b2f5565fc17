"""The generator's attempts at one migration's rollback, as the round trip asks for them.

First the static plan with its MANUAL steps filled from the shadow's state. When that fails to
run, once: the same plan with the restores of earlier definitions rewritten from the state (the
state is the ground truth, earlier migrations' text only a guess of it). When an attempt leaves
differences, once per attempt: repair SQL for them appended (objects a CASCADE took along, a DO
block's leftovers, stand-ins' members, column order).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from migration_rollback.errors import SqlSyntaxError, UnsafeOutputError
from migration_rollback.project.docs import TABLE_REBUILD
from migration_rollback.sql import History, RollbackPlan, Script, generate_rollback, parse_script
from migration_rollback.verify.diff import Difference
from migration_rollback.verify.rollback_source import Attempts, Prepared, RollbackSource
from migration_rollback.verify.snapshot import Snapshot
from migration_rollback.verify.stateful import Filled, StillManual, repair, stateful_rollback
from migration_rollback.verify.stateful.ddl import Writer, checked
from migration_rollback.verify.stateful.lookups import Unknown
from migration_rollback.verify.stateful.members import STANDIN_MEMBER, member_repair
from migration_rollback.verify.stateful.reorder import rebuild


def generated_source(
    name: str, history: History, *, creator: str | None = "postgres"
) -> RollbackSource:
    """The static plan of the forward, its MANUAL steps filled from the shadow's state."""

    def provide(
        forward: Script, before: Callable[[], Snapshot], after: Callable[[], Snapshot]
    ) -> Attempts:
        plan = generate_rollback(forward, name, history)
        return Generated(name, plan, before(), after, creator)

    return provide


@dataclass
class Generated:
    """The attempts for one forward migration (an `Attempts`)."""

    name: str
    plan: RollbackPlan
    before: Snapshot
    after: Callable[[], Snapshot]
    creator: str | None
    _first: Prepared | None = None
    _repairs: list[Prepared] = field(default_factory=list)  # not repaired again

    def first(self) -> Prepared:
        if self._first is None:
            self._first = self._make(state_first=False)
        return self._first

    def after_failure(self, failed: Prepared) -> Prepared | None:
        """Only the first attempt is regenerated, and only when that changes its body."""
        if failed is not self.first():
            return None
        again = self._make(state_first=True)
        if again.sql_body == failed.sql_body:
            return None
        again.notes.append(
            "the first rollback failed; restores of earlier definitions were rewritten "
            "from the shadow's state"
        )
        return again

    def repairable(self, last: Prepared) -> bool:
        """A repaired attempt is not repaired again."""
        return not any(last is done for done in self._repairs)

    def after_differences(
        self, last: Prepared, differences: list[Difference], state: Callable[[], Snapshot]
    ) -> Prepared | None:
        if not self.repairable(last):
            return None
        again = _repaired(self.name, last, differences, self.before, state(), self.creator)
        if again is not None:
            self._repairs.append(again)
        return again

    def _make(self, *, state_first: bool) -> Prepared:
        needs_after = bool(self.plan.manual_items) or state_first
        result = stateful_rollback(
            self.plan, self.before, self.after() if needs_after else None,
            creator=self.creator, state_first=state_first,
        )  # fmt: skip
        return _prepared(self.name, result.sql_body, result.still_manual, result.data_loss,
                         result.notes, result.filled)  # fmt: skip


def _prepared(
    name: str,
    body: str,
    still_manual: list[StillManual],
    data_loss: list[str],
    notes: list[str],
    filled: list[Filled],
) -> Prepared:
    source = f"{name}_rollback.sql"
    try:
        script = parse_script(body, source)
    except SqlSyntaxError as exc:  # the safety belt should make this impossible
        return Prepared(None, body, problem=f"generated rollback does not parse: {exc}")
    return Prepared(
        script,
        body,
        [str(m) for m in still_manual],
        data_loss,
        notes,
        sql_body=body,
        filled=list(filled),
        still_manual=list(still_manual),
    )


def _repaired(
    name: str,
    last: Prepared,
    differences: list[Difference],
    before: Snapshot,
    state: Snapshot,
    creator: str | None,
) -> Prepared | None:
    # A stand-in's own objects are not in the snapshots: their differences carry their state.
    members = [d for d in differences if d.object.kind == STANDIN_MEMBER]
    # Column order (only counted with exact column order): the table rebuilt.
    positions = [d for d in differences if d.attribute == "position" and d.parent]
    differences = [d for d in differences if d.object.kind != STANDIN_MEMBER and d not in positions]
    statements, done, failed = repair(differences, before, state, creator=creator)
    more, done_more, failed_more = member_repair(members, creator)
    statements, done, failed = statements + more, done + done_more, failed + failed_more
    more, done_more, failed_more = _reordered(positions, before, state, creator)
    statements, done, failed = statements + more, done + done_more, failed + failed_more
    if not statements:
        last.notes.extend(f"repair could not handle: {f}" for f in failed)
        return None
    extra = "\n".join(
        ["-- state-aware repair: what the round trip found still different", *(
            f"-- {line}" for line in done
        ), *(f"{s};" for s in statements)]
    )  # fmt: skip
    body = last.sql_body or ""
    return _prepared(
        name, body.rstrip() + "\n\n" + extra + "\n", last.still_manual, last.data_loss,
        last.notes + [f"repair could not handle: {f}" for f in failed], last.filled,
    )  # fmt: skip


def _reordered(
    positions: list[Difference], before: Snapshot, state: Snapshot, creator: str | None
) -> tuple[list[str], list[str], list[str]]:
    """The tables whose columns came back in another order, rebuilt (see `reorder`)."""
    gen = Writer(before, state, creator)
    statements: list[str] = []
    done: list[str] = []
    failed: list[str] = []
    for table in sorted({d.parent for d in positions if d.parent is not None}):
        try:
            statements += checked(rebuild(gen, table))
        except (Unknown, UnsafeOutputError) as exc:
            failed.append(f"{table}: column order not restored ({exc})")
            continue
        done.append(f"rebuilds {table} {TABLE_REBUILD}")
    return statements, done, failed
