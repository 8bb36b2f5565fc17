"""Which definitions a forward statement is about to drop or replace, read from its parse tree.

A rollback cannot recreate a trigger, policy or routine that no earlier migration wrote (made in
the dashboard, by a DO block, or not there at all before a `DROP ... IF EXISTS`): its item stays
MANUAL. `apply` keeps the object's definition as the server gives it just before the statement
(capture_definitions.py). This module decides, from pglast's tree alone, which objects to keep:
each dropped trigger, policy, routine, index or view, each routine or trigger created `OR
REPLACE`, and whether an index, table, sequence, schema, extension or column created `IF NOT
EXISTS` existed (capture_if_not_exists.py). A DROP FUNCTION / INDEX / VIEW ... CASCADE also
drops what depends on it, which is not kept: it gets a `manual` reason instead (never a
guess). `DROP INDEX CONCURRENTLY` runs after the migration's COMMIT, outside the transaction a
capture belongs to: nothing is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from pglast.enums.parsenodes import (
    AlterTableType,
    DropBehavior,
    FunctionParameterMode,
    ObjectType,
)

from migration_rollback.runner.capture_plan import CaptureKind, CaptureSpec, capture_specs
from migration_rollback.sql import Statement
from migration_rollback.sql._ast import ast
from migration_rollback.sql.function_code import written_name
from migration_rollback.sql.names import arg_type_name

_CASCADE = "DROP ... CASCADE also drops what depends on it: those definitions are not kept"
# What other objects may depend on (a trigger, a view, a foreign key on a unique index).
_DEPENDED_ON = {CaptureKind.DROP_ROUTINE, CaptureKind.DROP_INDEX, CaptureKind.DROP_VIEW}
# Parameters that are not part of a routine's identity (to_regprocedure takes the others).
_NOT_IDENTITY = {FunctionParameterMode.FUNC_PARAM_OUT, FunctionParameterMode.FUNC_PARAM_TABLE}


def _on_table(kind: CaptureKind, obj: Any) -> CaptureSpec:
    """`name ON [schema.]table`: the grammar's list is (schema?, table, name)."""
    parts = tuple(str(p.sval) for p in obj if isinstance(p, ast.String))
    return CaptureSpec(kind=kind, table=parts[:-1], name=parts[-1])


def _relation(kind: CaptureKind, obj: Any) -> CaptureSpec:
    return CaptureSpec(kind=kind, table=tuple(str(p.sval) for p in obj))


def _routine(kind: CaptureKind, obj: Any) -> CaptureSpec:
    name = tuple(str(p.sval) for p in obj.objname)
    arguments = None
    if not obj.args_unspecified:
        arguments = tuple(arg_type_name(t) for t in obj.objargs or ())
    manual = _PCT_TYPE if _copies_a_type(obj.objargs) else None
    return CaptureSpec(kind=kind, table=name, arguments=arguments, manual=manual)


# `x t.c%TYPE`: to_regtype cannot read it (an error before PostgreSQL 16, NULL since: the
# routine would be taken for absent), so the definition is not kept.
_PCT_TYPE = "an argument typed with %TYPE: the routine is not looked up, its definition not kept"


def _copies_a_type(types: Any) -> bool:
    return any(getattr(t, "pct_type", False) for t in types or ())


# What each DROP keeps, by the kind of object it drops.
_DROPS: dict[ObjectType, tuple[CaptureKind, Callable[[CaptureKind, Any], CaptureSpec]]] = {
    ObjectType.OBJECT_TRIGGER: (CaptureKind.DROP_TRIGGER, _on_table),
    ObjectType.OBJECT_POLICY: (CaptureKind.DROP_POLICY, _on_table),
    ObjectType.OBJECT_FUNCTION: (CaptureKind.DROP_ROUTINE, _routine),
    ObjectType.OBJECT_PROCEDURE: (CaptureKind.DROP_ROUTINE, _routine),
    ObjectType.OBJECT_ROUTINE: (CaptureKind.DROP_ROUTINE, _routine),
    ObjectType.OBJECT_INDEX: (CaptureKind.DROP_INDEX, _relation),
    ObjectType.OBJECT_VIEW: (CaptureKind.DROP_VIEW, _relation),
}


def _drop(node: Any) -> list[CaptureSpec]:
    found = _DROPS.get(node.removeType)
    if found is None or node.concurrent:  # CONCURRENTLY runs after COMMIT: nothing is kept
        return []
    kind, read = found
    specs = [read(kind, obj) for obj in node.objects or ()]
    if node.behavior == DropBehavior.DROP_CASCADE and kind in _DEPENDED_ON:
        return [replace(s, manual=_CASCADE) for s in specs]
    return specs


def _create_function(node: Any) -> list[CaptureSpec]:
    if not node.replace:
        return []
    # A procedure's OUT arguments are part of its identity (PostgreSQL 14+), a function's not.
    skipped = (
        _NOT_IDENTITY - {FunctionParameterMode.FUNC_PARAM_OUT}
        if node.is_procedure
        else _NOT_IDENTITY
    )
    params = [p for p in node.parameters or () if p.mode not in skipped]
    arguments = tuple(arg_type_name(p.argType) for p in params)
    name = tuple(str(p.sval) for p in node.funcname)
    manual = _PCT_TYPE if _copies_a_type(p.argType for p in params) else None
    kind = CaptureKind.REPLACE_ROUTINE
    return [CaptureSpec(kind=kind, table=name, arguments=arguments, manual=manual)]


def _create_trigger(node: Any) -> list[CaptureSpec]:
    if not node.replace:
        return []
    table = written_name(node.relation)
    return [CaptureSpec(kind=CaptureKind.REPLACE_TRIGGER, table=table, name=str(node.trigname))]


def _create_index(node: Any) -> list[CaptureSpec]:
    """CREATE INDEX IF NOT EXISTS: whether its name was taken is kept (its index is made in
    its table's schema, whatever the search_path). CONCURRENTLY runs after COMMIT: nothing."""
    if not node.if_not_exists or node.concurrent:
        return []
    table = written_name(node.relation)
    return [CaptureSpec(kind=CaptureKind.CREATE_INDEX, table=table, name=str(node.idxname))]


def _create_relation(kind: CaptureKind) -> Callable[[Any], list[CaptureSpec]]:
    """CREATE TABLE / SEQUENCE IF NOT EXISTS (not a temporary one: the session's own)."""

    def specs(node: Any) -> list[CaptureSpec]:
        rel = node.relation if kind is CaptureKind.CREATE_TABLE else node.sequence
        if not node.if_not_exists or rel.relpersistence == "t":
            return []
        return [CaptureSpec(kind=kind, table=written_name(rel))]

    return specs


def _create_named(kind: CaptureKind, field: str) -> Callable[[Any], list[CaptureSpec]]:
    """CREATE SCHEMA / EXTENSION IF NOT EXISTS: one name, no schema."""

    def specs(node: Any) -> list[CaptureSpec]:
        name = getattr(node, field)
        if not node.if_not_exists or not name:
            return []
        return [CaptureSpec(kind=kind, table=(str(name),))]

    return specs


def _add_column(node: Any) -> list[CaptureSpec]:
    """ALTER TABLE ... ADD COLUMN IF NOT EXISTS, alone in its statement (several commands: their
    MANUAL items share one place in the rollback, and a capture answers a place whole)."""
    cmds: tuple[Any, ...] = tuple(node.cmds or ())
    if node.objtype != ObjectType.OBJECT_TABLE or len(cmds) != 1:
        return []
    cmd = cmds[0]
    if cmd.subtype != AlterTableType.AT_AddColumn or not cmd.missing_ok:
        return []
    table = written_name(node.relation)
    return [CaptureSpec(kind=CaptureKind.ADD_COLUMN, table=table, name=str(cmd.def_.colname))]


_RULES: dict[type, Callable[[Any], list[CaptureSpec]]] = {
    ast.DropStmt: _drop,
    ast.IndexStmt: _create_index,
    ast.CreateStmt: _create_relation(CaptureKind.CREATE_TABLE),
    ast.CreateSeqStmt: _create_relation(CaptureKind.CREATE_SEQUENCE),
    ast.CreateSchemaStmt: _create_named(CaptureKind.CREATE_SCHEMA, "schemaname"),
    ast.CreateExtensionStmt: _create_named(CaptureKind.CREATE_EXTENSION, "extname"),
    ast.AlterTableStmt: _add_column,
    ast.CreateFunctionStmt: _create_function,
    ast.CreateTrigStmt: _create_trigger,
}


def definition_specs(statement: Statement) -> list[CaptureSpec]:
    """The definitions to keep before `statement` runs; empty when it drops or replaces none."""
    rule = _RULES.get(type(statement.node))
    return rule(statement.node) if rule is not None else []


def planned_captures(statement: Statement) -> list[CaptureSpec]:
    """Everything `apply` keeps before `statement`: the rows it changes, then the definitions
    it drops or replaces."""
    return [*capture_specs(statement), *definition_specs(statement)]
