"""Which tables the code of a DO block writes rows into, read from its PL/pgSQL parse tree.

Rows a DO block writes are data a rollback cannot know, unless they all go into tables the
same migration creates: those tables go with the rollback, and their rows with them. A text
search for INSERT / UPDATE / DELETE cannot tell the two apart; PostgreSQL's own PL/pgSQL
parser (through pglast) gives each embedded SQL statement, and the SQL parser its targets.
What cannot be known is said so (None): code that does not parse, another language, or a
dynamic EXECUTE whose text may write.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pglast import parse_sql
from pglast.parser import ParseError

from migration_rollback.sql._ast import ast
from migration_rollback.sql.function_code import (
    QName,
    entries,
    plpgsql_tree,
    walk,
    written_name,
)

_WRITING = (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt)
# Where each statement kind keeps its SQL text.
_TEXT = {
    "PLpgSQL_stmt_execsql": "sqlstmt",
    "PLpgSQL_stmt_dynexecute": "query",
    "PLpgSQL_stmt_call": "expr",
}
_MAY_WRITE = re.compile(r"\b(insert|update|delete|truncate|merge|copy|call)\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Write:
    """One statement's writes into one table: the columns an UPDATE sets (None: whole rows,
    inserted, deleted, merged or truncated)."""

    table: QName
    columns: tuple[str, ...] | None = None


def tables_written(body: str, language: str = "plpgsql") -> list[QName] | None:
    """The tables the code inserts into, updates, deletes from, merges into or truncates (as
    written: (schema, name) or (name,)); [] when it writes none; None when unknown."""
    writes = rows_written(body, language)
    return None if writes is None else list(dict.fromkeys(w.table for w in writes))


def rows_written(body: str, language: str = "plpgsql") -> list[Write] | None:
    """Every write of the code, with the columns of each UPDATE; None when unknown."""
    if language.lower() != "plpgsql":
        return None
    tree = plpgsql_tree(body)
    if tree is None:
        return None
    found: list[Write] = []
    for kind, query in _statements(tree):
        if kind == "PLpgSQL_stmt_call":
            return None  # a procedure may write anything
        if kind == "PLpgSQL_stmt_dynexecute":
            if _MAY_WRITE.search(query):
                return None
            continue
        targets = _targets(query)
        if targets is None:
            return None
        found += targets
    return list(dict.fromkeys(found))


def _statements(node: Any) -> Iterator[tuple[str, str]]:
    """(statement kind, SQL text) of every embedded SQL and EXECUTE statement, nested too."""
    for key, value in entries(node):
        if key in _TEXT:
            yield key, str(value[_TEXT[key]]["PLpgSQL_expr"]["query"])


def _targets(query: str) -> list[Write] | None:
    """The writes of one embedded statement (writing CTEs included)."""
    try:
        parsed = parse_sql(query)
    except ParseError:
        return None
    out: list[Write] = []
    for node in walk(parsed):
        if isinstance(node, ast.UpdateStmt):
            columns = tuple(dict.fromkeys(str(t.name) for t in node.targetList or ()))
            out.append(Write(written_name(node.relation), columns))
        elif isinstance(node, _WRITING):
            out.append(Write(written_name(node.relation)))
        elif isinstance(node, ast.TruncateStmt):
            out += [Write(written_name(rv)) for rv in node.relations or ()]
        elif isinstance(node, ast.CopyStmt | ast.CallStmt):
            return None
    return out
