"""The rows an `INSERT ... SELECT ... ON CONFLICT DO UPDATE` may update, told before it runs.

An upsert fed by a query (`INSERT INTO store_users (id, role) SELECT au.id, 'ADMIN' FROM
auth.users au WHERE au.id IN (...)`, the corpus's wetraineducattiontech) conflicts with the
existing rows whose conflict columns hold a value the query gives. Evaluated just before the
statement, in the same transaction, the same query gives the same values when nothing in it
varies by itself: no LIMIT/OFFSET or DISTINCT ON (which rows they keep is the plan's choice),
no TABLESAMPLE, no function but read-only built-ins that give the same value twice. The query
is then narrowed to the conflict columns (capture_upsert.py compares them). The tables it reads
are not locked (the migration's role may not be allowed to: auth.users): should another session
commit a row between the capture and the statement that makes the server update a row that was
not kept, the statement is refused after it ran (capture_upsert.unkept_updates), and the
migration with it; a row it makes the statement insert is kept as inserted. Nothing is lost.
"""

from __future__ import annotations

from typing import Any

from migration_rollback.runner.capture_blocks import VOLATILE_BUILTINS
from migration_rollback.sql._ast import ast
from migration_rollback.sql.function_code import is_builtin, walk
from migration_rollback.sql.names import deparse


def query_conflicts(source: Any, given: list[str], target: tuple[str, ...]) -> str:
    """`SELECT` of the query's values for the conflict columns `target` (`given`: the INSERT's
    column list, in the query's order); a ValueError says why it cannot be told."""
    why = _shape(source)
    if why:
        raise ValueError(why)
    values = source.targetList or ()
    if any(isinstance(n, ast.A_Star) for n in walk(values)) or len(values) != len(given):
        raise ValueError("its query's columns are not listed one for each INSERT column")
    narrowed = ast.SelectStmt(
        targetList=tuple(values[given.index(column)] for column in target),
        fromClause=source.fromClause,
        whereClause=source.whereClause,
        groupClause=source.groupClause,
        havingClause=source.havingClause,
        distinctClause=source.distinctClause,
    )
    why = _calls(source, narrowed)
    if why:
        raise ValueError(why)
    return str(deparse(narrowed))


def _shape(source: Any) -> str | None:
    """Why the query's rows are not fixed by what it reads (None: they are)."""
    if source.larg is not None or source.valuesLists:
        return "its query combines several (UNION, INTERSECT, EXCEPT or VALUES)"
    if source.limitCount is not None or source.limitOffset is not None:
        return "its query has a LIMIT or OFFSET: which rows it keeps is the plan's choice"
    if any(item is not None for item in source.distinctClause or ()):
        return "its query has DISTINCT ON: which row it keeps is the plan's choice"
    if source.withClause is not None or source.lockingClause or source.intoClause is not None:
        return "its query has a WITH, FOR UPDATE or INTO clause"
    if any(isinstance(n, ast.RangeTableSample) for n in walk(source)):
        return "its query samples a table (TABLESAMPLE)"
    return None


def _calls(source: Any, narrowed: Any) -> str | None:
    """A user function anywhere (it may write as the INSERT runs), or a built-in whose value
    changes from one call to the next where the conflicting rows are chosen."""
    for node in walk(source):
        if isinstance(node, ast.FuncCall) and not is_builtin(_name(node)):
            return f"its query calls {'.'.join(_name(node))}(), which may write"
    for node in walk(narrowed):
        if isinstance(node, ast.FuncCall) and _name(node)[-1].lower() in VOLATILE_BUILTINS:
            return f"its query calls {_name(node)[-1]}(), which gives another value each time"
    return None


def _name(call: Any) -> list[str]:
    return [str(p.sval) for p in call.funcname]
