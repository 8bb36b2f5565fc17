"""The schema model of the committed shadow database, kept current migration after migration.

One full snapshot is read when the replay starts; after that, each migration only re-reads the
families of objects it touched (see `capture.py`) and swaps them in. `view(scope)` is the
committed state of a scope, what a round trip compares the after-rollback state with. Objects
are indexed by family, so both cost what the scope holds, not what the schema holds.
"""

from __future__ import annotations

from collections.abc import Iterator

from migration_rollback.sql.kinds import KINDS
from migration_rollback.verify.hidden_commands import reads_catalog
from migration_rollback.verify.snapshot import ObjectId, Scope, Snapshot, SnapshotObject
from migration_rollback.verify.snapshot.relation_kinds import PARTITION_PARENT

# Kinds of objects other objects refer to by name: renaming one changes how its dependents
# render (a view's definition, a column's type), which a scoped re-read would not notice.
# Every relation but an index: nothing renders an index's name but the index itself.
_REFERENCED = frozenset(
    {*(k.name for k in KINDS.values() if k.relation and k.name != "index"),
     "schema", "column", "function", "procedure", "aggregate", "type"}
)  # fmt: skip


_ROUTINES = frozenset({"function", "procedure"})


def _families(scope: Scope) -> Iterator[str]:
    yield from (f"rel:{oid}" for oid in scope.rels)
    yield from (f"func:{oid}" for oid in scope.funcs)
    yield from (f"type:{oid}" for oid in scope.types)
    yield from scope.groups


class SchemaModel:
    """Objects by identity, and their identities by family."""

    def __init__(self, objects: dict[ObjectId, SnapshotObject]) -> None:
        self.objects: dict[ObjectId, SnapshotObject] = {}
        self._by_family: dict[str, set[ObjectId]] = {}
        self._by_ref: dict[str, ObjectId] = {}
        # Functions and procedures by name: the code a call may run (hidden_commands.py).
        self._routines: dict[str, set[ObjectId]] = {}
        # Views whose query reads a system catalog, by OID: a write may pass through one
        # (ran_code.py; few or none).
        self.catalog_views: set[int] = set()
        for obj in objects.values():
            self._add(obj)

    @classmethod
    def from_snapshot(cls, snapshot: Snapshot) -> SchemaModel:
        return cls(dict(snapshot.objects))

    def snapshot(self) -> Snapshot:
        return Snapshot(dict(self.objects))

    def _add(self, obj: SnapshotObject) -> None:
        old = self.objects.get(obj.id)
        if old is not None:
            self._remove(old.id)
        self.objects[obj.id] = obj
        self._by_family.setdefault(obj.family, set()).add(obj.id)
        if obj.ref:
            self._by_ref[obj.ref] = obj.id
        if obj.id.kind in _ROUTINES:
            self._routines.setdefault(str(obj.extra_text("name")), set()).add(obj.id)
        if obj.id.kind == "view" and reads_catalog(obj.text("definition") or ""):
            self.catalog_views.add(_oid(obj))

    def _remove(self, key: ObjectId) -> None:
        obj = self.objects.pop(key)
        members = self._by_family.get(obj.family)
        if members is not None:
            members.discard(key)
        if obj.ref and self._by_ref.get(obj.ref) == key:
            del self._by_ref[obj.ref]
        if obj.id.kind in _ROUTINES:
            self._routines.get(str(obj.extra_text("name")), set()).discard(key)
        if obj.id.kind == "view":
            self.catalog_views.discard(_oid(obj))

    def holds(self, family: str) -> bool:
        """Whether some object of this family (a group's label) is kept."""
        return bool(self._by_family.get(family))

    def routine_code(self, name: str) -> list[str]:
        """The code of every function or procedure named `name` (any schema)."""
        keys = self._routines.get(name, ())
        return [self.objects[k].text("body") or "" for k in keys]

    def code_by_ref(self, ref: str) -> tuple[str, str] | None:
        """A function's or procedure's (language, code), a rule's ("rule", definition), a
        view's ("view", definition), by ref (ran_code.py); None for anything else."""
        key = self._by_ref.get(ref)
        if key is None:
            return None
        obj = self.objects[key]
        if key.kind in _ROUTINES:
            return obj.text("language") or "", obj.text("body") or ""
        if key.kind in ("rule", "view"):
            return key.kind, obj.text("definition") or ""
        return None

    def view(self, scope: Scope) -> dict[ObjectId, SnapshotObject]:
        out: dict[ObjectId, SnapshotObject] = {}
        for family in _families(scope):
            for key in self._by_family.get(family, ()):
                out[key] = self.objects[key]
        return out

    def renamed(self, fresh: Snapshot) -> list[tuple[ObjectId, ObjectId]]:
        """Referenced objects whose catalog row now carries another identity (a rename)."""
        out: list[tuple[ObjectId, ObjectId]] = []
        for obj in fresh.objects.values():
            old = self._by_ref.get(obj.ref) if obj.ref else None
            if old is not None and old != obj.id and old.kind in _REFERENCED:
                out.append((old, obj.id))
        return out

    def replace(self, scope: Scope, fresh: Snapshot) -> tuple[list[str], list[SnapshotObject]]:
        """Make the scope's families what a scoped read of the new state found.

        Returns how the server-side mirror of the refs (ref -> family, capture.py) changes: the
        refs taken out, and the objects whose ref is new, now in another family or another
        partition parent (`_mirrored`). An object
        read again as it was (most of a family a migration altered) needs no write.
        """
        before: dict[str, tuple[str, str | None]] = {}
        for key in list(self.view(scope)):
            obj = self.objects[key]
            self._remove(key)
            if obj.ref:
                before[obj.ref] = _mirrored(obj)
        added: list[SnapshotObject] = []
        for obj in fresh.objects.values():
            self._add(obj)
            if obj.ref and before.pop(obj.ref, None) != _mirrored(obj):
                added.append(obj)
        return list(before), added


def _oid(obj: SnapshotObject) -> int:
    """A relation's OID, from its family ("rel:<oid>")."""
    return int(obj.family.partition(":")[2] or 0)


def _mirrored(obj: SnapshotObject) -> tuple[str, str | None]:
    """What the refs' mirror holds of an object besides its ref: its family, and a partition's
    parent (capture.py): a partition attached or detached is written again."""
    return obj.family, obj.extra_text(PARTITION_PARENT)
