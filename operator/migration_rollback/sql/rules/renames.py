"""RENAME and SET SCHEMA: the undo names the object where the forward left it and puts it
back. One table per statement, keyed by pglast's `ObjectType`; an object type with no entry
is renamed or moved back by hand.

Renames are also remembered in the context: the rollback undoes them last, so its earlier
steps must call a renamed type, relation or column by its new name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from pglast.enums.parsenodes import ObjectType as OT

from migration_rollback.sql import kinds
from migration_rollback.sql._ast import ast
from migration_rollback.sql.compose import (
    EMPTY,
    SQL,
    Identifier,
    arguments,
    name_of,
    qualified,
    sql,
)
from migration_rollback.sql.model import ManualNeed, ObjectRef, Statement
from migration_rollback.sql.names import object_with_args, relation, split_qualified, strings
from migration_rollback.sql.renamed import renamed_by
from migration_rollback.sql.rules.context import Context, Inverse, manual
from migration_rollback.sql.rules.search_path import home_schema

# The last argument: the schema a bare name of the object resolves to (search_path.home_schema).
Handler = Callable[[Any, Statement, Context, str], Inverse | None]  # None: cannot read it


@dataclass(frozen=True, slots=True)
class ByObjectType:
    """A statement dispatched on the object type it names. A type with no rule, or a
    statement its rule cannot read, is undone by hand."""

    attribute: str  # where the statement names the type: renameType, objectType
    by_hand: str  # the MANUAL item's opening
    table: dict[OT, Handler]

    def __call__(self, node: Any, st: Statement, ctx: Context, home: str) -> Iterator[Inverse]:
        handler = self.table.get(getattr(node, self.attribute))
        undone = handler(node, st, ctx, home) if handler is not None else None
        if undone is None:
            undone = manual(ManualNeed.UNSUPPORTED, f"{self.by_hand}: {st.first_line}")
        yield undone


def _keyword(object_type: OT) -> SQL:
    return SQL(kinds.BY_TYPE[object_type].keyword)


# --- RENAME -------------------------------------------------------------------------------


def _rename_relation(node: Any, st: Statement, ctx: Context, home: str) -> Inverse | None:
    if node.relation is None:
        return None
    rel, new = relation(node.relation, home), str(node.newname)
    ctx.follow_relation(str(rel.schema), rel.name, (str(rel.schema), new))
    renamed = qualified(rel.schema, new)
    keyword = _keyword(node.renameType)
    return Inverse(
        sql("ALTER {} IF EXISTS {} RENAME TO {}", keyword, renamed, Identifier(rel.name))
    )


def _rename_member(node: Any, st: Statement, ctx: Context, home: str) -> Inverse | None:
    """A column or constraint of a relation."""
    if not node.relation:
        return None
    rel = relation(node.relation, home)
    keyword = SQL(kinds.relation_of_type(node.relationType).keyword)
    what = SQL("COLUMN" if node.renameType == OT.OBJECT_COLUMN else "CONSTRAINT")
    old, new = str(node.subname), str(node.newname)
    if node.renameType == OT.OBJECT_COLUMN:
        _follow_column_rename(ctx, rel, old, new)
    # With ONLY the forward met no child with the member (PostgreSQL refuses it), nor does this.
    only = EMPTY if node.relation.inh else SQL("ONLY ")
    return Inverse(
        sql("ALTER {} {}{} RENAME {} {} TO {}", keyword, only, name_of(rel), what,
            Identifier(new), Identifier(old))
    )  # fmt: skip


def _follow_column_rename(ctx: Context, rel: ObjectRef, old: str, new: str) -> None:
    """What this migration did to the column so far, and its name before, move to `new`."""
    schema = str(rel.schema)
    ctx.renamed_columns[(schema, rel.name, new)] = ctx.renamed_columns.pop(
        (schema, rel.name, old), old
    )
    moment = ctx.columns.pop((schema, rel.name, old), None)
    if moment is not None:
        ctx.columns[(schema, rel.name, new)] = moment
    if ctx.is_new(ObjectRef("column", rel.name, schema, column=old)):
        ctx.created_here.add(ObjectRef("column", rel.name, schema, column=new))


def _rename_on_table(node: Any, st: Statement, ctx: Context, home: str) -> Inverse | None:
    """A trigger or policy, named on its table."""
    if not node.relation:
        return None
    rel = relation(node.relation, home)
    kind = kinds.BY_TYPE[node.renameType].name
    before = ObjectRef(kind, str(node.subname), rel.schema, table=rel.name)
    ctx.follow_member(before, replace(before, name=str(node.newname)))
    new, old = Identifier(str(node.newname)), Identifier(str(node.subname))
    keyword = _keyword(node.renameType)
    return Inverse(sql("ALTER {} {} ON {} RENAME TO {}", keyword, new, name_of(rel), old))


def _rename_schema(node: Any, st: Statement, ctx: Context, home: str) -> Inverse | None:
    new, old = Identifier(str(node.newname)), Identifier(str(node.subname))
    return Inverse(sql("ALTER SCHEMA {} RENAME TO {}", new, old))


def _rename_routine(node: Any, st: Statement, ctx: Context, home: str) -> Inverse | None:
    if not isinstance(node.object, ast.ObjectWithArgs):
        return None
    kind = kinds.BY_TYPE[node.renameType]
    ref = object_with_args(node.object, home, kind.name)
    ctx.follow_member(ref, replace(ref, name=str(node.newname)))
    renamed = qualified(ref.schema, str(node.newname))
    return Inverse(
        sql("ALTER {} {}{} RENAME TO {}", SQL(kind.keyword), renamed, arguments(ref),
            Identifier(ref.name))
    )  # fmt: skip


def _rename_type(node: Any, st: Statement, ctx: Context, home: str) -> Inverse | None:
    schema, name = split_qualified(strings(node.object), home)
    renamed = qualified(schema, str(node.newname))
    ctx.renamed_types[(schema, str(node.newname))] = name
    keyword = _keyword(node.renameType)
    return Inverse(sql("ALTER {} {} RENAME TO {}", keyword, renamed, Identifier(name)))


RENAME: dict[OT, Handler] = {
    **dict.fromkeys(kinds.RELATION_TYPES, _rename_relation),
    OT.OBJECT_COLUMN: _rename_member,
    OT.OBJECT_TABCONSTRAINT: _rename_member,
    OT.OBJECT_TRIGGER: _rename_on_table,
    OT.OBJECT_POLICY: _rename_on_table,
    OT.OBJECT_SCHEMA: _rename_schema,
    OT.OBJECT_FUNCTION: _rename_routine,
    OT.OBJECT_PROCEDURE: _rename_routine,
    OT.OBJECT_AGGREGATE: _rename_routine,
    OT.OBJECT_TYPE: _rename_type,
    OT.OBJECT_DOMAIN: _rename_type,
}  # fmt: skip
_rename = ByObjectType("renameType", "rename back", RENAME)


def rename(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    where = home_schema(ctx, node)
    ctx.renamed_here.extend(renamed_by(node, st, where))
    yield from _rename(node, st, ctx, where)


# --- SET SCHEMA ---------------------------------------------------------------------------


def _move_relation(node: Any, st: Statement, ctx: Context, home: str) -> Inverse | None:
    if node.relation is None:
        return None
    rel = relation(node.relation, home)
    ctx.follow_relation(str(rel.schema), rel.name, (str(node.newschema), rel.name))
    moved, back = qualified(str(node.newschema), rel.name), Identifier(str(rel.schema))
    keyword = _keyword(node.objectType)
    return Inverse(sql("ALTER {} IF EXISTS {} SET SCHEMA {}", keyword, moved, back))


def _move_routine(node: Any, st: Statement, ctx: Context, home: str) -> Inverse | None:
    if not isinstance(node.object, ast.ObjectWithArgs):
        return None
    ref = object_with_args(node.object, home, kinds.BY_TYPE[node.objectType].name)
    ctx.follow_member(ref, replace(ref, schema=str(node.newschema)))
    moved, back = qualified(str(node.newschema), ref.name), Identifier(str(ref.schema))
    keyword = _keyword(node.objectType)
    return Inverse(sql("ALTER {} {}{} SET SCHEMA {}", keyword, moved, arguments(ref), back))


def _move_type(node: Any, st: Statement, ctx: Context, home: str) -> Inverse | None:
    schema, name = split_qualified(strings(node.object), home)
    moved, back = qualified(str(node.newschema), name), Identifier(schema)
    keyword = _keyword(node.objectType)
    return Inverse(sql("ALTER {} {} SET SCHEMA {}", keyword, moved, back))


SET_SCHEMA: dict[OT, Handler] = {
    **dict.fromkeys(kinds.RELATION_TYPES, _move_relation),
    OT.OBJECT_FUNCTION: _move_routine,
    OT.OBJECT_PROCEDURE: _move_routine,
    OT.OBJECT_AGGREGATE: _move_routine,
    OT.OBJECT_TYPE: _move_type,
    OT.OBJECT_DOMAIN: _move_type,
}  # fmt: skip
_set_schema = ByObjectType("objectType", "move back", SET_SCHEMA)


def set_schema(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    where = home_schema(ctx, node)
    ctx.renamed_here.extend(renamed_by(node, st, where))
    yield from _set_schema(node, st, ctx, where)
