"""What earlier migrations built, learned from their SQL alone (no database).

The generator consults it to tell a brand-new object from one that existed before, and to
recover an earlier definition (a function body, a view, an index, a column's type) so that more
rollbacks are complete without a human. Whatever it cannot know stays a MANUAL item; the
verifier (`verify/`) checks every guess against a real PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from pglast.enums.parsenodes import AlterTableType as AT
from pglast.enums.parsenodes import ConstrType, ObjectType

from migration_rollback.sql._ast import ast
from migration_rollback.sql.comments import comment_target
from migration_rollback.sql.model import ObjectRef, Statement
from migration_rollback.sql.names import (
    DEFAULT_SCHEMA,
    choose_name,
    deparse,
    function_args,
    index_column_names,
    relation,
    search_path_schema,
    split_qualified,
    strings,
)
from migration_rollback.sql.platform_calls import Effect, cron_job_ref, plain_calls


@dataclass(frozen=True, slots=True)
class ColumnState:
    """A column as earlier migrations left it; SQL text is rendered only when asked for."""

    type_node: Any
    default_node: Any
    not_null: bool
    generated_node: Any = None  # GENERATED ALWAYS AS (expr) STORED: the expression

    @property
    def generated(self) -> str | None:
        return None if self.generated_node is None else deparse(self.generated_node)

    @property
    def type(self) -> str:
        return deparse(self.type_node)

    @property
    def default(self) -> str | None:
        return None if self.default_node is None else deparse(self.default_node)


@dataclass(frozen=True, slots=True)
class Definition:
    """The statement that last defined an object, or the fragment of it that did."""

    ref: ObjectRef
    statement: Statement
    fragment: Any = None  # e.g. a table constraint inside CREATE TABLE

    @property
    def is_statement(self) -> bool:
        return self.fragment is None

    @property
    def text(self) -> str:
        return self.statement.text if self.fragment is None else deparse(self.fragment)


@dataclass
class History:
    """Objects, definitions and column states accumulated statement by statement."""

    definitions: dict[str, Definition] = field(default_factory=dict)
    # Per table, so dropping a table forgets its columns without scanning every column known.
    columns: dict[tuple[str, str], dict[str, ColumnState]] = field(default_factory=dict)
    rls_enabled: set[tuple[str, str]] = field(default_factory=set)
    rls_forced: set[tuple[str, str]] = field(default_factory=set)
    comments: dict[str, str | None] = field(default_factory=dict)  # by ObjectRef.key
    primary_keys: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    # UNIQUE constraints declared with the table: other keys an inserted row is found by.
    unique_keys: dict[tuple[str, str], tuple[tuple[str, ...], ...]] = field(default_factory=dict)
    default_schema: str = DEFAULT_SCHEMA

    def knows(self, ref: ObjectRef) -> bool:
        return ref.key in self.definitions

    def definition(self, ref: ObjectRef) -> Definition | None:
        return self.definitions.get(ref.key)

    def column(self, schema: str, table: str, column: str) -> ColumnState | None:
        return self.columns.get((schema, table), {}).get(column)

    def set_column(self, schema: str, table: str, column: str, state: ColumnState) -> None:
        self.columns.setdefault((schema, table), {})[column] = state

    def drop_column(self, schema: str, table: str, column: str) -> None:
        self.columns.get((schema, table), {}).pop(column, None)

    def copy(self) -> History:
        return History(
            definitions=dict(self.definitions),
            columns={table: dict(cols) for table, cols in self.columns.items()},
            rls_enabled=set(self.rls_enabled),
            rls_forced=set(self.rls_forced),
            comments=dict(self.comments),
            primary_keys=dict(self.primary_keys),
            unique_keys=dict(self.unique_keys),
        )

    def begin_file(self) -> None:
        """Each migration file starts with the default search_path again."""
        self.default_schema = DEFAULT_SCHEMA

    # --- learning -------------------------------------------------------------------------

    def observe(self, statement: Statement) -> None:
        node = statement.node
        observer = _OBSERVERS.get(type(node))
        if observer is not None:
            observer(self, statement, node)

    def _define(self, ref: ObjectRef, statement: Statement, fragment: Any = None) -> None:
        self.definitions[ref.key] = Definition(ref, statement, fragment)

    def _forget(self, ref: ObjectRef) -> None:
        self.definitions.pop(ref.key, None)
        if ref.kind == "table" and ref.schema:
            self.columns.pop((ref.schema, ref.name), None)


Observer = Callable[[History, Statement, Any], None]


def object_key_for_index(node: Any, schema: str) -> ObjectRef:
    rel = relation(node.relation, schema)
    name = node.idxname or choose_name(rel.name, index_column_names(node.indexParams), "idx")
    return ObjectRef("index", name, rel.schema)


def constraint_name(table: str, constraint: Any, column: str | None = None) -> str:
    """The name PostgreSQL gives a constraint declared without one."""
    if constraint.conname:
        return str(constraint.conname)
    ct = constraint.contype
    if ct == ConstrType.CONSTR_PRIMARY:
        return choose_name(table, [], "pkey")
    keys = strings(constraint.keys) or ([column] if column else [])
    if ct == ConstrType.CONSTR_UNIQUE:
        return choose_name(table, keys, "key")
    if ct == ConstrType.CONSTR_FOREIGN:
        return choose_name(table, strings(constraint.fk_attrs) or keys, "fkey")
    if ct == ConstrType.CONSTR_EXCLUSION:
        return choose_name(table, keys, "excl")
    if ct == ConstrType.CONSTR_CHECK:
        return choose_name(table, [column] if column else _check_columns(constraint), "check")
    return choose_name(table, keys, "con")


def _check_columns(constraint: Any) -> list[str]:
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, ast.ColumnRef):
            names = strings(node.fields)
            if names and names[-1] not in found:
                found.append(names[-1])
        elif isinstance(node, ast.Node):
            for attr in node:  # pglast nodes iterate over their field names
                walk(getattr(node, attr))
        elif isinstance(node, tuple | list):
            for item in node:
                walk(item)

    walk(constraint.raw_expr)
    return found[:1] if len(found) == 1 else []


def column_state(col: Any) -> ColumnState:
    default = generated = None
    not_null = False
    for c in col.constraints or ():
        if c.contype == ConstrType.CONSTR_DEFAULT:
            default = c.raw_expr
        elif c.contype == ConstrType.CONSTR_GENERATED:
            generated = c.raw_expr
        elif c.contype in (ConstrType.CONSTR_NOTNULL, ConstrType.CONSTR_PRIMARY):
            not_null = True
    return ColumnState(col.typeName, default, not_null, generated)


def _observe_create_table(h: History, st: Statement, node: Any) -> None:
    rel = relation(node.relation, h.default_schema)
    if node.if_not_exists and h.knows(rel):
        return
    h._define(rel, st)
    pk: tuple[str, ...] = ()
    uniques: list[tuple[str, ...]] = []
    for elt in node.tableElts or ():
        if isinstance(elt, ast.ColumnDef):
            h.set_column(str(rel.schema), rel.name, str(elt.colname), column_state(elt))
            for c in elt.constraints or ():
                if c.contype == ConstrType.CONSTR_PRIMARY:
                    pk = (str(elt.colname),)
                elif c.contype == ConstrType.CONSTR_UNIQUE:
                    uniques.append((str(elt.colname),))
                _observe_constraint(h, st, rel, c, str(elt.colname))
        elif isinstance(elt, ast.Constraint):
            if elt.contype == ConstrType.CONSTR_PRIMARY:
                pk = tuple(strings(elt.keys))
            elif elt.contype == ConstrType.CONSTR_UNIQUE and elt.keys:
                uniques.append(tuple(strings(elt.keys)))
            _observe_constraint(h, st, rel, elt, None)
    if pk:
        h.primary_keys[(str(rel.schema), rel.name)] = pk
    if uniques:
        h.unique_keys[(str(rel.schema), rel.name)] = tuple(uniques)


def _observe_constraint(
    h: History, st: Statement, rel: ObjectRef, c: Any, column: str | None
) -> None:
    if c.contype in (
        ConstrType.CONSTR_DEFAULT,
        ConstrType.CONSTR_NOTNULL,
        ConstrType.CONSTR_NULL,
        ConstrType.CONSTR_GENERATED,
        ConstrType.CONSTR_IDENTITY,
    ):
        return
    name = constraint_name(rel.name, c, column)
    ref = ObjectRef("constraint", name, rel.schema, table=rel.name)
    # A table constraint can be re-added on its own; a column constraint only with its column.
    h._define(ref, st, c if column is None else None)


def _observe_index(h: History, st: Statement, node: Any) -> None:
    h._define(object_key_for_index(node, h.default_schema), st)


def _observe_function(h: History, st: Statement, node: Any) -> None:
    schema, name = split_qualified(strings(node.funcname), h.default_schema)
    kind = "procedure" if node.is_procedure else "function"
    h._define(ObjectRef(kind, name, schema, args=function_args(node.parameters)), st)


def _observe_view(h: History, st: Statement, node: Any) -> None:
    h._define(relation(node.view, h.default_schema, "view"), st)


def _observe_matview(h: History, st: Statement, node: Any) -> None:
    kind = "materialized view" if node.objtype == ObjectType.OBJECT_MATVIEW else "table"
    h._define(relation(node.into.rel, h.default_schema, kind), st)


def _observe_foreign_table(h: History, st: Statement, node: Any) -> None:
    h._define(relation(node.base.relation, h.default_schema, "foreign table"), st)


def _observe_named(kind: str, name_attr: str) -> Observer:
    """A schemaless object a CREATE names by one attribute (a server, a wrapper)."""

    def observe(h: History, st: Statement, node: Any) -> None:
        h._define(ObjectRef(kind, str(getattr(node, name_attr))), st)

    return observe


def _observe_trigger(h: History, st: Statement, node: Any) -> None:
    rel = relation(node.relation, h.default_schema)
    h._define(ObjectRef("trigger", str(node.trigname), rel.schema, table=rel.name), st)


def _observe_policy(h: History, st: Statement, node: Any) -> None:
    rel = relation(node.table, h.default_schema)
    h._define(ObjectRef("policy", str(node.policy_name), rel.schema, table=rel.name), st)


def _observe_simple(kind: str) -> Observer:
    def observe(h: History, st: Statement, node: object) -> None:
        ref = simple_object_ref(kind, node, h.default_schema)
        if ref is not None:
            h._define(ref, st)

    return observe


def simple_object_ref(kind: str, node: object, default_schema: str) -> ObjectRef | None:
    """The object a CREATE of a type, domain, sequence, schema, extension... names."""
    if isinstance(node, ast.CreateEnumStmt):
        schema, name = split_qualified(strings(node.typeName), default_schema)
    elif isinstance(node, ast.CompositeTypeStmt):
        return relation(node.typevar, default_schema, "type")
    elif isinstance(node, ast.CreateDomainStmt):
        schema, name = split_qualified(strings(node.domainname), default_schema)
    elif isinstance(node, ast.CreateSeqStmt):
        return relation(node.sequence, default_schema, "sequence")
    elif isinstance(node, ast.CreateSchemaStmt):
        return ObjectRef("schema", str(node.schemaname))
    elif isinstance(node, ast.CreateExtensionStmt):
        return ObjectRef("extension", str(node.extname))
    elif isinstance(node, ast.CreatePublicationStmt):
        return ObjectRef("publication", str(node.pubname))
    else:
        return None
    return ObjectRef(kind, name, schema)


def _observe_alter_table(h: History, st: Statement, node: Any) -> None:
    rel = relation(node.relation, h.default_schema)
    key = (str(rel.schema), rel.name)
    for cmd in node.cmds or ():
        sub = cmd.subtype
        column = str(cmd.name)
        state = h.column(*key, column)
        if sub == AT.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
            h.set_column(*key, str(cmd.def_.colname), column_state(cmd.def_))
        elif sub == AT.AT_DropColumn:
            h.drop_column(*key, column)
        elif sub == AT.AT_AlterColumnType and state and isinstance(cmd.def_, ast.ColumnDef):
            h.set_column(*key, column, replace(state, type_node=cmd.def_.typeName))
        elif sub == AT.AT_ColumnDefault and state:
            h.set_column(*key, column, replace(state, default_node=cmd.def_))
        elif sub == AT.AT_DropExpression and state:
            h.set_column(*key, column, replace(state, generated_node=None))
        elif sub in (AT.AT_SetNotNull, AT.AT_DropNotNull) and state:
            h.set_column(*key, column, replace(state, not_null=sub == AT.AT_SetNotNull))
        elif sub == AT.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
            _observe_constraint(h, st, rel, cmd.def_, None)
        elif sub == AT.AT_DropConstraint:
            h._forget(ObjectRef("constraint", str(cmd.name), rel.schema, table=rel.name))
        elif sub == AT.AT_EnableRowSecurity:
            h.rls_enabled.add(key)
        elif sub == AT.AT_DisableRowSecurity:
            h.rls_enabled.discard(key)
        elif sub == AT.AT_ForceRowSecurity:
            h.rls_forced.add(key)
        elif sub == AT.AT_NoForceRowSecurity:
            h.rls_forced.discard(key)


def _observe_drop(h: History, st: Statement, node: Any) -> None:
    from migration_rollback.sql.classify import classify

    for target in classify(st).targets:
        h._forget(target)


def _observe_set(h: History, st: Statement, node: Any) -> None:
    schema = search_path_schema(node)
    if schema:
        h.default_schema = schema


def _observe_select(h: History, st: Statement, node: Any) -> None:
    """A named cron job is an object too: its last schedule is what an undo restores."""
    for call in plain_calls(node) or ():
        ref = cron_job_ref(call)
        if ref is None:
            continue
        if call.effect is Effect.SCHEDULES_JOB:
            h._define(ref, st)
        else:
            h._forget(ref)


def _observe_comment(h: History, st: Statement, node: Any) -> None:
    ref = comment_target(node, h.default_schema)
    if ref is not None:
        h.comments[ref.key] = node.comment


def _observe_rename(h: History, st: Statement, node: Any) -> None:
    """A column or table renamed keeps what is known of it (types, defaults) under its new
    name: a later type change back must know the type it had."""
    if node.renameType in (ObjectType.OBJECT_TYPE, ObjectType.OBJECT_DOMAIN) and node.newname:
        _observe_type_rename(h, node)
        return
    if node.relation is None:
        return
    rel = relation(node.relation, h.default_schema)
    key = (str(rel.schema), rel.name)
    if node.renameType == ObjectType.OBJECT_COLUMN and node.subname and node.newname:
        state = h.column(*key, str(node.subname))
        h.drop_column(*key, str(node.subname))
        if state is not None:
            h.set_column(*key, str(node.newname), state)
    elif node.renameType == ObjectType.OBJECT_TABLE and node.newname and key in h.columns:
        h.columns[(key[0], str(node.newname))] = h.columns.pop(key)


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


_OBSERVERS: dict[type, Observer] = {
    ast.CreateStmt: _observe_create_table,
    ast.IndexStmt: _observe_index,
    ast.CreateFunctionStmt: _observe_function,
    ast.ViewStmt: _observe_view,
    ast.CreateTableAsStmt: _observe_matview,
    ast.CreateTrigStmt: _observe_trigger,
    ast.CreateForeignTableStmt: _observe_foreign_table,
    ast.CreateForeignServerStmt: _observe_named("server", "servername"),
    ast.CreateFdwStmt: _observe_named("foreign data wrapper", "fdwname"),
    ast.CreatePolicyStmt: _observe_policy,
    ast.CreateEnumStmt: _observe_simple("type"),
    ast.CompositeTypeStmt: _observe_simple("type"),
    ast.CreateDomainStmt: _observe_simple("domain"),
    ast.CreateSeqStmt: _observe_simple("sequence"),
    ast.CreateSchemaStmt: _observe_simple("schema"),
    ast.CreateExtensionStmt: _observe_simple("extension"),
    ast.CreatePublicationStmt: _observe_simple("publication"),
    ast.AlterTableStmt: _observe_alter_table,
    ast.DropStmt: _observe_drop,
    ast.VariableSetStmt: _observe_set,
    ast.CommentStmt: _observe_comment,
    ast.SelectStmt: _observe_select,
    ast.RenameStmt: _observe_rename,
}
