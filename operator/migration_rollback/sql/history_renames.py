"""How the history follows a name changed: RENAME (of a relation, a column, a member of a
table, a type), SET SCHEMA, an enum value renamed.

What is known of the object (a column's type and default, a table's per-table records, a
member's comment) moves to the new name, and the change is kept in `History.renames`: a
rollback that re-runs an earlier definition must know what it names now.
"""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from pglast.enums.parsenodes import ObjectType

from migration_rollback.sql import privilege_states
from migration_rollback.sql._ast import ast
from migration_rollback.sql.history_settings import ROUTINE_TYPES, blur_published, routine_keys
from migration_rollback.sql.model import ObjectRef, Statement
from migration_rollback.sql.names import deparse, relation, split_qualified, strings, table_key
from migration_rollback.sql.renamed import renamed_by
from migration_rollback.sql.search_path import of_history
from migration_rollback.sql.settings import owned_ref

if TYPE_CHECKING:
    from migration_rollback.sql.history import History, TableKey


# What names a relation, in RENAME and SET SCHEMA: relations share one namespace, so renaming
# a view to a table's old name is as much a move as renaming the table.
_RELATIONS = frozenset(
    {
        ObjectType.OBJECT_TABLE,
        ObjectType.OBJECT_FOREIGN_TABLE,
        ObjectType.OBJECT_VIEW,
        ObjectType.OBJECT_MATVIEW,
    }
)


def observe_rename(h: History, st: Statement, node: Any) -> None:
    """A column or table renamed keeps what is known of it (types, defaults, its children)
    under its new name: a later type change back must know the type it had."""
    home = _home(h, node)
    h.renames += renamed_by(node, st, home)
    if node.renameType in (ObjectType.OBJECT_TYPE, ObjectType.OBJECT_DOMAIN) and node.newname:
        _observe_type_rename(h, node)
    if node.relation is None:
        _forget_moved(h, node.renameType, node.object, node.subname, (None, node.newname))
        return
    rel = relation(node.relation, home)
    key = table_key(rel)
    member = _MEMBER_KINDS.get(node.renameType)
    if member is not None and node.subname and node.newname:
        h.rename_member(key, member, str(node.subname), str(node.newname))
    if node.renameType == ObjectType.OBJECT_COLUMN and node.subname and node.newname:
        state = h.column(*key, str(node.subname))
        h.columns.get(key, {}).pop(str(node.subname), None)
        if state is not None:
            h.set_column(*key, str(node.newname), state)
        blur_published(h, key)
    elif node.renameType in _RENAMED_RELATIONS and node.newname:
        h.move_table(key, (key[0], str(node.newname)))  # a column list or WHERE holds still
    elif node.renameType in _MEMBERS and node.subname and node.newname:
        _rename_switch(h, _MEMBERS[node.renameType], key, str(node.subname), str(node.newname))


def _home(h: History, node: Any) -> str:
    """Where a bare name of the relation renamed or moved (a member's table) is: along the
    search_path, as PostgreSQL finds it; the default schema for other objects."""
    if node.relation is None:
        return h.default_schema
    return str(of_history(h).relation(node.relation).schema)


def _move_routine(h: History, key: str, to: Moved) -> None:
    definition = h.definitions.get(key)
    h.forget_key(key)
    if definition is None or not any(to):
        return
    schema, name = to
    moved = replace(
        definition.ref, schema=schema or definition.ref.schema, name=name or definition.ref.name
    )
    h.put_definition(moved.key, replace(definition, ref=moved))
    h.stale.add(moved.key)


# ALTER INDEX / SEQUENCE … RENAME rename any relation too (a table by ALTER INDEX).
_RENAMED_RELATIONS = _RELATIONS | {ObjectType.OBJECT_INDEX, ObjectType.OBJECT_SEQUENCE}

# What lives on a table, by the kind its comment is kept under when renamed.
_MEMBER_KINDS = {
    ObjectType.OBJECT_COLUMN: "column",
    ObjectType.OBJECT_TABCONSTRAINT: "constraint",
    ObjectType.OBJECT_TRIGGER: "trigger",
    ObjectType.OBJECT_POLICY: "policy",
    ObjectType.OBJECT_RULE: "rule",
}
# Members of a table whose switch the history follows, by the History map holding them.
_MEMBERS = {ObjectType.OBJECT_TRIGGER: "triggers", ObjectType.OBJECT_RULE: "rules"}


def observe_set_schema(h: History, st: Statement, node: Any) -> None:
    home = _home(h, node)
    h.renames += renamed_by(node, st, home)
    if node.objectType in _RENAMED_RELATIONS and node.relation is not None and node.newschema:
        rel = relation(node.relation, home)
        h.move_table(table_key(rel), (str(node.newschema), rel.name))
    elif node.relation is None:
        _forget_moved(h, node.objectType, node.object, None, (node.newschema, None))


def observe_enum(h: History, st: Statement, node: Any) -> None:
    """An enum value renamed: a text saying the old one as a literal means another now. A
    value added: the enum's CREATE is kept with it (what recreating the type must say)."""
    schema = of_history(h).type_schema(node.typeName)  # a bare name: along the search_path
    h.renames += renamed_by(node, st, schema)
    if node.newVal and not node.oldVal:
        _add_value(h, st, node, schema)


def _add_value(h: History, st: Statement, node: Any, schema: str) -> None:
    """The enum's CREATE as it reads with the value added where ADD VALUE put it; a value it
    already has (IF NOT EXISTS) changes nothing. Not known as a CREATE: nothing to keep."""
    ref = ObjectRef("type", strings(node.typeName)[-1], schema)
    earlier = h.definitions.get(ref.key)
    tree = None if earlier is None else earlier.tree
    if earlier is None or not isinstance(tree, ast.CreateEnumStmt):
        return
    values = [str(v.sval) for v in tree.vals or ()]
    if node.newVal in values:
        return
    at = len(values)
    if node.newValNeighbor in values:
        at = values.index(node.newValNeighbor) + (1 if node.newValIsAfter else 0)
    values.insert(at, str(node.newVal))
    labels = tuple(ast.String(sval=v) for v in values)
    grown = ast.CreateEnumStmt(typeName=tree.typeName, vals=labels)
    statement = replace(earlier.statement, text=deparse(grown), node=grown)
    h.redefine(ref, statement)


def _observe_type_rename(h: History, node: Any) -> None:
    """Columns of a renamed type keep it under its new name (their type, and the cast of a
    default such as `'a'::t`)."""
    schema, old = split_qualified(strings(node.object), h.default_schema)
    new = str(node.newname)
    for columns in h.columns.values():
        for name, state in list(columns.items()):
            typ = _renamed_type(state.type_node, schema, old, new)
            default = state.default_node
            if isinstance(default, ast.TypeCast):
                cast = _renamed_type(default.typeName, schema, old, new)
                if cast is not default.typeName:
                    default = ast.TypeCast(arg=default.arg, typeName=cast)
            columns[name] = replace(state, type_node=typ, default_node=default)


def _renamed_type(typ: Any, schema: str, old: str, new: str) -> Any:
    """`typ` naming the renamed type by its new name (the same node when it names another)."""
    names = [str(n.sval) for n in getattr(typ, "names", None) or ()]
    if not names or names[-1] != old or (len(names) > 1 and names[-2] != schema):
        return typ
    return ast.TypeName(
        names=(*typ.names[:-1], ast.String(sval=new)),
        typmods=typ.typmods, arrayBounds=typ.arrayBounds, typemod=typ.typemod,
    )  # fmt: skip


def _rename_switch(h: History, field: str, key: TableKey, old: str, new: str) -> None:
    """A trigger or rule renamed (`field`: the History map of their switches)."""
    switches = getattr(h, field).get(key, {})
    if old in switches:
        switches[new] = switches.pop(old)


Moved = tuple[str | None, str | None]  # (new schema, new name): what a RENAME / SET SCHEMA says


def _forget_moved(
    h: History, objtype: ObjectType, obj: Any, schema_name: str | None, to: Moved
) -> None:
    """An object renamed or moved to another schema: what the history held under its old
    name is gone (a later CREATE there makes a new one). A routine is known under its new
    name, its definition not (its text says the old one): a CREATE OR REPLACE of the new name
    replaces an existing routine, whose earlier definition is left to a human; its privileges
    go with it, and it stays one the migrations made (privilege_states.py)."""
    if objtype == ObjectType.OBJECT_SCHEMA and schema_name:
        h.forget(ObjectRef("schema", schema_name))
    elif objtype in ROUTINE_TYPES and isinstance(obj, ast.ObjectWithArgs):
        keys = routine_keys(h, obj)
        if keys and any(to):
            _routine_moved(h, obj, to)
        for key in keys:
            _move_routine(h, key, to)
    else:
        ref = owned_ref(SimpleNamespace(objectType=objtype, object=obj), h.default_schema)
        if ref is not None:
            h.forget(ref)


def _routine_moved(h: History, obj: Any, to: Moved) -> None:
    schema, name = split_qualified(strings(obj.objname), h.default_schema)
    old = ObjectRef("function", name, schema)
    new = ObjectRef("function", str(to[1] or name), str(to[0] or schema))
    privilege_states.move(h.privileges, old, new)
    h.moved_routines.add(f"{schema}.{new.name}".lower())
