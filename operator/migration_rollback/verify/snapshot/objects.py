"""The snapshot's vocabulary: an object's identity, its attributes, a whole schema of them.

Identities are names as PostgreSQL's `quote_ident` writes them, schema-qualified, so an identity is
also valid SQL; `sql.compose.quote_ident` gives the same text, for names built on the client side.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from migration_rollback.sql.compose import Identifier

# A value of one attribute: JSON-ready, hashable, comparable.
Value = str | int | bool | None | tuple[str, ...]


@dataclass(frozen=True, slots=True, order=True)
class ObjectId:
    """The stable identity of one schema object: its kind and its (quoted, qualified) name."""

    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


@dataclass(frozen=True, slots=True)
class SnapshotObject:
    """One object: the attributes compared, its parent (a table for a column...), extras."""

    id: ObjectId
    attrs: Mapping[str, Value]
    parent: ObjectId | None = None
    extra: Mapping[str, Value] = field(default_factory=dict)
    ref: str = ""  # "catalog:oid" of its own catalog row (not compared: OIDs are not identity)
    family: str = ""  # what it is re-read with: "rel:<oid>", "func:<oid>", "type:<oid>", a kind

    def get(self, attr: str) -> Value:
        return self.attrs.get(attr)

    def text(self, attr: str) -> str | None:
        value = self.attrs.get(attr)
        return value if isinstance(value, str) else None

    def strings(self, attr: str) -> tuple[str, ...]:
        value = self.attrs.get(attr)
        return value if isinstance(value, tuple) else ()

    def extra_text(self, key: str) -> str | None:
        value = self.extra.get(key)
        return value if isinstance(value, str) else None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.id.kind,
            "name": self.id.name,
            "attributes": {k: _jsonable(v) for k, v in self.attrs.items()},
        }
        if self.parent is not None:
            out["parent"] = str(self.parent)
        return out


# A frozen dataclass's __init__ sets each field through object.__setattr__: building the objects
# of a full snapshot that way took a third of turning its rows into objects. The reader sets
# the slots directly instead (`identity`, `make_object`); the result is the same object.
def _slot_setters(cls: type) -> dict[str, Callable[[object, object], None]]:
    return {f.name: cls.__dict__[f.name].__set__ for f in fields(cls)}


_new = object.__new__
_ID = _slot_setters(ObjectId)
_set_kind, _set_name = _ID.pop("kind"), _ID.pop("name")
_OBJ = _slot_setters(SnapshotObject)
_set_id, _set_attrs, _set_parent = _OBJ.pop("id"), _OBJ.pop("attrs"), _OBJ.pop("parent")
_set_extra, _set_ref, _set_family = _OBJ.pop("extra"), _OBJ.pop("ref"), _OBJ.pop("family")
if _ID or _OBJ:
    raise TypeError(f"fields the fast constructors do not set: {[*_ID, *_OBJ]}")


def identity(kind: str, name: str) -> ObjectId:
    """`ObjectId(kind, name)`, made faster."""
    oid: ObjectId = _new(ObjectId)
    _set_kind(oid, kind)
    _set_name(oid, name)
    return oid


def make_object(
    oid: ObjectId,
    attrs: Mapping[str, Value],
    parent: ObjectId | None,
    extra: Mapping[str, Value],
    ref: str,
    family: str,
) -> SnapshotObject:
    """`SnapshotObject(oid, attrs, parent, extra, ref, family)`, made faster."""
    obj: SnapshotObject = _new(SnapshotObject)
    _set_id(obj, oid)
    _set_attrs(obj, attrs)
    _set_parent(obj, parent)
    _set_extra(obj, extra)
    _set_ref(obj, ref)
    _set_family(obj, family)
    return obj


@dataclass(frozen=True)
class Snapshot:
    """The whole schema of one database at one moment."""

    objects: Mapping[ObjectId, SnapshotObject]
    elapsed_ms: float = 0.0

    def __len__(self) -> int:
        return len(self.objects)

    def __iter__(self) -> Iterator[SnapshotObject]:
        return iter(self.objects[k] for k in sorted(self.objects))

    def __contains__(self, key: object) -> bool:
        return key in self.objects

    def get(self, kind: str, name: str) -> SnapshotObject | None:
        return self.objects.get(ObjectId(kind, name))

    def of_kind(self, *kinds: str) -> list[SnapshotObject]:
        return [o for o in self if o.id.kind in kinds]

    def children(self, parent: ObjectId, *kinds: str) -> list[SnapshotObject]:
        return [o for o in self if o.parent == parent and (not kinds or o.id.kind in kinds)]

    def relation(self, name: str) -> SnapshotObject | None:
        """A table, view, materialized view, sequence or foreign table by qualified name."""
        for kind in RELATION_KINDS:
            found = self.objects.get(ObjectId(kind, name))
            if found is not None:
                return found
        return None

    def to_json(self) -> list[dict[str, Any]]:
        return [o.to_json() for o in self]


RELATION_KINDS = ("table", "view", "materialized view", "sequence", "foreign table")


def _jsonable(value: Value) -> Any:
    return list(value) if isinstance(value, tuple) else value


def qualified(schema: str, name: str) -> str:
    return Identifier(schema, name).as_string()


def snapshot_to_json(snapshot: Snapshot) -> str:
    return json.dumps(snapshot.to_json(), indent=2, sort_keys=True)
