"""The snapshot's vocabulary: an object's identity, its attributes, a whole schema of them.

Identities are names as PostgreSQL's `quote_ident` writes them, schema-qualified, so an identity is
also valid SQL; `sql.compose.quote_ident` gives the same text, for names built on the client side.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
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
