"""Lookups in a catalog snapshot: the object an `ObjectRef` names, functions by signature.

Part of the state-aware rollbacks (see the package's docstring); pure, no database.
"""

from __future__ import annotations

import re
from typing import Any

from migration_rollback.sql import ObjectRef
from migration_rollback.sql.compose import Identifier
from migration_rollback.sql.kinds import KINDS
from migration_rollback.verify.snapshot import Snapshot, SnapshotObject

_TYPE_ALIASES = {
    "int": "integer",
    "int4": "integer",
    "int8": "bigint",
    "int2": "smallint",
    "float8": "double precision",
    "float4": "real",
    "bool": "boolean",
    "varchar": "character varying",
    "char": "character",
    "bpchar": "character",
    "timestamptz": "timestamp with time zone",
    "timestamp": "timestamp without time zone",
    "timetz": "time with time zone",
    "time": "time without time zone",
    "decimal": "numeric",
}


# How `ALTER <keyword> …` names each kind of relation.
RELATION_KEYWORD = {k.name: k.keyword for k in KINDS.values() if k.relation}
# DROP ROUTINE may name any of them (the registry has no kind "routine"); the snapshot tells
# them apart by pg_proc.prokind.
_ROUTINES = ("function", "procedure", "aggregate", "routine")
# The snapshot holds enums, domains and the rest under one kind, as pg_type does.
_TYPES = ("type", "domain", "enum")


class Unknown(Exception):
    """The before-state does not hold what this step needs."""


def find(snap: Snapshot, ref: ObjectRef) -> SnapshotObject | None:
    """The object a reference names in a snapshot (None: not there, or not one object)."""
    schema = ref.schema or "public"
    if ref.kind == "column":
        return snap.get("column", Identifier(schema, ref.name, ref.column or "").as_string())
    if ref.table is not None:
        return snap.get(ref.kind, Identifier(schema, ref.table, ref.name).as_string())
    name = Identifier(schema, ref.name).as_string()
    if ref.kind in _ROUTINES:
        return find_function(snap, schema, ref.name, ref.args)
    registered = KINDS.get(ref.kind)
    if registered is not None and registered.relation:
        return snap.get(ref.kind, name) or snap.relation(name)
    if ref.kind in _TYPES:
        return snap.get("type", name)
    if registered is not None and registered.schemaless:
        return snap.get(ref.kind, Identifier(ref.name).as_string())
    if ref.kind == "constraint":
        found = [
            o
            for o in snap.of_kind("constraint")
            if o.extra.get("schema") == schema and o.extra.get("name") == ref.name
        ]
        return found[0] if len(found) == 1 else None
    return snap.get(ref.kind, name)


def find_function(
    snap: Snapshot, schema: str, name: str, args: str | None
) -> SnapshotObject | None:
    found = [
        o
        for o in snap.of_kind("function", "procedure", "aggregate")
        if o.extra.get("schema") == schema and o.extra.get("name") == name
    ]
    if len(found) <= 1 or args is None:
        return found[0] if len(found) == 1 else None
    wanted = normalize_args(args)
    for o in found:
        inside = o.id.name[o.id.name.index("(") + 1 : -1]
        if normalize_args(inside) == wanted:
            return o
    return None


def unquote(name: str) -> str:
    if name.startswith('"') and name.endswith('"'):
        return name[1:-1].replace('""', '"')
    return name


def mentions(text: str, identifier: str) -> bool:
    """Whether a definition names a column (as a word; quoted names as written)."""
    return re.search(rf"(?<![\w\"]){re.escape(identifier)}(?![\w\"])", text) is not None


def strings(value: Any) -> tuple[str, ...]:
    return value if isinstance(value, tuple) else ()


def normalize_args(args: str) -> tuple[str, ...]:
    out: list[str] = []
    depth = 0
    current = ""
    for ch in args:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(current)
            current = ""
        else:
            current += ch
    if current.strip():
        out.append(current)
    normalized: list[str] = []
    for arg in out:
        text = arg.strip().lower().removeprefix("variadic ").strip()
        text = text.split("(")[0].strip() if "[" not in text else text
        text = text.rsplit(".", 1)[-1] if "." in text.split("[")[0] else text
        text = text.replace('"', "")
        normalized.append(_TYPE_ALIASES.get(text, text))
    return tuple(normalized)


# --- the plan, step by step -----------------------------------------------------------------


def created_if_missing(node: Any) -> ObjectRef | None:
    """What a `CREATE … IF NOT EXISTS` makes when it is missing (None: not such a statement).
    When the before-state holds it, the statement changed nothing and its undo is nothing."""
    from migration_rollback.sql.created import object_key_for_index
    from migration_rollback.sql.names import relation

    if not getattr(node, "if_not_exists", False):
        return None
    kind = type(node).__name__
    if kind == "IndexStmt" and node.idxname:
        return object_key_for_index(node, "public")
    if kind == "CreateStmt":
        return relation(node.relation, "public")
    if kind == "CreateSeqStmt":
        return relation(node.sequence, "public", "sequence")
    if kind == "CreateSchemaStmt" and node.schemaname:
        return ObjectRef("schema", str(node.schemaname))
    return None
