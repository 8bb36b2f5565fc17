"""How the migration history learns from each statement: one observer per statement kind.

Every statement of the earlier migrations passes here (History.observe); the observer of its
kind records what it defined, forgot, or changed (a column's type, a table's row security, a
comment, the search_path the rest of the file runs with; a name changed: history_renames).
The table at the end is the one place that says which statement kinds teach the history
anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any

from pglast import parse_sql
from pglast.enums.parsenodes import AlterTableType as AT
from pglast.enums.parsenodes import ConstrType, DropBehavior, ObjectType

from migration_rollback.sql import platform_grants, privilege_states
from migration_rollback.sql._ast import ast, changed, make
from migration_rollback.sql.comments import comment_target_on_path
from migration_rollback.sql.created import (
    ColumnState,
    column_state,
    constraint_name,
    object_key_for_index,
    simple_object_ref,
)
from migration_rollback.sql.history_blocks import observe_block_drops
from migration_rollback.sql.history_cascade import forget_dependents, forget_unread_drops
from migration_rollback.sql.history_renames import observe_enum, observe_rename, observe_set_schema
from migration_rollback.sql.history_settings import (
    RELATION_OWNER,
    SETTING_OBSERVERS,
    blur_published,
    forget_owners,
    learn_owner,
    learn_published,
    learn_relation,
    learn_routine_alter,
    learn_rule,
    learn_trigger,
)
from migration_rollback.sql.history_unread import forget_called, forget_unread
from migration_rollback.sql.model import ObjectRef, Statement
from migration_rollback.sql.names import (
    DEFAULT_SCHEMA,
    RUN_TIME,
    deparse,
    function_args,
    public_unsaid,
    relation,
    resets_search_path,
    search_path_schema,
    search_path_schemas,
    set_config_schemas,
    split_qualified,
    strings,
    table_key,
)
from migration_rollback.sql.platform_calls import Effect, cron_job_ref, plain_calls
from migration_rollback.sql.renamed import column_added
from migration_rollback.sql.search_path import of_history
from migration_rollback.sql.settings import OWNED_RELATIONS, options_of, view_options

if TYPE_CHECKING:
    from migration_rollback.sql.history import History

Observer = Callable[["History", Statement, Any], None]


def _observe_create_table(h: History, st: Statement, node: Any) -> None:
    rel = relation(node.relation, h.default_schema)
    if node.if_not_exists and h.knows(rel):
        return
    before = set(h.columns.get(table_key(rel), {})) if h.knows(rel) else set()
    h.define(rel, st)
    persistence = node.relation.relpersistence
    # A temporary table ends with its session; IF NOT EXISTS may have met a table made
    # elsewhere (a DO block, the dashboard), whose settings are unknown.
    if persistence != "t" and not node.if_not_exists:
        learn_relation(h, table_key(rel), options_of(node.options), logged=persistence != "u")
    if node.partspec is not None or node.inhRelations:
        learn_created(h, node, h.default_schema)
    pk: tuple[str, ...] = ()
    uniques: list[tuple[str, ...]] = []
    for elt in node.tableElts or ():
        if isinstance(elt, ast.ColumnDef):
            state = _bound(h, column_state(elt, len(h.renames)))
            h.set_column(*table_key(rel), str(elt.colname), state)
            for c in elt.constraints or ():
                if c.contype == ConstrType.CONSTR_PRIMARY:
                    pk = (str(elt.colname),)
                elif c.contype == ConstrType.CONSTR_UNIQUE:
                    uniques.append((str(elt.colname),))
            _observe_column_constraints(h, st, rel, elt)
        elif isinstance(elt, ast.Constraint):
            if elt.contype == ConstrType.CONSTR_PRIMARY:
                pk = tuple(strings(elt.keys))
            elif elt.contype == ConstrType.CONSTR_UNIQUE and elt.keys:
                uniques.append(tuple(strings(elt.keys)))
            _observe_constraint(h, st, rel, elt, None)
    doubted = before - set(h.columns.get(table_key(rel), {}))
    if doubted:  # a plain CREATE of a table the history has: it failed, or the table was gone
        h.doubted_columns[table_key(rel)] = doubted
    if pk:
        h.primary_keys[table_key(rel)] = pk
    if uniques:
        h.unique_keys[table_key(rel)] = tuple(uniques)


def learn_created(h: History, node: Any, default_schema: str) -> None:
    """Record the tables a CREATE TABLE puts others below: itself declared PARTITION BY, the
    tables it INHERITS from or is a PARTITION OF. The history learns it of earlier migrations;
    the rules, of this one (rules/only.py)."""
    if node.partspec is not None:
        h.partitioned.add(table_key(relation(node.relation, default_schema)))
    above = {table_key(relation(p, default_schema)) for p in node.inhRelations or ()}
    h.parents.update(above)
    if node.partbound is not None:  # PARTITION OF: its parent is partitioned, wherever made
        h.partitioned.update(above)


def learn_subcommand(h: History, table: tuple[str, str], cmd: Any, default_schema: str) -> None:
    """The same of an ALTER TABLE subcommand: ATTACH PARTITION, INHERIT."""
    if cmd.subtype == AT.AT_AttachPartition:
        h.partitioned.add(table)
    elif cmd.subtype == AT.AT_AddInherit and isinstance(cmd.def_, ast.RangeVar):
        h.parents.add(table_key(relation(cmd.def_, default_schema)))


def _observe_column_constraints(h: History, st: Statement, rel: ObjectRef, col: Any) -> None:
    """The constraints written on a column (CREATE TABLE, ADD COLUMN)."""
    said = col.constraints or ()
    attributes = any(c.contype in _ATTRIBUTES for c in said)
    for c in said:
        if c.contype not in _ATTRIBUTES:
            _observe_constraint(h, st, rel, c, str(col.colname), attributes)


_ATTRIBUTES = frozenset({
    ConstrType.CONSTR_ATTR_DEFERRABLE, ConstrType.CONSTR_ATTR_NOT_DEFERRABLE,
    ConstrType.CONSTR_ATTR_DEFERRED, ConstrType.CONSTR_ATTR_IMMEDIATE,
})  # fmt: skip


def _observe_constraint(
    h: History, st: Statement, rel: ObjectRef, c: Any, column: str | None, attributes: bool = False
) -> None:
    if c.contype in (
        ConstrType.CONSTR_DEFAULT,
        ConstrType.CONSTR_NOTNULL,
        ConstrType.CONSTR_NULL,
        ConstrType.CONSTR_GENERATED,
        ConstrType.CONSTR_IDENTITY,
    ):
        return
    name = constraint_name(rel.name, c, column, partial(h.constraint_taken, str(rel.schema)))
    ref = ObjectRef("constraint", name, rel.schema, table=rel.name)
    # A column constraint is re-added on its own as the table constraint it is the same as.
    h.define(ref, st, c if column is None else _table_form(c, column, attributes))
    if c.contype in _INDEXED:  # its index takes the name among the schema's relations
        index = ObjectRef("index", name, rel.schema)
        h.constraint_indexes[index.key] = ref.key
        if c.indexname:  # USING INDEX: the index is the constraint's now, renamed to its name
            _index_renamed(h, ObjectRef("index", str(c.indexname), rel.schema), index)


def _table_form(c: Any, column: str, attributes: bool) -> Any:
    """A column's UNIQUE, PRIMARY KEY, REFERENCES or CHECK as a table constraint on that
    column; None (the column's CREATE only says it) for another, or one followed by
    DEFERRABLE and the like (`attributes`), which a table constraint says otherwise."""
    keyed = c.contype in (ConstrType.CONSTR_UNIQUE, ConstrType.CONSTR_PRIMARY)
    if attributes or not (keyed or c.contype in _COLUMN_ALONE):
        return None
    named = (make(ast.String, sval=column),)
    if keyed:
        return changed(c, keys=named)
    if c.contype == ConstrType.CONSTR_FOREIGN:
        return changed(c, fk_attrs=named)
    return c  # a CHECK reads the same on the table (nothing changes a kept node in place)


_COLUMN_ALONE = (ConstrType.CONSTR_CHECK, ConstrType.CONSTR_FOREIGN)


def _index_renamed(h: History, old: ObjectRef, new: ObjectRef) -> None:
    known = h.definitions.get(old.key)
    if old == new:
        return
    h.forget(old)
    if known is not None:
        h.put_definition(new.key, replace(known, ref=new))


_INDEXED = (ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_UNIQUE, ConstrType.CONSTR_EXCLUSION)


def _forget_constraint(h: History, ref: ObjectRef) -> None:
    """A constraint dropped; one made USING INDEX takes that index (named as it) with it."""
    known = h.definitions.get(ref.key)
    h.forget(ref)
    if known is not None and getattr(known.fragment, "indexname", None):
        h.forget(ObjectRef("index", ref.name, ref.schema))


def _observe_index(h: History, st: Statement, node: Any) -> None:
    on = of_history(h).relation(node.relation)  # an index is made in its table's schema
    h.define(object_key_for_index(node, str(on.schema), h.relation_taken), st)


def _observe_function(h: History, st: Statement, node: Any) -> None:
    schema, name = split_qualified(strings(node.funcname), h.default_schema)
    kind = "procedure" if node.is_procedure else "function"
    ref = ObjectRef(kind, name, schema, args=function_args(node.parameters))
    h.define(ref, st)
    loose = public_unsaid(ref)
    if loose != ref:  # called `f(t)` later, where the text said `f(public.t)`
        h.routine_aliases[loose.key] = ref
    if node.is_procedure:  # PostgreSQL 14+: also named by its full list, OUT arguments too
        full = ObjectRef(kind, name, schema, args=function_args(node.parameters, with_out=True))
        if full != ref:
            h.routine_aliases[full.key] = ref


def _observe_view(h: History, st: Statement, node: Any) -> None:
    rel = relation(node.view, h.default_schema, "view")
    h.define(rel, st)
    learn_relation(h, table_key(rel), view_options(node), table=False)  # OR REPLACE: replaced


def _observe_matview(h: History, st: Statement, node: Any) -> None:
    kind = "materialized view" if node.objtype == ObjectType.OBJECT_MATVIEW else "table"
    rel = relation(node.into.rel, h.default_schema, kind)
    if node.if_not_exists and h.knows(rel):
        return
    h.define(rel, st)
    forget_called(h, st, node)
    persistence = node.into.rel.relpersistence
    if persistence != "t" and not node.if_not_exists:  # as CREATE TABLE (above)
        learn_relation(h, table_key(rel), options_of(node.into.options), logged=persistence != "u")


def _observe_foreign_table(h: History, st: Statement, node: Any) -> None:
    h.define(relation(node.base.relation, h.default_schema, "foreign table"), st)


def _observe_named(kind: str, name_attr: str) -> Observer:
    """A schemaless object a CREATE names by one attribute (a server, a wrapper)."""

    def observe(h: History, st: Statement, node: Any) -> None:
        h.define(ObjectRef(kind, str(getattr(node, name_attr))), st)

    return observe


def _observe_trigger(h: History, st: Statement, node: Any) -> None:
    rel = of_history(h).relation(node.relation)
    h.define(ObjectRef("trigger", str(node.trigname), rel.schema, table=rel.name), st)
    learn_trigger(h, table_key(rel), str(node.trigname))


def _observe_policy(h: History, st: Statement, node: Any) -> None:
    rel = of_history(h).relation(node.table)
    h.define(ObjectRef("policy", str(node.policy_name), rel.schema, table=rel.name), st)


def _observe_alter_policy(h: History, st: Statement, node: Any) -> None:
    """ALTER POLICY changes what a later restore must write: the CREATE POLICY as it now
    stands (a restore of the first CREATE would undo this one too)."""
    rel = of_history(h).relation(node.table)
    ref = ObjectRef("policy", str(node.policy_name), rel.schema, table=rel.name)
    previous = h.definition(ref)
    if previous is None or not isinstance(previous.tree, ast.CreatePolicyStmt):
        return
    old = previous.tree
    text = deparse(
        ast.CreatePolicyStmt(
            policy_name=old.policy_name, table=old.table, cmd_name=old.cmd_name,
            permissive=old.permissive, roles=node.roles or old.roles,
            qual=old.qual if node.qual is None else node.qual,
            with_check=old.with_check if node.with_check is None else node.with_check,
        )
    )  # fmt: skip
    h.redefine(ref, Statement(text, st.location, st.index, parse_sql(text)[0].stmt))


def _observe_simple(kind: str) -> Observer:
    def observe(h: History, st: Statement, node: object) -> None:
        ref = simple_object_ref(kind, node, h.default_schema)
        if ref is not None:
            h.define(ref, st)

    return observe


def _observe_publication(h: History, st: Statement, node: Any) -> None:
    h.define(ObjectRef("publication", str(node.pubname)), st)
    learn_published(h, st, node)


def _bound(h: History, state: ColumnState) -> ColumnState:
    """A column as written under the search_path in force, its type, default and generated
    expression naming the routines, types and sequences PostgreSQL bound them to."""
    if not h.search_path:
        return state
    look = of_history(h)
    return replace(
        state,
        type_node=look.qualified_expression(state.type_node),
        default_node=look.qualified_expression(state.default_node),
        generated_node=look.qualified_expression(state.generated_node),
    )


def _observe_alter_table(h: History, st: Statement, node: Any) -> None:
    rel = of_history(h).relation(node.relation)
    key = table_key(rel)
    for cmd in node.cmds or ():
        sub = cmd.subtype
        column = str(cmd.name)
        state = h.column(*key, column)
        if sub == AT.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
            added = _bound(h, column_state(cmd.def_, len(h.renames)))
            h.set_column(*key, str(cmd.def_.colname), added)
            h.renames += (column_added(rel, str(cmd.def_.colname), st),)
            if not cmd.missing_ok:  # IF NOT EXISTS of a column there adds no constraint
                _observe_column_constraints(h, st, rel, cmd.def_)
        elif sub == AT.AT_DropColumn:
            h.drop_column(*key, column)
            blur_published(h, key)
        elif sub == AT.AT_AlterColumnType and state and isinstance(cmd.def_, ast.ColumnDef):
            # Without COLLATE the column takes the new type's default collation.
            typed = replace(state, type_node=cmd.def_.typeName, collation_node=cmd.def_.collClause)
            h.set_column(*key, column, _bound(h, typed))
        elif sub == AT.AT_ColumnDefault and state:
            h.set_column(*key, column, _bound(h, replace(state, default_node=cmd.def_)))
        elif sub in (AT.AT_AddIdentity, AT.AT_DropIdentity) and state:
            identity = cmd.def_ if sub == AT.AT_AddIdentity else None
            h.set_column(*key, column, replace(state, identity=identity))
        elif sub == AT.AT_DropExpression and state:
            h.set_column(*key, column, replace(state, generated_node=None))
        elif sub in (AT.AT_SetNotNull, AT.AT_DropNotNull) and state:
            h.set_column(*key, column, replace(state, not_null=sub == AT.AT_SetNotNull))
        elif sub == AT.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
            _observe_constraint(h, st, rel, cmd.def_, None)
        elif sub == AT.AT_DropConstraint:
            _forget_constraint(
                h, ObjectRef("constraint", str(cmd.name), rel.schema, table=rel.name)
            )
        elif sub == AT.AT_ValidateConstraint:
            h.validate(ObjectRef("constraint", str(cmd.name), rel.schema, table=rel.name))
        elif sub in (AT.AT_AddInherit, AT.AT_AttachPartition):
            learn_subcommand(h, key, cmd, h.default_schema)
        elif sub in SETTING_OBSERVERS:
            SETTING_OBSERVERS[sub](h, key, cmd)
        elif sub == AT.AT_ChangeOwner and node.objtype in OWNED_RELATIONS:
            RELATION_OWNER(h, key, cmd)


def _observe_drop(h: History, st: Statement, node: Any) -> None:
    from migration_rollback.sql.classify import classify

    where = of_history(h)
    objects = zip(node.objects or (), classify(st).targets, strict=True)
    targets = [where.drop_target(obj, target) for obj, target in objects]
    for target in targets:
        h.forget(target)
    if node.behavior == DropBehavior.DROP_CASCADE:
        forget_dependents(h, {(t.schema or h.default_schema, t.name) for t in targets})


def _observe_do(h: History, st: Statement, node: Any) -> None:
    forget_unread(h, st, node)
    forget_unread_drops(h, st.text)
    observe_block_drops(h, st, node, OBSERVERS)


def _observe_set(h: History, st: Statement, node: Any) -> None:
    schema = search_path_schema(node)
    if schema:
        h.default_schema = schema
        h.search_path = search_path_schemas(node)
    elif resets_search_path(node):
        h.default_schema, h.search_path = DEFAULT_SCHEMA, ()


def _observe_select(h: History, st: Statement, node: Any) -> None:
    """A named cron job is an object too: its last schedule is what an undo restores. A
    routine called may change settings the history follows (forget_called). A constant
    set_config('search_path', …) is a SET."""
    forget_called(h, st, node)
    schemas = set_config_schemas(node)
    if schemas and schemas != (RUN_TIME,):
        h.default_schema, h.search_path = schemas[0], schemas
    for call in plain_calls(node) or ():
        ref = cron_job_ref(call)
        if ref is None:
            continue
        if call.effect is Effect.SCHEDULES_JOB:
            h.define(ref, st)
        else:
            h.forget(ref)


def _observe_comment(h: History, st: Statement, node: Any) -> None:
    ref = comment_target_on_path(node, of_history(h))
    if ref is not None:
        h.set_comment(ref, node.comment)


def _observe_rule(h: History, st: Statement, node: Any) -> None:
    rel = relation(node.relation, h.default_schema)
    h.define(ObjectRef("rule", str(node.rulename), rel.schema, table=rel.name), st)
    learn_rule(h, table_key(rel), str(node.rulename), bool(node.replace))


def _observe_grant(h: History, st: Statement, node: Any) -> None:
    node = of_history(h).qualified_grant(node)
    platform_grants.observe(h, node)
    known = (d.ref for d in h.definitions.values())
    privilege_states.learn(h.privileges, node, h.default_schema, known=known)


OBSERVERS: dict[type, Observer] = {
    ast.CreateStmt: _observe_create_table,
    ast.IndexStmt: _observe_index,
    ast.CreateFunctionStmt: _observe_function,
    ast.ViewStmt: _observe_view,
    ast.CreateTableAsStmt: _observe_matview,
    ast.CreateTrigStmt: _observe_trigger,
    ast.RuleStmt: _observe_rule,
    ast.CreateForeignTableStmt: _observe_foreign_table,
    ast.CreateForeignServerStmt: _observe_named("server", "servername"),
    ast.CreateFdwStmt: _observe_named("foreign data wrapper", "fdwname"),
    ast.CreatePolicyStmt: _observe_policy,
    ast.AlterPolicyStmt: _observe_alter_policy,
    ast.AlterOwnerStmt: learn_owner,
    ast.AlterFunctionStmt: learn_routine_alter,
    ast.ReassignOwnedStmt: forget_owners,
    ast.DropOwnedStmt: forget_owners,
    ast.DoStmt: _observe_do,
    ast.CallStmt: forget_called,
    **dict.fromkeys((ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt), forget_called),
    ast.CreateEnumStmt: _observe_simple("type"),
    ast.CompositeTypeStmt: _observe_simple("type"),
    ast.CreateDomainStmt: _observe_simple("domain"),
    ast.CreateSeqStmt: _observe_simple("sequence"),
    ast.CreateSchemaStmt: _observe_simple("schema"),
    ast.CreateExtensionStmt: _observe_simple("extension"),
    ast.CreatePublicationStmt: _observe_publication,
    ast.AlterPublicationStmt: learn_published,
    ast.AlterTableStmt: _observe_alter_table,
    ast.DropStmt: _observe_drop,
    ast.VariableSetStmt: _observe_set,
    ast.CommentStmt: _observe_comment,
    ast.SelectStmt: _observe_select,
    ast.RenameStmt: observe_rename,
    ast.AlterObjectSchemaStmt: observe_set_schema,
    ast.AlterEnumStmt: observe_enum,
    **dict.fromkeys((ast.GrantStmt, ast.AlterDefaultPrivilegesStmt), _observe_grant),
}
