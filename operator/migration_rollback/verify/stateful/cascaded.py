"""A DROP ... IF EXISTS of what an earlier DROP ... CASCADE of the same migration already took.

`DROP TABLE t CASCADE` takes the policies, foreign keys and views of other tables that use `t`
(and `t`'s own); a later `DROP POLICY IF EXISTS p ON other` then drops nothing. Undone from the
before-state, that DROP recreated `p` while the rollback still held the `t` the migration made
in the old one's place, and the rollback's own DROP of that `t` failed on `p`
(Mirxa27/newomen `20251007000000_comprehensive_fixes`). Its undo is none: what the CASCADE took
is put back with `t` (its own objects) or by the round trip's repair (the others'), once the old
`t` is back.

Part of the state-aware rollbacks (see the package's docstring); pure, no database.
"""

from __future__ import annotations

from typing import Any

import pglast
from pglast.enums.parsenodes import AlterTableType as AT
from pglast.enums.parsenodes import DropBehavior

from migration_rollback.sql import ObjectRef, RollbackPlan, RollbackStep, classify
from migration_rollback.sql._ast import ast
from migration_rollback.sql.names import DEFAULT_SCHEMA, strings
from migration_rollback.sql.touched import walk
from migration_rollback.verify.snapshot import SnapshotObject
from migration_rollback.verify.stateful.ddl import Writer

Qualified = tuple[str, str]  # (schema, name), lowercased and unquoted

# What a cascade reaches: the kinds whose DROP ... CASCADE takes dependents along.
_CASCADING = frozenset({"table", "view", "materialized view", "foreign table", "function", "type"})
# How each dependent kind's before-state text reads as SQL the parser takes (`{}`: the text).
_PARSED_AS = {
    "policy": (("using", "SELECT {}"), ("with check", "SELECT {}")),
    "constraint": (("definition", "ALTER TABLE _mr_t ADD {}"),),
    "trigger": (("definition", "{}"),),
    "view": (("definition", "{}"),),
    "materialized view": (("definition", "{}"),),
}


def taken_by_cascade(step: RollbackStep, plan: RollbackPlan, gen: Writer) -> str | None:
    """Why an `IF EXISTS` drop needs no undo: an earlier CASCADE took its object (None: not)."""
    target = step.manual.target if step.manual is not None else None
    obj = gen.find(target) if target is not None and _if_exists(step.forward.node) else None
    if obj is None:
        return None
    used = _uses(obj)
    lines = [
        line
        for other in plan.steps
        if other.forward.index < step.forward.index
        and (line := _cascade_taking(other, used)) is not None
    ]
    if not lines:
        return None
    return (
        f"{obj.id} went with the DROP ... CASCADE of line {min(lines)}: IF EXISTS dropped nothing"
    )


def _if_exists(node: Any) -> bool:
    """DROP ... IF EXISTS, ALTER TABLE ... DROP CONSTRAINT IF EXISTS (and nothing else)."""
    if isinstance(node, ast.DropStmt):
        return bool(node.missing_ok)
    cmds = getattr(node, "cmds", None) or () if isinstance(node, ast.AlterTableStmt) else ()
    return bool(cmds) and all(c.subtype == AT.AT_DropConstraint and c.missing_ok for c in cmds)


def _cascade_taking(other: RollbackStep, used: frozenset[Qualified]) -> int | None:
    """The line of `other` when it is a DROP ... CASCADE of something in `used`."""
    node = other.forward.node
    if not isinstance(node, ast.DropStmt) or node.behavior != DropBehavior.DROP_CASCADE:
        return None
    dropped = {_key(ref) for ref in classify(other.forward).targets if ref.kind in _CASCADING}
    return other.forward.location.line if dropped & used else None


def _key(ref: ObjectRef) -> Qualified:
    return ((ref.schema or DEFAULT_SCHEMA).lower(), ref.name.lower())


def _uses(obj: SnapshotObject) -> frozenset[Qualified]:
    """The relations, routines and types the object's definition names, and its table."""
    found: set[Qualified] = set()
    if obj.parent is not None:
        found.add(_split(obj.parent.name))
    for attr, template in _PARSED_AS.get(obj.id.kind, ()):
        text = obj.text(attr)
        if text:
            found |= _names(template.format(text))
    return frozenset(found)


def _names(text: str) -> set[Qualified]:
    try:
        tree: Any = pglast.parse_sql(text)
    except pglast.parser.ParseError:  # a text the server wrote: kept out rather than guessed
        return set()
    found: set[Qualified] = set()
    for node in walk(tree):
        if isinstance(node, ast.RangeVar):
            found.add(((node.schemaname or DEFAULT_SCHEMA).lower(), str(node.relname).lower()))
        elif isinstance(node, ast.FuncCall):
            found.add(_dotted(strings(node.funcname)))
        elif isinstance(node, ast.TypeName):
            found.add(_dotted(strings(node.names)))
    return found


def _dotted(parts: Any) -> Qualified:
    names = [str(p).lower() for p in parts]
    return (names[-2] if len(names) > 1 else DEFAULT_SCHEMA, names[-1] if names else "")


def _split(name: str) -> Qualified:
    """A snapshot's qualified, quoted name (`public."My Table"`) as (schema, name)."""
    parts = [p.strip('"') for p in name.split(".", 1)] if '"' not in name else _quoted(name)
    return _dotted(parts)


def _quoted(name: str) -> list[str]:
    try:
        tree: Any = pglast.parse_sql(f"SELECT * FROM {name}")
    except pglast.parser.ParseError:
        return [name]
    rel = tree[0].stmt.fromClause[0]
    return [str(rel.schemaname or DEFAULT_SCHEMA), str(rel.relname)]
