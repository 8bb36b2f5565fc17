"""Which differences a rollback's MANUAL items leave to a human on purpose ("covered").

A generated rollback says, in a `-- MANUAL:` item, that one step is a human's call: an
`IF NOT EXISTS` object that may have been there before, a row security switch whose earlier
state no migration says, a function replaced with no earlier text to restore. On the shadow
that step is not taken, so the schema differs there; such a difference is not a wrong
rollback, and counting it as one drowned the real mismatches.

The items' targets are the engine's own (`ManualItem.target`), never read from their prose:
they are used only when the rollback file is exactly what the generator writes for its
forward migration (its Body-SHA256 header matches its body, and the body is the plan's). A
hand-edited file, or one `generate --verify` wrote, has no covers: every difference counts.
Pure, no I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from migration_rollback.project.artifacts import normalized_body, split_file
from migration_rollback.sql import MANUAL_PREFIX, Leaves, ManualItem, ManualNeed, ObjectRef
from migration_rollback.sql.compose import Identifier
from migration_rollback.sql.kinds import KINDS
from migration_rollback.sql.parse import split_comment_lines
from migration_rollback.verify.diff import EXISTS, Difference
from migration_rollback.verify.snapshot import ObjectId
from migration_rollback.verify.stateful.lookups import normalize_args

if TYPE_CHECKING:
    from migration_rollback.sql import RollbackPlan


@dataclass(frozen=True, slots=True)
class Cover:
    """One MANUAL item of a rollback file and the objects it leaves to a human."""

    where: str  # file:line of the item's first `-- MANUAL:` line
    item: str  # that line's text
    targets: tuple[ObjectRef, ...]
    # The attributes the item leaves (a row security switch: "row security"); None: all of
    # them, the object's existence too.
    attributes: frozenset[str] | None = None
    # Which existence differences the item may leave, by whether the object is there after
    # the rollback: left behind (True), missing (False). See EXISTENCE.
    existence: frozenset[bool] = frozenset({True, False})

    def __str__(self) -> str:
        return f"{self.where}: {self.item}"

    def covers(self, d: Difference, whole: frozenset[ObjectId] = frozenset()) -> bool:
        """`d` is on a target, or on a part of one (its column, index, policy...) that is
        itself left behind or missing whole (in `whole`), and in what the item leaves to a
        human. A part's change on a target that is there on both sides is the rollback's own
        business (a column added to an IF NOT EXISTS table that did exist): not covered."""
        if self.attributes is not None and d.attribute not in self.attributes:
            return False
        if d.attribute == EXISTS and d.after not in self.existence:
            return False
        parent = d.parent if d.parent is not None and d.parent in whole else None
        return any(
            matches(ref, d.object) or (parent is not None and matches(ref, parent))
            for ref in self.targets
        )


@dataclass(frozen=True, slots=True)
class Covered:
    """A difference that a MANUAL item leaves to a human, with that item."""

    difference: Difference
    cover: Cover

    def describe(self) -> str:
        return f"{self.difference.describe()} (MANUAL at {self.cover.where})"

    def to_json(self) -> dict[str, object]:
        return {**self.difference.to_json(), "manual": str(self.cover)}


def covers_of(plan: RollbackPlan | None, text: str, file_name: str) -> tuple[Cover, ...]:
    """The MANUAL items of a rollback file with their targets; none unless the file is the
    generator's own, untouched (see the module's docstring)."""
    if plan is None or not _as_generated(plan, text):
        return ()
    lines = split_comment_lines(text, MANUAL_PREFIX)
    covers: list[Cover] = []
    for _step, item in plan.manual_items:
        reason = item.reason.splitlines() or [""]
        if len(lines) < len(reason) or lines[0][1] != reason[0].strip():
            return ()  # not the plan's items after all: cover nothing rather than guess
        line, first = lines[0]
        where = f"{file_name}:{line}"
        covers.append(Cover(where, first, _targets(item), _leaves(item), _existence(item)))
        lines = lines[len(reason) :]
    return tuple(c for c in covers if c.targets)


def _as_generated(plan: RollbackPlan, text: str) -> bool:
    rollback = split_file(text)
    if rollback.header is None or rollback.hand_edited:
        return False
    return normalized_body(rollback.body) == normalized_body(plan.render_body())


# What an item of each need leaves undone, as the snapshot names the attributes; a need not
# here leaves the whole object (to restore, recreate or drop by hand).
LEAVES: dict[ManualNeed, frozenset[str]] = {
    ManualNeed.PRIOR_ROW_SECURITY: frozenset({"row security", "force row security"}),
    ManualNeed.PRIOR_COLUMN_DEFAULT: frozenset({"default"}),
    ManualNeed.PRIOR_NOT_NULL: frozenset({"not null"}),
    ManualNeed.PRIOR_COLUMN_TYPE: frozenset({"type", "collation"}),
    ManualNeed.PRIOR_OWNER: frozenset({"owner"}),
    ManualNeed.PRIOR_PRIVILEGES: frozenset({"privileges"}),
    ManualNeed.PRIOR_REPLICA_IDENTITY: frozenset({"replica identity"}),
    ManualNeed.ENUM_VALUE: frozenset({"labels"}),  # the type itself stays as it is
}

# A routine's options as the snapshot names them: what ALTER FUNCTION … SET, COST, STRICT,
# SECURITY… change (the routine's body, arguments, owner and privileges are not among them).
ROUTINE_OPTIONS = frozenset(
    {"config", "volatility", "strict", "security definer", "leakproof", "parallel", "cost",
     "rows"}
)  # fmt: skip

# What CREATE OR REPLACE writes (a view's query and options, a routine's body and options, a
# trigger's or rule's definition), its existence too when it may be new: not what the object
# keeps (owner, privileges, comment).
DEFINITION = (
    frozenset(
        {EXISTS, "definition", "options", "enabled", "arguments", "returns", "language", "body"}
    )
    | ROUTINE_OPTIONS
)

# What an item about part of its target leaves (the engine's Leaves), before its need: an IF
# NOT EXISTS object that may have been there, whether it stays (what else differs on it is
# another step's doing: the statement made nothing where it existed); a column the
# rollback's SQL re-added, its values (data) and the NOT NULL after them, not its type,
# default or collation; an OR REPLACE, the definition it writes; an ALTER FUNCTION, the
# settings or options it changes.
SCOPES: dict[Leaves, frozenset[str]] = {
    Leaves.EXISTENCE: frozenset({EXISTS}),
    Leaves.VALUES: frozenset({"not null"}),
    Leaves.SETTINGS: frozenset({"config"}),
    Leaves.OPTIONS: ROUTINE_OPTIONS,
    Leaves.DEFINITION: DEFINITION,
}

# The existence differences an item of a need may leave (by the object being there after
# the rollback); a need not here may leave either (an object dropped, recreated by hand). An
# IF NOT EXISTS object kept or a definition not restored is left behind at most, never
# removed; an ALTER with no automatic inverse changed an object there before and after.
EXISTENCE: dict[ManualNeed, frozenset[bool]] = {
    ManualNeed.PRIOR_DEFINITION: frozenset({True}),
    ManualNeed.UNSUPPORTED: frozenset(),
}
_EITHER = frozenset({True, False})


def _leaves(item: ManualItem) -> frozenset[str] | None:
    return SCOPES.get(item.leaves, LEAVES.get(item.need))


def _existence(item: ManualItem) -> frozenset[bool]:
    return EXISTENCE.get(item.need, _EITHER)


def _targets(item: ManualItem) -> tuple[ObjectRef, ...]:
    """What the item leaves to a human; rows (data) are no schema object."""
    if item.need is ManualNeed.DATA_CHANGE:
        return ()
    return tuple(ref for ref in (item.target, item.was) if ref is not None)


def split(
    differences: Sequence[Difference], covers: Sequence[Cover]
) -> tuple[list[Difference], list[Covered]]:
    """The differences no item covers, and the covered ones with the first item covering each."""
    uncovered: list[Difference] = []
    covered: list[Covered] = []
    whole = frozenset(d.object for d in differences if d.attribute == EXISTS)
    covers = [_placed(c, differences) for c in covers]
    for d in differences:
        cover = next((c for c in covers if c.covers(d, whole)), None)
        if cover is None:
            uncovered.append(d)
        else:
            covered.append(Covered(d, cover))
    return uncovered, covered


def _placed(cover: Cover, differences: Sequence[Difference]) -> Cover:
    """`cover` with each routine it names without arguments (`DROP FUNCTION f`, `ALTER
    FUNCTION f`) as the one overload of that name the differences are on. PostgreSQL takes
    such a name only when one routine holds it: when several of that name differ, the others
    are other statements' doing, and which one the item is about is not known, so it covers
    none of them."""
    if not any(_argless(ref) for ref in cover.targets):
        return cover
    placed = (_one_overload(ref, differences) for ref in cover.targets)
    return replace(cover, targets=tuple(ref for ref in placed if ref is not None))


def _argless(ref: ObjectRef) -> bool:
    return naming(ref) is Naming.ROUTINE and ref.args is None


def _one_overload(ref: ObjectRef, differences: Sequence[Difference]) -> ObjectRef | None:
    if not _argless(ref):
        return ref
    found = {d.object.name for d in differences if matches(ref, d.object)}
    if len(found) != 1:
        return None
    prefix = Identifier(_schema(ref), ref.name).as_string() + "("
    return replace(ref, args=found.pop()[len(prefix) : -1])


def folded(covered: Sequence[Covered]) -> list[Covered]:
    """Without the parts of an object that is itself left behind or missing (a table's
    columns): one line per object, as `diff.render` reads."""
    whole = {c.difference.object for c in covered if c.difference.attribute == EXISTS}
    return [c for c in covered if c.difference.parent not in whole]


# --- an engine reference against a snapshot identity --------------------------------------


class Naming(enum.Enum):
    """How the snapshot names the kind of object a reference is to."""

    COLUMN = "column"  # schema.table.column
    ON_TABLE = "on table"  # trigger, policy, rule, constraint: schema.table.name
    ROUTINE = "routine"  # schema.name(argument types)
    RELATION = "relation"  # one namespace for tables, views, indexes, sequences...
    TYPE = "type"  # enums, domains and the rest under kind "type"
    SCHEMALESS = "schemaless"  # schema, extension, role...
    UNPLACED = "unplaced"  # a constraint without its table: not one name, matches nothing
    PLAIN = "plain"  # kind and schema.name


_ROUTINE_KINDS = frozenset({"function", "procedure", "aggregate", "routine"})
_SNAPSHOT_ROUTINES = frozenset({"function", "procedure", "aggregate"})
_TYPE_KINDS = frozenset({"type", "domain", "enum"})
_RELATION_KINDS = frozenset(k.name for k in KINDS.values() if k.relation)


def naming(ref: ObjectRef) -> Naming:
    registered = KINDS.get(ref.kind)
    if ref.kind == "column":
        return Naming.COLUMN
    if ref.table is not None:
        return Naming.ON_TABLE
    if ref.kind == "constraint":
        return Naming.UNPLACED
    if ref.kind in _ROUTINE_KINDS:
        return Naming.ROUTINE
    if ref.kind in _TYPE_KINDS:
        return Naming.TYPE
    if registered is not None and registered.relation:
        return Naming.RELATION
    if registered is not None and registered.schemaless:
        return Naming.SCHEMALESS
    return Naming.PLAIN


def _schema(ref: ObjectRef) -> str:
    return ref.schema or "public"


def _column(ref: ObjectRef, oid: ObjectId) -> bool:
    name = Identifier(_schema(ref), ref.name, ref.column or "").as_string()
    return oid.kind == "column" and oid.name == name


def _on_table(ref: ObjectRef, oid: ObjectId) -> bool:
    name = Identifier(_schema(ref), ref.table or "", ref.name).as_string()
    return oid.kind == ref.kind and oid.name == name


def _routine(ref: ObjectRef, oid: ObjectId) -> bool:
    prefix = Identifier(_schema(ref), ref.name).as_string() + "("
    if oid.kind not in _SNAPSHOT_ROUTINES or not oid.name.startswith(prefix):
        return False
    inside = oid.name[len(prefix) : -1]
    return ref.args is None or normalize_args(ref.args) == normalize_args(inside)


def _relation(ref: ObjectRef, oid: ObjectId) -> bool:
    named = oid.name == Identifier(_schema(ref), ref.name).as_string()
    return named and oid.kind in _RELATION_KINDS


def _type(ref: ObjectRef, oid: ObjectId) -> bool:
    return oid.kind == "type" and oid.name == Identifier(_schema(ref), ref.name).as_string()


def _schemaless(ref: ObjectRef, oid: ObjectId) -> bool:
    return oid.kind == ref.kind and oid.name == Identifier(ref.name).as_string()


def _unplaced(ref: ObjectRef, oid: ObjectId) -> bool:
    return False


def _plain(ref: ObjectRef, oid: ObjectId) -> bool:
    return oid.kind == ref.kind and oid.name == Identifier(_schema(ref), ref.name).as_string()


_MATCHERS: dict[Naming, Callable[[ObjectRef, ObjectId], bool]] = {
    Naming.COLUMN: _column,
    Naming.ON_TABLE: _on_table,
    Naming.ROUTINE: _routine,
    Naming.RELATION: _relation,
    Naming.TYPE: _type,
    Naming.SCHEMALESS: _schemaless,
    Naming.UNPLACED: _unplaced,
    Naming.PLAIN: _plain,
}


def matches(ref: ObjectRef, oid: ObjectId) -> bool:
    """Whether the snapshot identity `oid` is the object the engine's `ref` names."""
    return _MATCHERS[naming(ref)](ref, oid)
