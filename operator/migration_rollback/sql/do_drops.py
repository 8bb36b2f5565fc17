"""What a DO block drops, as far as its code shows it.

A DO block is one statement to the history and the rules: the DROP POLICY IF EXISTS … it runs
(often before creating the policy again, or EXECUTE 'DROP TRIGGER …') left the history
believing the object still stood as an earlier migration made it, and a later DROP was undone
by recreating it from that stale text. PostgreSQL's PL/pgSQL parser (through pglast) gives
each SQL statement of the code; those written out, or run by EXECUTE of a string constant, are
read here. A DROP inside an IF or a loop may not have run: the history forgets its targets
all the same (a later undo is then a human's, never a guess). A DROP built at run time by
`format('DROP POLICY IF EXISTS %I ON %I.%I', …)` (a loop over pg_policies, on real projects)
is read from its template, each name filled in at run time standing for any (ANY_NAME).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pglast import parse_sql
from pglast.enums.parsenodes import AlterTableType
from pglast.parser import ParseError

from migration_rollback.sql._ast import ast
from migration_rollback.sql.effects import PLATFORM_NOTHING_LASTING, locks_or_reads_only
from migration_rollback.sql.function_code import as_statement, entries, plpgsql_tree
from migration_rollback.sql.model import Statement

# A name format() fills in at run time: stands for any name in a DROP read from its template.
ANY_NAME = "mr_any_name_"
_PLACEHOLDER = re.compile(r"%(?:\d+\$)?-?\d*[sIL]")
_DROPPING = frozenset({AlterTableType.AT_DropConstraint, AlterTableType.AT_DropColumn})
# The PL/pgSQL statements a block that only drops may hold besides its SQL: control flow and
# messages (their expressions are read too: a condition may call a function that writes).
_CONTROL = frozenset({
    "PLpgSQL_stmt_block", "PLpgSQL_stmt_if", "PLpgSQL_stmt_raise", "PLpgSQL_stmt_return",
    "PLpgSQL_stmt_assert", "PLpgSQL_stmt_execsql", "PLpgSQL_stmt_dynexecute",
})  # fmt: skip


def block_statements(node: Any, st: Statement) -> list[Statement]:
    """Every SQL statement the block's PL/pgSQL writes out or EXECUTEs as a constant, in
    order, located at the block; [] when its code is not PL/pgSQL or does not parse."""
    return [Statement(text, st.location, st.index, tree) for text, tree in _parsed(node)]


def block_trees(node: Any) -> list[Any]:
    """The parse trees of block_statements(), where no location is wanted."""
    return [tree for _, tree in _parsed(node)]


def _parsed(node: Any) -> list[tuple[str, Any]]:
    tree = _tree(node)
    found: list[tuple[str, Any]] = []
    for text in _texts(tree["action"]) if tree is not None else ():
        try:
            parsed = parse_sql(text)
        except ParseError:
            continue
        found += [(text, raw.stmt) for raw in parsed]
    return found


def _tree(node: Any) -> dict[str, Any] | None:
    """The block's PL/pgSQL parse; None in another language or when it does not parse."""
    options = {str(o.defname): o.arg for o in node.args or ()}
    language = str(getattr(options.get("language"), "sval", "plpgsql")).lower()
    body = getattr(options.get("as"), "sval", None)
    return plpgsql_tree(str(body)) if language == "plpgsql" and body is not None else None


def block_drops(node: Any, st: Statement) -> list[Statement]:
    """The block's DROP statements and ALTER TABLEs that only drop (constraints, columns)."""
    return [inner for inner in block_statements(node, st) if drops(inner.node)]


def only_drops(node: Any) -> bool:
    """Whether all the block does is what block_drops() shows: every statement of its code is
    control flow, a message or a DROP (written out, or EXECUTE of a constant), and every
    expression it evaluates only reads."""
    tree = _tree(node)
    if tree is None:
        return False
    for key, value in entries(tree["action"]):
        if key.startswith("PLpgSQL_stmt_") and key not in _CONTROL:
            return False
        if key == "PLpgSQL_stmt_dynexecute" and _constant(_query(value, "query")) is None:
            return False
        if key == "PLpgSQL_stmt_execsql" and not _all_drop(_query(value, "sqlstmt")):
            return False
        if key in ("cond", "expr", "params") and not _reads_only(value):
            return False
    constants = [_constant(_query(v, "query")) for k, v in entries(tree["action"])
                 if k == "PLpgSQL_stmt_dynexecute"]  # fmt: skip
    return all(text is not None and _all_drop(text) for text in constants)


def _query(statement: dict[str, Any], field: str) -> str:
    return str(statement[field]["PLpgSQL_expr"]["query"])


def _all_drop(text: str) -> bool:
    try:
        parsed = parse_sql(text)
    except ParseError:
        return False
    return bool(parsed) and all(drops(raw.stmt) for raw in parsed)


def _reads_only(value: Any) -> bool:
    """An expression (or a list of them) whose SELECT writes nothing and calls only what is
    known to change nothing."""
    items = value if isinstance(value, list) else [value]
    for item in items:
        expr = item.get("PLpgSQL_expr") if isinstance(item, dict) else None
        if expr is None:
            continue
        try:
            parsed = parse_sql(as_statement(expr))
        except ParseError:
            return False
        if not all(locks_or_reads_only(raw.stmt, PLATFORM_NOTHING_LASTING) for raw in parsed):
            return False
    return True


def drops(node: Any) -> bool:
    if isinstance(node, ast.DropStmt):
        return True
    commands = getattr(node, "cmds", None) or ()
    return isinstance(node, ast.AlterTableStmt) and all(
        getattr(c, "subtype", None) in _DROPPING for c in commands
    )


def _texts(action: Any) -> Iterator[str]:
    """(nested too) the text of each plain SQL statement and of each EXECUTE of a constant."""
    # entries() walks a stack: the statements come out of order; sorted back by position.
    found: list[tuple[int, str]] = []
    for key, value in entries(action):
        if key == "PLpgSQL_stmt_execsql":
            found.append((_line(value), str(value["sqlstmt"]["PLpgSQL_expr"]["query"])))
        elif key == "PLpgSQL_stmt_dynexecute":
            constant = _constant(str(value["query"]["PLpgSQL_expr"]["query"]))
            if constant is not None:
                found.append((_line(value), constant))
    yield from (text for _, text in sorted(found, key=lambda item: item[0]))


def templated_drops(node: Any, st: Statement) -> list[Statement]:
    """The DROPs the block EXECUTEs as `format('DROP …', …)`: their names format() fills in
    are ANY_NAME."""
    tree = _tree(node)
    found: list[Statement] = []
    for key, value in entries(tree["action"]) if tree is not None else ():
        template = _template(_query(value, "query")) if key == "PLpgSQL_stmt_dynexecute" else None
        if template is None:
            continue
        text = _PLACEHOLDER.sub(ANY_NAME, template)
        try:
            parsed = parse_sql(text)
        except ParseError:
            continue
        found += [Statement(text, st.location, st.index, raw.stmt) for raw in parsed
                  if isinstance(raw.stmt, ast.DropStmt)]  # fmt: skip
    return found


def _template(expression: str) -> str | None:
    """The first argument of `format(<constant>, …)`, the whole of the expression."""
    value = _single_value(expression)
    if not isinstance(value, ast.FuncCall) or not value.args:
        return None
    if str(value.funcname[-1].sval).lower() != "format":
        return None
    first = value.args[0]
    text = getattr(getattr(first, "val", None), "sval", None)
    return str(text) if isinstance(first, ast.A_Const) and text is not None else None


def _line(statement: dict[str, Any]) -> int:
    return int(statement.get("lineno", 0))


def _constant(expression: str) -> str | None:
    """The string an EXECUTE runs when its expression is a single string constant."""
    value = _single_value(expression)
    text = getattr(getattr(value, "val", None), "sval", None)
    return str(text) if isinstance(value, ast.A_Const) and text is not None else None


def _single_value(expression: str) -> Any:
    """The parse of a PL/pgSQL expression that is one value; None otherwise."""
    try:
        parsed = parse_sql(f"SELECT {expression}")
    except ParseError:
        return None
    select = parsed[0].stmt if len(parsed) == 1 else None
    targets: tuple[Any, ...] = tuple(getattr(select, "targetList", None) or ())
    if getattr(select, "fromClause", None) or len(targets) != 1:
        return None
    return getattr(targets[0], "val", None)
