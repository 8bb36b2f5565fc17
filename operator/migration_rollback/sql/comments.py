"""Which object a COMMENT names, as an `ObjectRef`: the kind as the registry spells it, and
the name read as the kind is named (without a schema, on its table, with its arguments).

The history records each comment under this reference and the COMMENT rule looks it up by
the same one, so `comment on table docs` finds what `comment on table public.docs` set. A
bare name of a relation (or the table of a column, constraint, trigger, policy or rule) or of
a routine is looked up along the search_path (`comment_target_on_path`), as PostgreSQL does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pglast.enums.parsenodes import ObjectType as OT

from migration_rollback.sql import kinds
from migration_rollback.sql._ast import ast
from migration_rollback.sql.model import ObjectRef
from migration_rollback.sql.names import object_with_args, split_qualified, strings
from migration_rollback.sql.search_path import Lookup

Resolver = Callable[[str, list[str], str], ObjectRef]  # (kind, name parts, default schema)


def _column(kind: str, parts: list[str], default_schema: str) -> ObjectRef:
    schema, table = split_qualified(parts[:-1], default_schema)
    return ObjectRef("column", table, schema, column=parts[-1])


def _bare(kind: str, parts: list[str], default_schema: str) -> ObjectRef:
    return ObjectRef(kind, parts[-1])


def _on_table(kind: str, parts: list[str], default_schema: str) -> ObjectRef:
    schema, table = split_qualified(parts[:-1], default_schema)
    return ObjectRef(kind, parts[-1], schema, table=table)


def _in_schema(kind: str, parts: list[str], default_schema: str) -> ObjectRef:
    schema, name = split_qualified(parts, default_schema)
    return ObjectRef(kind, name, schema)


def _resolver(kind: kinds.ObjectKind) -> Resolver:
    if kind.schemaless:
        return _bare
    return _on_table if kind.on_table else _in_schema


# How COMMENT names its object, by object type: as the registry says the kind is named (a
# column and a table constraint by their table); any type not listed is schema-qualified.
COMMENT_TARGET: dict[OT, Resolver] = {
    **{t: _resolver(k) for t, k in kinds.BY_TYPE.items()},
    OT.OBJECT_COLUMN: _column,
    OT.OBJECT_TABCONSTRAINT: _on_table,
}


def comment_kind(object_type: OT) -> str:
    """The registry's name of the kind (`materialized view`, `server`), which earlier
    migrations' objects are keyed by; the enum's spelling for a kind it does not hold."""
    found = kinds.of_type(object_type)
    return found.name if found else str(object_type.name).removeprefix("OBJECT_").lower()


def comment_target(node: Any, default_schema: str) -> ObjectRef | None:
    """The object a CommentStmt names; None when its name cannot be read."""
    obj = node.object
    kind = comment_kind(node.objtype)
    if isinstance(obj, ast.ObjectWithArgs):
        return object_with_args(obj, default_schema, kind)
    if isinstance(obj, ast.String):  # a schemaless object: `COMMENT ON SCHEMA s`
        parts = [str(obj.sval)]
    else:
        parts = strings(obj.names) if isinstance(obj, ast.TypeName) else strings(obj)
    if not parts:
        return None
    return COMMENT_TARGET.get(node.objtype, _in_schema)(kind, parts, default_schema)


def comment_target_on_path(node: Any, where: Lookup) -> ObjectRef | None:
    """comment_target(), a bare name of an existing relation or routine found along the path."""
    return comment_target(node, _home(node, where))


def _home(node: Any, where: Lookup) -> str:
    """The schema a bare name in the COMMENT resolves to (the path's first for a qualified one,
    which keeps its own, and for kinds named in no schema or not looked up here)."""
    if len(where.path) < 2:
        return where.first  # no path to look along (no SET search_path of several schemas)
    obj = node.object
    if isinstance(obj, ast.ObjectWithArgs):
        if len(obj.objname) > 1:
            return where.first
        return where.schema_of(str(obj.objname[0].sval), where.routine_there)
    if isinstance(obj, ast.String | ast.TypeName):
        return where.first
    kind = kinds.of_type(node.objtype)
    on_table = node.objtype in _ON_TABLE or (kind is not None and kind.on_table)
    table = strings(obj)[:-1] if on_table else strings(obj)
    relation = on_table or (kind is not None and kind.relation)
    if relation and len(table) == 1:
        return where.schema_of(table[0], where.relation_there)
    return where.first


_ON_TABLE = frozenset({OT.OBJECT_COLUMN, OT.OBJECT_TABCONSTRAINT})
