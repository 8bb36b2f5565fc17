"""Where an unqualified name of an existing object is, along the search_path.

PostgreSQL looks such a name up schema by schema along the search_path: after `SET
search_path TO app, public`, `ALTER TABLE t …` alters `public.t` when there is no `app.t`.
A CREATE still makes its object in the first schema; a reference goes to the first schema of
the path where the migrations made an object of that name, and to the first schema when none
did (what they do not show is not guessed at). A qualified name is taken as written. The
history (earlier migrations) and the rules (the migration rolled back) ask the same `Lookup`,
each over its own records. Pure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pglast.enums.parsenodes import GrantTargetType, ObjectType

from migration_rollback.sql import kinds
from migration_rollback.sql._ast import ast, branch_slots, changed
from migration_rollback.sql.compose import quote_ident
from migration_rollback.sql.model import ObjectRef
from migration_rollback.sql.names import object_with_args, relation, strings

if TYPE_CHECKING:
    from migration_rollback.sql.history import History

There = Callable[[str, str], bool]  # (schema, name): an object of that name is there
ROUTINE_KINDS = frozenset({"function", "procedure", "aggregate"})
_TYPE_OBJECTS = frozenset({ObjectType.OBJECT_TYPE, ObjectType.OBJECT_DOMAIN})
# Calls whose first argument, a string, names a sequence (cast to regclass when parsed).
_SEQUENCE_CALLS = frozenset({"nextval", "currval", "setval"})


# Not frozen: one is made a statement, and a frozen one's __init__ cost 0.7% of the engine's
# instructions (bench/engine_instructions.py).
@dataclass(slots=True)
class Lookup:
    """Where unqualified names go at one point of a migration."""

    first: str  # the default schema: where a CREATE puts its object
    path: tuple[str, ...]  # the schemas of the last SET search_path or set_config ($user out)
    relation_there: There
    routine_there: There
    type_there: There  # a type or domain

    def schema_of(self, name: str, there: There) -> str:
        """The first schema of the path holding `name`; the first schema when none does,
        or when the path kept is not the one in force (its first schema is not `first`)."""
        path = self.path if self.path[:1] == (self.first,) else ()
        return next((schema for schema in path if there(schema, name)), self.first)

    def relation(self, rv: Any, kind: str = "table") -> ObjectRef:
        """The existing relation a RangeVar names."""
        if rv.schemaname:
            return relation(rv, self.first, kind)
        return ObjectRef(kind, rv.relname, self.schema_of(rv.relname, self.relation_there))

    def routine(self, owa: Any, kind: str) -> ObjectRef:
        """The existing routine an ObjectWithArgs names."""
        ref = object_with_args(owa, self.first, kind)
        if len(owa.objname) > 1:
            return ref
        schema = self.schema_of(ref.name, self.routine_there)
        return ObjectRef(kind, ref.name, schema, args=ref.args)

    def drop_target(self, obj: Any, target: ObjectRef) -> ObjectRef:
        """A DROP's target (`classify`'s, in `public` when its name is bare) where the
        statement's own name for it (`obj`) puts it: a qualified name as written, a bare one
        along the path (relations, routines, a member's table) or in the first schema."""
        kind = kinds.KINDS.get(target.kind)
        if target.schema is None or kind is None or not _bare(obj, on_table=kind.on_table):
            return target
        if kind.on_table and target.table is not None:  # a trigger, policy, rule: its table's
            schema = self.schema_of(target.table, self.relation_there)
        elif kind.relation:
            schema = self.schema_of(target.name, self.relation_there)
        elif target.kind in ROUTINE_KINDS:
            schema = self.schema_of(target.name, self.routine_there)
        else:
            schema = self.first
        return ObjectRef(target.kind, target.name, schema, target.column, target.args, target.table)

    def type_schema(self, names: Any) -> str:
        """The schema of the existing type a dotted name (a TypeName's `names`) means."""
        parts = strings(names)
        if len(parts) > 1:
            return parts[-2]
        return self.schema_of(parts[-1], self.type_there)

    def home(self, node: Any) -> str:
        """The schema a statement's bare name of an existing relation (its `relation`) or
        routine (its `object`) resolves to, along the path; else the first schema."""
        rel = getattr(node, "relation", None)
        if rel is not None:
            return str(self.relation(rel).schema)
        obj = getattr(node, "object", None)
        if isinstance(obj, ast.ObjectWithArgs) and len(obj.objname) == 1:
            return self.schema_of(str(obj.objname[0].sval), self.routine_there)
        return self.first

    def qualified_expression(self, node: Any) -> Any:
        """An expression (a column's default, generated expression or type) with each bare
        name of a routine, type or sequence that a migration made on the path qualified
        where the path finds it: PostgreSQL binds those names when the column is made, and
        the rollback that writes the expression again runs under the default path. A name
        no migration made (a built-in) is left as written; without a path, the whole."""
        if not self.path or self.path[:1] != (self.first,):
            return node
        return self._requalified(node)

    def _requalified(self, node: Any) -> Any:
        if isinstance(node, tuple):
            items = tuple(self._requalified(item) for item in node)
            return items if any(a is not b for a, b in zip(items, node, strict=True)) else node
        if not isinstance(node, ast.Node):
            return node
        fields = {}
        for name in branch_slots(type(node)):
            value = getattr(node, name)
            new = self._requalified(value)
            if new is not value:
                fields[name] = new
        return self._own_name(changed(node, **fields) if fields else node)

    def _own_name(self, node: Any) -> Any:
        if isinstance(node, ast.TypeName) and len(node.names or ()) == 1:
            return changed(node, names=self._on_path(node.names, self.type_there))
        if not isinstance(node, ast.FuncCall) or len(node.funcname) != 1:
            return node
        if str(node.funcname[0].sval) in _SEQUENCE_CALLS and node.args:
            node = changed(node, args=(self._sequence(node.args[0]), *node.args[1:]))
        return changed(node, funcname=self._on_path(node.funcname, self.routine_there))

    def _on_path(self, names: tuple[Any, ...], there: There) -> tuple[Any, ...]:
        """A one-part name with the schema of the path holding it, if any does."""
        name = str(names[0].sval)
        found = next((s for s in self.path if there(s, name)), None)
        return names if found is None else (ast.String(sval=found), *names)

    def _sequence(self, arg: Any) -> Any:
        """`'s'` naming a sequence, as `'schema.s'` where the path finds it."""
        value = getattr(arg, "val", None) if isinstance(arg, ast.A_Const) else None
        name = getattr(value, "sval", None) if isinstance(value, ast.String) else None
        if name is None or "." in name or '"' in name:
            return arg
        # Read as regclass reads it: an unquoted name folds to lower case.
        found = next((s for s in self.path if self.relation_there(s, name.lower())), None)
        text = f"{quote_ident(found)}.{name}" if found is not None else ""
        return arg if found is None else changed(arg, val=ast.String(sval=text))

    def qualified_grant(self, node: Any) -> Any:
        """A GRANT/REVOKE with each bare relation, routine or type it names qualified where
        the path finds it, so its undo and the history name the objects it changed."""
        if not isinstance(node, ast.GrantStmt):
            return node  # ALTER DEFAULT PRIVILEGES names no object
        if node.targtype != GrantTargetType.ACL_TARGET_OBJECT:
            return node
        if node.objtype in _TYPE_OBJECTS:  # one path schema too: the rollback runs without it
            return changed(node, objects=tuple(self._type(o) for o in node.objects or ()))
        if len(self.path) < 2:
            return node
        return changed(node, objects=tuple(self._qualified(obj) for obj in node.objects or ()))

    def _type(self, names: tuple[Any, ...]) -> tuple[Any, ...]:
        """A type's name (Strings) with the schema of the path holding it, when one does."""
        in_force = self.path[:1] == (self.first,)
        return self._on_path(names, self.type_there) if in_force and len(names) == 1 else names

    def _qualified(self, obj: Any) -> Any:
        if isinstance(obj, ast.RangeVar) and not obj.schemaname:
            return changed(obj, schemaname=self.schema_of(obj.relname, self.relation_there))
        if isinstance(obj, ast.ObjectWithArgs) and len(obj.objname or ()) == 1:
            schema = self.schema_of(str(obj.objname[0].sval), self.routine_there)
            return changed(obj, objname=(ast.String(sval=schema), *obj.objname))
        return obj


def of_history(h: History) -> Lookup:
    """The lookup over what earlier migrations made, at this point of the history."""
    return Lookup(
        h.default_schema, h.search_path, h.relation_taken, h.holds_routine,
        lambda schema, name: any(h.knows(ObjectRef(k, name, schema)) for k in _TYPE_KINDS),
    )  # fmt: skip


_TYPE_KINDS = ("type", "domain")


def _bare(obj: Any, *, on_table: bool) -> bool:
    """Whether a DROP's name for the object (its table's, for a trigger or policy) has no
    schema."""
    if isinstance(obj, ast.ObjectWithArgs):
        parts = len(obj.objname)
    elif isinstance(obj, ast.String):
        parts = 1
    elif isinstance(obj, ast.TypeName):
        parts = len(obj.names)
    else:
        parts = len(strings(obj))
    return parts - (1 if on_table else 0) <= 1
