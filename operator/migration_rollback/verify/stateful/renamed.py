"""An object of the before-state under the name this migration gave it before dropping it.

`ALTER FUNCTION f() RENAME TO g; DROP FUNCTION g()` is undone by recreating `g` (then the
rename back makes it `f`). A relation is named `schema.name`; a routine carries its arguments
and a trigger or policy its table, and a routine's or trigger's definition spells its own name,
so each kind is renamed its own way. Pure, no database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from migration_rollback.sql import ObjectRef
from migration_rollback.sql._ast import ast
from migration_rollback.sql.compose import Identifier, qualified
from migration_rollback.sql.names import deparse
from migration_rollback.sql.trees import parse_trees
from migration_rollback.verify.snapshot import ObjectId, Snapshot, SnapshotObject
from migration_rollback.verify.stateful.lookups import Unknown


def under_new_name(obj: SnapshotObject, ref: ObjectRef) -> SnapshotObject:
    """`obj` as `ref` (its name after this migration's rename or move) names it."""
    rename = _BY_KIND.get(obj.id.kind, _relation)
    return rename(obj, ref)


def _relation(obj: SnapshotObject, ref: ObjectRef) -> SnapshotObject:
    name = Identifier(ref.schema or "public", ref.name).as_string()
    return replace(obj, id=ObjectId(obj.id.kind, name), extra=dict(obj.extra, was=obj.id.name))


def members(snap: Snapshot, obj: SnapshotObject, *kinds: str) -> list[SnapshotObject]:
    """The columns, constraints… of a relation, named on it under the name `under_new_name`
    gave it (the snapshot knows them on the name it had)."""
    was = ObjectId(obj.id.kind, obj.extra_text("was") or obj.id.name)
    return [
        replace(m, id=ObjectId(m.id.kind, obj.id.name + m.id.name[len(was.name) :]), parent=obj.id)
        for m in snap.children(was, *kinds)
    ]


def _routine(obj: SnapshotObject, ref: ObjectRef) -> SnapshotObject:
    signature = obj.id.name[obj.id.name.index("(") :]
    name = qualified(ref.schema or "public", ref.name).as_string() + signature
    extra = dict(obj.extra, schema=ref.schema or "public", name=ref.name)
    ddl = obj.extra_text("ddl")
    if ddl:
        # CREATE AGGREGATE is a DefineStmt, CREATE FUNCTION/PROCEDURE a CreateFunctionStmt
        field = "defnames" if obj.id.kind == "aggregate" else "funcname"
        extra["ddl"] = _renamed_definition(ddl, ref, field)
    return replace(obj, id=ObjectId(obj.id.kind, name), extra=extra)


def _on_table(obj: SnapshotObject, ref: ObjectRef) -> SnapshotObject:
    if obj.parent is None:
        raise Unknown(f"{obj.id} has no table")
    name = f"{obj.parent.name}.{Identifier(ref.name).as_string()}"
    attrs = dict(obj.attrs)
    if obj.id.kind == "trigger" and obj.text("definition"):
        attrs["definition"] = _renamed_definition(str(obj.text("definition")), ref, "trigname")
    return replace(obj, id=ObjectId(obj.id.kind, name), attrs=attrs)


def _renamed_definition(text: str, ref: ObjectRef, field: str) -> str:
    """A CREATE statement with the name it creates replaced (a trigger's is bare; a routine's
    schema-qualified)."""
    [raw] = parse_trees(text)
    node: Any = raw.stmt
    if field == "trigname":
        node.trigname = ref.name
    else:
        names = (ref.schema or "public", ref.name)
        setattr(node, field, tuple(ast.String(sval=n) for n in names))
    return deparse(node)


_BY_KIND: dict[str, Callable[[SnapshotObject, ObjectRef], SnapshotObject]] = {
    "function": _routine,
    "procedure": _routine,
    "aggregate": _routine,
    "trigger": _on_table,
    "policy": _on_table,
}
