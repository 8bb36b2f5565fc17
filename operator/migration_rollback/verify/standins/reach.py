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

import operator
import re
from collections.abc import Callable, Collection, Iterable
from typing import Any

from pglast.enums.parsenodes import DropBehavior, GrantTargetType, ObjectType

from migration_rollback.sql import Statement
from migration_rollback.sql._ast import ast
from migration_rollback.sql.effects import unknown_calls

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
    return any(word in member_words for text in _strings(node) for word in words(text))


def _strings(root: Any) -> list[str]:
    """Every string a parse tree holds: the names, the literals and the code bodies written
    (a keyword of the grammar is a node's shape, never a string). Asked of every statement
    of every round trip: exact types first, a node's fields read at once."""
    found: list[str] = []
    stack = [root]
    while stack:
        item = stack.pop()
        kind = type(item)
        getter = _FIELDS.get(kind)
        if getter is not None:
            stack.extend(getter(item))
        elif kind is str:
            found.append(item)
        elif kind is tuple or kind is list:
            stack.extend(item)
        elif kind in _LEAVES:
            continue
        elif isinstance(item, ast.Node):
            stack.extend(_fields(kind)(item))
        elif isinstance(item, str):  # a str subclass (none expected): still a string
            found.append(item)
        elif isinstance(item, tuple | list):  # a subclass (none expected): still walked
            stack.extend(item)
        else:
            _LEAVES.add(kind)  # None, numbers, enums: nothing written in them
    return found


_LEAVES: set[type[Any]] = set()
_FIELDS: dict[type[Any], Callable[[Any], tuple[Any, ...]]] = {}


def _fields(kind: type[Any]) -> Callable[[Any], tuple[Any, ...]]:
    """A node class's fields, all read in one call."""
    getter = _FIELDS.get(kind)
    if getter is None:
        getter = _FIELDS[kind] = _getter(tuple(kind.__slots__))
    return getter


def _getter(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    if len(names) > 1:
        many: Callable[[Any], tuple[Any, ...]] = operator.attrgetter(*names)
        return many
    if names:
        one = operator.attrgetter(names[0])
        return lambda node: (one(node),)
    return lambda _: ()


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
    return isinstance(node, ast.AlterTableStmt | ast.IndexStmt) and bool(unknown_calls(node))


def words(text: str) -> list[str]:
    """The lower-case words of a name or a statement, as compared here."""
    return _WORD.findall(text.lower())
