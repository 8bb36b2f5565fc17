"""Which statements a kept definition may hold, checked with pglast before `execute` runs one.

The restore SQL of a definition capture is read back from the capture catalog
(capture_definitions.py wrote it; restore_definitions.py runs it). The catalog's trust is
checked first (catalog_trust.py); this is the second fence: each kept statement must parse as
one statement of a kind the capture writes, so a row changed by hand cannot make the rollback's
role run anything else (a GRANT, a DO block, an INSERT, a DROP ... CASCADE).

What the capture writes: CREATE FUNCTION/PROCEDURE (pg_get_functiondef, OR REPLACE), CREATE
TRIGGER, CREATE POLICY, CREATE INDEX (pg_get_indexdef), CREATE VIEW, COMMENT ON, ALTER TABLE
... ENABLE/DISABLE TRIGGER, REPLICA IDENTITY USING INDEX and CLUSTER ON (an index's table),
ALTER TABLE ... ALTER COLUMN SET/DROP DEFAULT and SET/DROP NOT NULL (an existing column an
ADD COLUMN IF NOT EXISTS met),
ALTER INDEX ... ALTER COLUMN n SET STATISTICS, and
DROP ... IF EXISTS of a trigger, policy, index, view or routine, never CASCADE (the restore
clears the way, or undoes what the migration made). Owners and privileges are not kept as SQL:
definition_rights.py composes them from names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pglast import parse_sql
from pglast.enums.parsenodes import AlterTableType, DropBehavior, ObjectType
from pglast.parser import ParseError

from migration_rollback.runner.errors import PreconditionError
from migration_rollback.sql._ast import ast

# ALTER TABLE subcommands a kept definition may hold: a trigger's enabled state, an index's
# replica identity and clustering.
_ALTER_TABLE = {
    AlterTableType.AT_EnableTrig,
    AlterTableType.AT_EnableAlwaysTrig,
    AlterTableType.AT_EnableReplicaTrig,
    AlterTableType.AT_DisableTrig,
    AlterTableType.AT_ReplicaIdentity,
    AlterTableType.AT_ClusterOn,
    # An existing column's default and NOT NULL (capture_if_not_exists.py).
    AlterTableType.AT_ColumnDefault,
    AlterTableType.AT_SetNotNull,
    AlterTableType.AT_DropNotNull,
}
# What a kept DROP may remove: the object itself, cleared before it is recreated.
_DROPPED = {
    ObjectType.OBJECT_TRIGGER,
    ObjectType.OBJECT_POLICY,
    ObjectType.OBJECT_INDEX,
    ObjectType.OBJECT_VIEW,
    ObjectType.OBJECT_FUNCTION,
    ObjectType.OBJECT_PROCEDURE,
    ObjectType.OBJECT_ROUTINE,
}


def _always(_node: Any) -> bool:
    return True


# ALTER INDEX subcommands: an expression column's statistics target.
_ALTER_INDEX = {AlterTableType.AT_SetStatistics}
_ALTERED = {ObjectType.OBJECT_TABLE: _ALTER_TABLE, ObjectType.OBJECT_INDEX: _ALTER_INDEX}


def _alter_table(node: Any) -> bool:
    allowed = _ALTERED.get(node.objtype, set())
    return all(c.subtype in allowed for c in node.cmds or ()) and bool(node.cmds)


def _drop(node: Any) -> bool:
    return (
        node.removeType in _DROPPED
        and node.behavior == DropBehavior.DROP_RESTRICT
        and not node.concurrent
    )


def _index(node: Any) -> bool:
    return not node.concurrent  # CONCURRENTLY cannot run inside the rollback's transaction


def _view(node: Any) -> bool:
    return not node.replace  # a kept view is recreated, never replaces another one


# The statement kinds a kept definition may hold, each with what it must (not) say.
_ALLOWED: dict[type, Callable[[Any], bool]] = {
    ast.CreateFunctionStmt: _always,
    ast.CreateTrigStmt: _always,
    ast.CreatePolicyStmt: _always,
    ast.IndexStmt: _index,
    ast.ViewStmt: _view,
    ast.CommentStmt: _always,
    ast.AlterTableStmt: _alter_table,
    ast.DropStmt: _drop,
}


def kept_statement_kind(text: str) -> str | None:
    """The parse node's name when `text` is one statement a kept definition may hold; None
    when it is not (several statements, another kind, a CASCADE, text that does not parse)."""
    try:
        parsed = parse_sql(text)
    except ParseError:
        return None
    if len(parsed) != 1:
        return None
    node = parsed[0].stmt
    check = _ALLOWED.get(type(node))
    return type(node).__name__ if check is not None and check(node) else None


def require_kept_statements(described: str, statements: list[str]) -> None:
    """Refuse (before any of them runs) a kept definition holding a statement the capture never
    writes: the catalog row was changed since `apply` wrote it."""
    for number, text in enumerate(statements, 1):
        if kept_statement_kind(text) is None:
            raise PreconditionError(
                f"the kept definition of {described} holds a statement a capture never writes "
                f"(statement {number} of its restore): the capture catalog was changed since "
                "`apply` wrote it; nothing was restored"
            )
