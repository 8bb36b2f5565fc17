"""Whether a trigger function only changes the row being written (`NEW.updated_at := now()`).

A restore from a capture writes whole rows back. A trigger that fires on that write and only
assigns fields of NEW changes nothing the capture does not hold, so the restore covers it, as
long as the trigger does not fire on the restore itself (it would stamp `updated_at` again).
Any other trigger (one that runs SQL, calls a function outside a small table of built-ins, or
assigns OLD) may change rows no capture keeps. Read with PostgreSQL's PL/pgSQL parser
(through pglast); what cannot be read is "not only the row". Pure: no database.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from pglast import parse_sql
from pglast.parser import ParseError, parse_plpgsql_json

from migration_rollback.sql._ast import ast

# Built-ins an assignment to NEW may call: they read, never write.
PURE_FUNCTIONS = frozenset(
    {
        "now", "clock_timestamp", "statement_timestamp", "transaction_timestamp", "timezone",
        "coalesce", "nullif", "lower", "upper", "btrim", "trim", "ltrim", "rtrim", "length",
        "concat", "concat_ws", "replace", "substring", "left", "right", "date_trunc",
        "to_tsvector", "setweight", "to_char", "jsonb_build_object", "gen_random_uuid",
        "greatest", "least", "abs", "round", "md5",
    }
)  # fmt: skip
# PL/pgSQL statements that cannot write anything themselves (their expressions are checked).
_QUIET = {
    "PLpgSQL_stmt_block", "PLpgSQL_stmt_assign", "PLpgSQL_stmt_if", "PLpgSQL_stmt_return",
    "PLpgSQL_stmt_raise", "PLpgSQL_if_elsif", "PLpgSQL_stmt_case", "PLpgSQL_case_when",
}  # fmt: skip
_TARGET = re.compile(r'^\s*[\w."]+\s*(:=|=)\s*', re.DOTALL)


def only_row_changes(body: str, language: str = "plpgsql") -> str | None:
    """None when the trigger function only assigns fields of NEW; else why not."""
    if language.lower() != "plpgsql":
        return f"it is written in {language}, which is not read"
    try:
        tree = json.loads(parse_plpgsql_json(_as_function(body)))[0]["PLpgSQL_function"]
    except (ParseError, ValueError, KeyError, IndexError):
        return "its code does not parse"
    datums = tree.get("datums", [])
    for kind, node in _statements(tree["action"]):
        if kind not in _QUIET:
            return f"it runs {kind.removeprefix('PLpgSQL_stmt_')} statements"
        if kind == "PLpgSQL_stmt_assign" and _assigns_old(datums, node["varno"]):
            return "it assigns OLD"
    for query in _expressions(tree["action"]):
        why = _expression_problem(query)
        if why:
            return why
    return None


def _as_function(body: str) -> str:
    tag = "$mr$"
    while tag in body:
        tag = tag[:-1] + "x$"
    return f"CREATE FUNCTION pg_temp.f() RETURNS trigger LANGUAGE plpgsql AS {tag}{body}{tag}"


def _assigns_old(datums: list[dict[str, Any]], varno: int) -> bool:
    field = datums[varno].get("PLpgSQL_recfield") if varno < len(datums) else None
    if field is None:
        return False  # a local variable
    parent = datums[field.get("recparentno", 0)].get("PLpgSQL_rec", {})
    return bool(parent.get("refname") != "new")


def _statements(node: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every PL/pgSQL statement, nested ones too."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            for key, value in item.items():
                if key.startswith(("PLpgSQL_stmt_", "PLpgSQL_if_", "PLpgSQL_case_")):
                    yield key, value
                if key != "PLpgSQL_expr":
                    stack.append(value)


def _expressions(node: Any) -> Iterator[str]:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            for key, value in item.items():
                if key == "PLpgSQL_expr":
                    yield (
                        _TARGET.sub("", str(value["query"]), count=1)
                        if value.get("parseMode") in (3, 4)
                        else str(value["query"])
                    )
                else:
                    stack.append(value)


def _expression_problem(query: str) -> str | None:
    try:
        parsed = parse_sql(f"SELECT {query}")
    except ParseError:
        return f"an expression does not parse: {query}"
    for node in _walk(parsed):
        if isinstance(node, ast.FuncCall):
            name = str(node.funcname[-1].sval).lower()
            if name not in PURE_FUNCTIONS:
                return f"it calls {name}(), which may write"
    return None


def _walk(root: Any) -> Iterator[Any]:
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Node):
            yield node
            stack.extend(getattr(node, attr) for attr in node)
        elif isinstance(node, tuple | list):
            stack.extend(node)
