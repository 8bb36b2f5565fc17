"""Whether statements may change a stand-in extension's members: decided from the parse, so
that a migration that cannot reach them skips the two member-state reads of its round trip.

Conservative by construction: only statement kinds that act on the objects they name (DDL)
can be cleared, and only when no word of their names and literals is a member's name or schema
(read from the parse tree: SQL's own keywords name nothing, yet `primary key` had matched
pgsodium's `key` table and sent every CREATE TABLE to the reads), they run
no function this project does not know (an ALTER TABLE default, an index expression), cascade
nothing and rename no role (member state shows owners and grantees by name). A DO block,
a function call, SET, any extension command or anything else may reach anything. Code that any
DDL runs, an event trigger a migration made, is the caller's to rule out (roundtrip.py reads
member state for every migration once there is one).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from typing import Any

from pglast.enums.parsenodes import DropBehavior, GrantTargetType, ObjectType

from migration_rollback.sql import Statement
from migration_rollback.sql._ast import ast
from migration_rollback.sql.effects import behaviour
from migration_rollback.sql.tree_facts import tree_facts

# Statement kinds that change only what they name (and never run code at creation).
_NAMED_ONLY = frozenset(
    {
        "CreateStmt", "AlterTableStmt", "IndexStmt", "ViewStmt", "CreateFunctionStmt",
        "CreateTrigStmt", "CreatePolicyStmt", "AlterPolicyStmt", "CommentStmt",
        "CreateEnumStmt", "AlterEnumStmt", "CompositeTypeStmt", "CreateDomainStmt",
        "CreateSeqStmt", "AlterSeqStmt", "RenameStmt", "DropStmt", "GrantStmt",
        "AlterOwnerStmt", "AlterObjectSchemaStmt", "AlterFunctionStmt", "CreateSchemaStmt",
    }
)  # fmt: skip
_WORD = re.compile(r"[a-z_][a-z0-9_$]*")


def may_change_members(statements: Iterable[Statement], member_words: Collection[str]) -> bool:
    """False only when none of these statements can change a stand-in's member."""
    return any(_may_reach(st, member_words) for st in statements)


def _may_reach(statement: Statement, member_words: Collection[str]) -> bool:
    node = statement.node
    if statement.kind not in _NAMED_ONLY or _indirect(node):
        return True
    return any(word in member_words for text in tree_facts(node).strings for word in words(text))


def _indirect(node: Any) -> bool:
    """It reaches past what it names: cascades, renames a role, grants on a whole schema,
    holds statements of its own, or runs a function not known to be harmless."""
    commands = node.cmds if isinstance(node, ast.AlterTableStmt) else ()
    if any(getattr(n, "behavior", None) == DropBehavior.DROP_CASCADE for n in (node, *commands)):
        return True
    if isinstance(node, ast.RenameStmt) and node.renameType == ObjectType.OBJECT_ROLE:
        return True
    if isinstance(node, ast.GrantStmt) and node.targtype != GrantTargetType.ACL_TARGET_OBJECT:
        return True
    if isinstance(node, ast.CreateSchemaStmt) and node.schemaElts:
        return True
    # Defaults, USING and CHECK of an ALTER TABLE run over the rows there; index expressions too.
    return isinstance(node, ast.AlterTableStmt | ast.IndexStmt) and any(
        behaviour(*call) is None for call in tree_facts(node).calls
    )


def words(text: str) -> list[str]:
    """The lower-case words of a name or a statement, as compared here."""
    return _WORD.findall(text.lower())
