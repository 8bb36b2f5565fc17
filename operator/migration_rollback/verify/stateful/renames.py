"""Renames in a diff: one catalog row under two names is renamed back, not dropped and re-added.

A diff by name sees `ALTER TABLE t RENAME COLUMN a TO b` (done where the generator cannot see,
in a DO block) as column `a` removed and column `b` added; undoing it as DROP + ADD would lose
the column's values. The snapshots record each object's own catalog row (`ref`: the OID, or
table OID and attnum for a column), which a rename keeps: a removed and an added object with
the same row are one object renamed. Columns, tables, views, sequences, indexes, constraints
and types are renamed back; their other attributes are then compared as for any object.

Part of the state-aware rollbacks (see the package's docstring); pure, no database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from pglast.enums.parsenodes import ObjectType

from migration_rollback.sql import RollbackPlan, RollbackStep
from migration_rollback.sql.compose import Identifier
from migration_rollback.sql.names import relation
from migration_rollback.verify.diff import EXISTS, Difference, diff_objects
from migration_rollback.verify.snapshot import ObjectId, Snapshot, SnapshotObject
from migration_rollback.verify.stateful.lookups import RELATION_KEYWORD

_RENAMEABLE = frozenset({*RELATION_KEYWORD, "column", "constraint", "type"})


@dataclass(frozen=True)
class Rename:
    """One object found under a new name: `was` (before) is `now` (current)."""

    was: SnapshotObject
    now: SnapshotObject

    def sql(self) -> str:
        kind, now = self.was.id.kind, self.now
        if kind == "column" and now.parent is not None:
            return f"ALTER TABLE {now.parent.name} RENAME COLUMN {_own(now)} TO {_own(self.was)}"
        if kind == "constraint" and now.parent is not None and now.parent.kind == "table":
            return (
                f"ALTER TABLE {now.parent.name} RENAME CONSTRAINT {_own(now)} TO {_own(self.was)}"
            )
        keyword = RELATION_KEYWORD.get(kind, "TYPE")
        return f"ALTER {keyword} {now.id.name} RENAME TO {_own(self.was)}"

    def changes(self) -> list[Difference]:
        """What else differs once the name is back."""
        same_name = replace(self.now, id=self.was.id, parent=self.was.parent)
        # (a column's place moves with the columns dropped or added around it: not its own)
        return diff_objects({self.was.id: self.was}, {self.was.id: same_name}, ignore=("position",))


def find_renames(
    differences: Sequence[Difference], before: Snapshot, current: Snapshot | None
) -> list[Rename]:
    """Removed and added objects that are one catalog row (same kind, same parent)."""
    if current is None:
        return []
    added: dict[tuple[str, str], SnapshotObject] = {}
    for d in differences:
        now = current.objects.get(d.object) if d.added else None
        if now is not None and now.ref and d.object.kind in _RENAMEABLE:
            added[(d.object.kind, now.ref)] = now
    out: list[Rename] = []
    for d in differences:
        was = before.objects.get(d.object) if d.removed else None
        now = added.get((d.object.kind, was.ref)) if was is not None and was.ref else None
        if was is not None and now is not None and _same_place(was, now):
            out.append(Rename(was, now))
    return out


def split_replaced(
    differences: Sequence[Difference], before: Snapshot, current: Snapshot | None
) -> list[Difference]:
    """The differences with each object renamed away and replaced under its own name (`RENAME
    COLUMN d TO d_legacy`, then `ADD COLUMN d`) seen as the old one removed and a new one
    added: the name is another catalog row now, so the old row pairs up with its new name as
    a rename, instead of the new column's attributes being put back on it."""
    if current is None:
        return list(differences)
    added = {
        (d.object.kind, now.ref)
        for d in differences
        if d.added and (now := current.objects.get(d.object)) is not None and now.ref
    }
    replaced = [
        obj
        for obj in before.objects.values()
        if obj.ref and (obj.id.kind, obj.ref) in added and _other_row(obj, current)
    ]
    if not replaced:
        return list(differences)
    ids = {obj.id for obj in replaced}
    out = [d for d in differences if d.object not in ids]
    for obj in replaced:
        now = current.objects[obj.id]
        out += [Difference(obj.id, EXISTS, True, False, obj.parent)]
        out += [Difference(obj.id, EXISTS, False, True, now.parent)]
    return sorted(out, key=lambda d: d.object)


def _other_row(was: SnapshotObject, current: Snapshot) -> bool:
    """The name `was` had is held by another catalog row now."""
    now = current.objects.get(was.id)
    return now is not None and bool(now.ref) and now.ref != was.ref


def _same_place(was: SnapshotObject, now: SnapshotObject) -> bool:
    """Renamed in place: same table for what lives on one, same schema otherwise."""
    if was.id.kind in ("column", "constraint"):
        return was.parent == now.parent and was.parent is not None
    return _schema_of(was.id) == _schema_of(now.id)


def _schema_of(oid: ObjectId) -> str:
    return oid.name.split(".", 1)[0] if not oid.name.startswith('"') else oid.name.split('".', 1)[0]


def _own(obj: SnapshotObject) -> str:
    """The object's own (quoted) name: its id without the table's or the schema's prefix."""
    if obj.parent is not None and obj.id.name.startswith(obj.parent.name + "."):
        return obj.id.name[len(obj.parent.name) + 1 :]
    for key in ("column", "name"):
        value = obj.extra_text(key)
        if value is not None:
            return Identifier(value).as_string()
    return obj.id.name.rsplit(".", 1)[-1]


# --- renames in the forward: what the rollback recreates waits for the rename back -----------


_TABLE_RENAMES = frozenset({ObjectType.OBJECT_COLUMN, ObjectType.OBJECT_TABLE})


def column_renames(plan: RollbackPlan) -> dict[str, list[int]]:
    """Tables (quoted, qualified, by the name they had before) that the migration renames, or
    whose columns it renames: the renames' indexes."""
    out: dict[str, list[int]] = {}
    for step in plan.steps:
        node = step.forward.node
        if step.forward.kind != "RenameStmt" or node.renameType not in _TABLE_RENAMES:
            continue
        if node.relation is None:
            continue
        rel = relation(node.relation, "public")
        table = Identifier(rel.schema or "public", rel.name).as_string()
        out.setdefault(table, []).append(step.forward.index)
    return out


def waits_for_rename(
    step: RollbackStep, table: str | None, renames: dict[str, list[int]]
) -> int | None:
    """The rename (forward index) after whose undo an object recreated on `table` must come:
    its definition from before the migration names the table and columns by their old names,
    which they get back only when the rollback reaches the earliest rename before the drop."""
    earlier = [i for i in renames.get(table or "", []) if i < step.forward.index]
    return min(earlier) if earlier else None
