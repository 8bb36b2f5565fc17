"""Put back the data a migration changed, from the captures `apply` kept, inside the rollback.

A generated rollback says, before each step, which forward statement it undoes (`-- undoes
<file>:<line>: ...`). When the target database holds a capture for that migration (see
capture.py), each captured statement gets a restore step at exactly that place in the rollback,
so restores run in reverse statement order, interleaved with the schema inverses: a column's
prior type comes back before the prior values of an earlier UPDATE are written into it.

- UPDATE: the prior values of the columns it set, written back by key.
- DELETE, TRUNCATE, DROP TABLE, MERGE: the prior rows put back (by key where there is one).
- INSERT: the inserted rows deleted by key.
- INSERT ... ON CONFLICT DO UPDATE: the inserted rows deleted, the updated ones written back
  (capture_upsert.py).
- DROP COLUMN: the column re-added if the rollback did not, then refilled by key.
- ALTER COLUMN TYPE: the prior type restored with the exact prior values (a lookup by key in
  the USING expression; rows written since the migration are converted by a plain cast).
- sequences: set back, only if nobody has used them since the migration.
- a trigger, policy or routine dropped or replaced (OR REPLACE): its kept definition again, or,
  absent before, nothing / the drop of what the migration made (restore_definitions.py).
- an object created IF NOT EXISTS that was there before the statement: nothing, and the
  rollback's steps undoing that statement (a DROP the engine wrote trusting history) are kept,
  not run (`keeps`, plan.keeping).

"Since the migration" is measured with row versions: a row whose xmin is newer than the
migration's transaction id was written after it. A captured row written since is a conflict:
`--on-conflict fail` refuses before anything runs, `keep-current` leaves such rows alone,
`restore-captured` overwrites them. Without a capture nothing here does anything.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from psycopg import sql

from migration_rollback.runner.capture_catalog import catalog_ident
from migration_rollback.runner.capture_plan import CaptureKind
from migration_rollback.runner.definition_rights import require_settable_owner
from migration_rollback.runner.errors import PreconditionError
from migration_rollback.runner.plan import Plan, PlannedStatement
from migration_rollback.runner.restore_captures import (
    Capture,
    Group,
    answered,
    forward_statements,
    groups_of,
    left_unchanged,
    load_captures,
)
from migration_rollback.runner.restore_conflicts import (
    account_capture,
    account_definition,
    account_removed,
    freeze_conflicts,
)
from migration_rollback.runner.restore_place import later_spots
from migration_rollback.runner.restore_steps import restore_one
from migration_rollback.runner.rollback_file import ManualMarker, RollbackSource
from migration_rollback.runner.session import Connection
from migration_rollback.sql import Statement


@dataclass
class DataRestore:
    """The restore steps of one run: found, placed, accounted for, then run in the transaction."""

    captures: list[Capture] = field(default_factory=list)
    groups: dict[str, list[Group]] = field(default_factory=dict)
    covered_lines: dict[str, set[int]] = field(default_factory=dict)
    on_conflict: str = "fail"
    before: dict[int, list[Capture]] = field(default_factory=dict)
    at_end: list[Capture] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    done: list[int] = field(default_factory=list)
    definitions_due: list[Capture] = field(default_factory=list)  # put back (see schedule)
    marked: dict[str, set[int]] = field(default_factory=dict)  # forward lines with a MANUAL
    # Forward lines whose IF NOT EXISTS met an existing object (apply read it): their groups'
    # steps undo nothing and are kept, not run (see keeps).
    existed: dict[str, set[int]] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return any(c.usable for c in self.captures)

    def add(
        self,
        version: str,
        groups: list[Group],
        forward: dict[int, Statement],
        markers: Collection[int] = (),
        statement_lines: Collection[int] = (),
        *,
        other_text: bool = False,
    ) -> None:
        """One rollback's groups, and the forward lines (by line) whose MANUAL items the
        captures answer; `markers`: the lines of the rollback's MANUAL markers, and
        `statement_lines` those of its statements (a definition is put back only where a
        group says MANUAL and runs nothing: a group that runs SQL of its own is left to it,
        and its marker stays unanswered; see _left_alone). `other_text`: the captures were
        taken running another text of the migration (edited since): their lines may name
        other statements, so no step is kept on their word."""
        self.groups[version] = groups
        by_line: dict[int, list[Capture]] = {}
        for capture in self.captures:
            if capture.version == version and capture.kind is not CaptureKind.SEQUENCE:
                by_line.setdefault(capture.line, []).append(capture)
        # A line that starts two groups holds two forward statements: which one the capture
        # speaks of is not known there, so neither's steps are kept (they run, as before).
        shared = {line for line, n in Counter(g.forward_line for g in groups).items() if n > 1}
        self.existed[version] = {
            line
            for line, found in by_line.items()
            if line not in shared
            and not other_text
            and all(met_existing(c) for c in found)
            and left_unchanged(forward.get(line), found)
        }
        self.marked[version] = {
            g.forward_line
            for g in groups
            if g.forward_line in self.existed[version]
            or (
                any(g.start < m < g.end for m in markers)
                and not any(g.start < line < g.end for line in statement_lines)
            )
        }
        self.covered_lines[version] = {
            line
            for line, found in by_line.items()
            if answered(forward.get(line), found) and not self._unmarked(version, found)
        }

    def _unmarked(self, version: str, found: list[Capture]) -> bool:
        return any(c.kind.keeps_definition for c in found) and not any(
            c.line in self.marked.get(version, set()) for c in found
        )

    # -- steps kept: what they undo did not happen ------------------------------------------

    def keeps(self, version: str, line: int) -> bool:
        """The rollback's statement at this line undoes an IF NOT EXISTS that apply saw meet
        an existing object (made in the dashboard): the forward changed nothing there, so
        the step (a DROP the engine wrote trusting history: the object was new) is kept, not
        run. The `-- undoes` group links the step to its forward statement, the capture at
        that line says which object and that it existed: no other mark is needed."""
        existed = self.existed.get(version, set())
        return any(
            g.start < line < g.end and g.forward_line in existed
            for g in self.groups.get(version, [])
        )

    def keeps_step(self, planned: PlannedStatement) -> bool:
        return self.keeps(planned.version, planned.statement.location.line)

    # -- MANUAL markers -------------------------------------------------------------------

    def answers(self, version: str, line: int) -> bool:
        """A MANUAL marker at this line of the version's rollback is answered by a capture."""
        covered = self.covered_lines.get(version, set())
        return any(
            g.start < line < g.end and g.forward_line in covered
            for g in self.groups.get(version, [])
        )

    def unanswered(self, sources: list[RollbackSource]) -> list[RollbackSource]:
        """The sources with the MANUAL markers a capture answers taken out; a marker left
        carries what `apply` read for it and could not act on (an IF NOT EXISTS table that did
        not exist: its DROP is the data-loss gate's call), so the refusal says it."""
        return [
            replace(
                source,
                manual=tuple(
                    self._told(source.migration.version, m)
                    for m in source.manual
                    if not self.answers(source.migration.version, m.line)
                ),
            )
            for source in sources
        ]

    def _told(self, version: str, marker: ManualMarker) -> ManualMarker:
        lines = {
            g.forward_line for g in self.groups.get(version, []) if g.start < marker.line < g.end
        }
        said = [
            f"{c.describe()}: {c.reason}"
            for c in self.captures
            if c.version == version
            and c.line in lines
            and c.status == "manual"
            and c.reason
            and c.kind.keeps_definition
        ]
        if not said:
            return marker
        return replace(marker, text=f"{marker.text} [apply kept: {'; '.join(said)}]")

    # -- placing ----------------------------------------------------------------------------

    def schedule(self, plan: Plan) -> None:
        """Each restore runs before the first statement of its version that follows its group."""
        order = {v: i for i, v in enumerate(plan.versions)}
        wanted = [c for c in self.captures if c.usable and not self._left_alone(c, plan)]
        self.definitions_due = [c for c in wanted if c.kind.keeps_definition]
        items = [((order.get(c.version, 0), self._spot(c, plan)), c) for c in wanted]
        items.sort(key=lambda item: (item[0], -item[1].statement))
        pending = list(items)
        for planned in plan.statements:
            here = (order.get(planned.version, 0), float(planned.statement.location.line))
            due = [c for key, c in pending if key < here]
            pending = [(key, c) for key, c in pending if key >= here]
            if due:
                self.before[planned.number] = due
        self.at_end = [c for _, c in pending]

    def _left_alone(self, capture: Capture, plan: Plan) -> bool:
        """A definition is put back only where the rollback does nothing for its statement but
        say it is MANUAL: a group that runs SQL recreates or drops the object itself (from an
        earlier migration, or the shadow's state), under names the rollback's later steps
        expect; a second recreation would collide with it."""
        if not capture.kind.keeps_definition:
            return False
        if self._unmarked(capture.version, [capture]):
            return True
        groups = [g for g in self.groups.get(capture.version, []) if g.forward_line == capture.line]
        runs = [p.statement.location.line for p in plan.all if p.version == capture.version]
        return not groups or any(g.start < line < g.end for g in groups for line in runs)

    def _spot(self, capture: Capture, plan: Plan) -> float:
        """Just before the end of its last `-- undoes` group (one forward statement can have
        several: a refill runs after the step that re-adds its column), or after a later step
        that removes what would refuse it (restore_place.py); after everything without a
        group."""
        groups = self.groups.get(capture.version, [])
        ends = [g.end for g in groups if g.forward_line == capture.line]
        if ends and capture.kind.keeps_definition:  # no rows: nothing later can refuse it
            return float(max(ends)) - 0.5
        if ends:
            return max([float(max(ends)) - 0.5, *later_spots(capture, plan, max(ends))])
        if capture.kind is not CaptureKind.SEQUENCE:
            self.warnings.append(
                f"no '-- undoes' step for statement {capture.statement} of "
                f"{capture.version} in the rollback: its data is restored after the rest"
            )
        return float("inf")

    # -- accounting (before anything runs) ---------------------------------------------------

    def account(self, conn: Connection, plan: Plan) -> list[dict[str, Any]]:
        """Rows written since the migration into what the rollback removes or rewrites, and
        conflicts (captured rows written since), per object."""
        self.entries = []
        for capture in self.captures:
            if capture.usable and capture.kind.keeps_definition:
                self.entries.append(account_definition(capture))
            elif capture.usable:
                self.entries.append(account_capture(conn, capture))
            elif capture.kind is not CaptureKind.SEQUENCE:
                self.entries.append(
                    {
                        "object": capture.describe(),
                        "version": capture.version,
                        "statement": capture.statement,
                        "action": capture.status,
                        "note": capture.reason,
                    }
                )
        self.entries += account_removed(conn, plan, self.captures)
        for capture in self.definitions_due:  # refused now, not halfway through the rollback
            rights = (capture.detail or {}).get("rights")
            if rights and not (capture.detail or {}).get("absent"):
                require_settable_owner(conn, rights)
        return self.entries

    def conflicts(self) -> list[dict[str, Any]]:
        return [e for e in self.entries if e.get("conflicts")]

    def check_conflicts(self) -> None:
        found = self.conflicts()
        if not found or self.on_conflict != "fail":
            return
        listed = "; ".join(
            f"{e['object']} (statement {e['statement']}): {e['conflicts']} row(s)"
            for e in found[:5]
        )
        raise PreconditionError(
            f"rows the migration changed were changed again since ({listed}): restoring them "
            "would overwrite those later changes. Pass --on-conflict keep-current (leave them) "
            "or --on-conflict restore-captured (overwrite them)"
        )

    # -- the hook the transaction calls -------------------------------------------------------

    def begin(self, conn: Connection) -> None:
        """First thing in the transaction: freeze the conflicting keys (row versions change as
        soon as the rollback writes)."""
        for capture in self.captures:
            if (
                capture.usable
                and capture.kind.needs_key
                and capture.kind is not (CaptureKind.DROP_COLUMN)
            ):
                freeze_conflicts(conn, capture)

    def before_statement(self, conn: Connection, number: int) -> None:
        for capture in self.before.pop(number, []):
            self._restore(conn, capture)

    def finish(self, conn: Connection) -> None:
        for capture in self.at_end:
            self._restore(conn, capture)
        self.at_end = []
        ids = [c.id for c in self.captures]
        if ids:
            conn.execute(
                sql.SQL(
                    "UPDATE {} SET status = 'restored', restored_at = now() WHERE id = ANY(%s)"
                ).format(catalog_ident()),
                [ids],
            )

    def _restore(self, conn: Connection, capture: Capture) -> None:
        note = restore_one(conn, capture, self.on_conflict)
        self.done.append(capture.id)
        for entry in self.entries:
            if entry.get("capture") == capture.id:
                entry["restored"] = note


def met_existing(capture: Capture) -> bool:
    """A usable capture saying its IF NOT EXISTS object was there before the statement."""
    existed = bool((capture.detail or {}).get("existed"))
    return capture.usable and capture.kind.keeps_definition and existed


def prepare_restore(
    conn: Connection, sources: list[RollbackSource], migrations_dir: Path, on_conflict: str
) -> DataRestore:
    """The restore steps for these rollbacks, from the captures in the target database."""
    captures = load_captures(conn, [s.migration.version for s in sources])
    restore = DataRestore(captures=captures, on_conflict=on_conflict)
    if not captures:
        return restore
    for source in sources:
        forward = forward_statements(source, migrations_dir)
        markers = [m.line for m in source.manual]
        lines = [st.location.line for st in source.script.statements]
        other = _other_text(captures, source)
        restore.add(
            source.migration.version, groups_of(source), forward, markers, lines, other_text=other
        )
        if other:
            restore.warnings.append(
                f"{source.migration.version}: apply captured another text of the migration "
                "(edited since): no rollback step is kept on its IF NOT EXISTS captures"
            )
    return restore


def _other_text(captures: list[Capture], source: RollbackSource) -> bool:
    """Whether apply ran a text of this migration other than the forward read now."""
    ran = source.forward.sha256 if source.forward is not None else None
    version = source.migration.version
    return any(c.version == version and c.sha256 and c.sha256 != ran for c in captures)
