"""Where a restore from a capture runs past its own `-- undoes` group.

A restore runs where the rollback undid its forward statement (restore.py). Some later steps of
the same rollback remove what would refuse or misplace the prior values there: a column the
migration added and filled (the values go with it; a NOT NULL on it refuses the rows put back
with its NULLs), a constraint the migration added (a CHECK that the prior values break, even
NOT VALID), a trigger it added (it would rewrite the rows being put back). The restore then runs
just after the last such step, against the schema the prior values were written under.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pglast import ast
from pglast.enums.parsenodes import AlterTableType, ObjectType

from migration_rollback.runner.plan import Plan, QName, names_of, range_var_name
from migration_rollback.runner.restore_captures import Capture


def _same_table(name: QName, capture: Capture) -> bool:
    schema = name[0] if len(name) > 1 else capture.schema
    return bool(name) and (schema, name[-1]) == (capture.schema, capture.table)


def _alter_table(node: ast.AlterTableStmt, capture: Capture) -> bool:
    """DROP COLUMN of a column the restore writes, or DROP CONSTRAINT, on the table."""
    if not _same_table(range_var_name(node.relation), capture):
        return False
    written = set(capture.values)
    return any(
        cmd.subtype == AlterTableType.AT_DropConstraint
        or (cmd.subtype == AlterTableType.AT_DropColumn and cmd.name in written)
        for cmd in node.cmds or ()
    )


def _drop(node: ast.DropStmt, capture: Capture) -> bool:
    """DROP TRIGGER ... ON the table (its name ends with the table's)."""
    if node.removeType != ObjectType.OBJECT_TRIGGER:
        return False
    return any(_same_table(name[:-1], capture) for name in names_of(node.objects))


# What in a later rollback statement the restore waits for, by statement node.
_RULES: dict[type, Callable[[Any, Capture], bool]] = {
    ast.AlterTableStmt: _alter_table,
    ast.DropStmt: _drop,
}


def removes_a_refusal(node: Any, capture: Capture) -> bool:
    rule = _RULES.get(type(node))
    return rule is not None and rule(node, capture)


def later_spots(capture: Capture, plan: Plan, after: int) -> list[float]:
    """Just after each statement of the capture's rollback, from line `after` on, that removes
    something the restore must not meet."""
    return [
        planned.statement.location.line + 0.5
        for planned in plan.statements
        if planned.version == capture.version
        and planned.statement.location.line >= after
        and removes_a_refusal(planned.statement.node, capture)
    ]
