"""Whether a view's earlier definition can replace its current one in place.

`CREATE OR REPLACE VIEW` keeps the view's owner, comment, privileges and the views built on
it, but PostgreSQL accepts the new query only when it yields the same columns (names, types,
order), more at the end allowed. The undo of a forward that added columns must drop the view
and create it again; one that only changed what the view filters or joins can put the
earlier text back in place. Types are not in the SQL: two target lists are taken to yield the
same columns when they are written the same, arm by arm, with no `*` (which expands to the
columns a table has when the statement runs, and tables change between migrations).
"""

from __future__ import annotations

from typing import Any

from migration_rollback.sql._ast import ast
from migration_rollback.sql.names import deparse


def same_columns(earlier: Any, current: Any) -> bool:
    """Two `ViewStmt`s whose queries yield the same columns, as far as their text tells."""
    if not isinstance(earlier, ast.ViewStmt) or not isinstance(current, ast.ViewStmt):
        return False
    if _aliases(earlier) != _aliases(current):
        return False
    before, after = _outputs(earlier.query), _outputs(current.query)
    return before is not None and before == after


def _aliases(view: Any) -> tuple[str, ...]:
    return tuple(str(alias.sval) for alias in view.aliases or ())


def _outputs(query: Any) -> tuple[tuple[str, ...], ...] | None:
    """Each arm's target list as written (a UNION's arms decide the columns' types together);
    None with a `*` or a query that is not a SELECT."""
    if not isinstance(query, ast.SelectStmt):
        return None
    if query.larg is not None and query.rarg is not None:
        left, right = _outputs(query.larg), _outputs(query.rarg)
        return None if left is None or right is None else left + right
    if query.valuesLists:
        return (tuple(deparse(row) for row in query.valuesLists),)
    targets = query.targetList or ()
    if any(_is_star(target) for target in targets):
        return None
    return (tuple(deparse(target) for target in targets),)


def _is_star(target: Any) -> bool:
    value = getattr(target, "val", None)
    fields: tuple[Any, ...] = tuple(getattr(value, "fields", None) or ())
    return isinstance(value, ast.ColumnRef) and bool(fields) and isinstance(fields[-1], ast.A_Star)
