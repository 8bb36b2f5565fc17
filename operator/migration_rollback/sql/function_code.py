"""Whether a function a trigger calls can write: read from its code, never trusted from its label.

A trigger that assigns `NEW.slug := make_slug(NEW.name)` changes only its row as long as
`make_slug` writes nothing. A user function passes when its code (PL/pgSQL through PostgreSQL's
own parser, LANGUAGE sql through pglast) has no INSERT/UPDATE/DELETE/MERGE, no DDL, no dynamic
EXECUTE, and calls only built-ins of the tables below or user functions that pass the same
check (followed to a depth limit, a cycle refused). STABLE or IMMUTABLE is not enough: the
server refuses a write in the function's own statements, but not in a volatile function it
calls (tests/integration/runner/test_capture_trigger_calls.py shows both). Pure: the caller
hands in `Lookup`, which finds a name's definitions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pglast import parse_sql
from pglast.parser import ParseError, parse_plpgsql_json

from migration_rollback.sql._ast import ast

# Built-ins that compute a value: they read, never write.
PURE_FUNCTIONS = frozenset(
    {
        "now", "clock_timestamp", "statement_timestamp", "transaction_timestamp", "timezone",
        "coalesce", "nullif", "lower", "upper", "btrim", "trim", "ltrim", "rtrim", "length",
        "concat", "concat_ws", "replace", "substring", "left", "right", "date_trunc",
        "to_tsvector", "setweight", "to_char", "jsonb_build_object", "gen_random_uuid",
        "greatest", "least", "abs", "round", "md5",
    }
)  # fmt: skip
# Built-ins that read the database or compute over rows: still no write.
READERS = frozenset(
    {
        "to_regclass", "to_regtype", "to_regproc", "format_type", "to_date", "to_timestamp",
        "to_number", "date_part", "extract", "age", "make_date", "make_interval", "split_part",
        "regexp_replace", "regexp_match", "position", "strpos", "initcap", "lpad", "rpad",
        "format", "array_length", "array_position", "cardinality", "unnest", "string_agg",
        "array_agg", "count", "sum", "max", "min", "avg", "bool_or", "bool_and", "jsonb_set",
        "jsonb_array_length", "jsonb_typeof", "jsonb_agg", "json_build_object",
        "jsonb_build_array", "to_jsonb", "row_to_json", "char_length", "octet_length",
        "translate", "reverse", "encode", "decode", "floor", "ceil", "ceiling", "trunc",
        # a setting's value (auth.uid() and auth.jwt() read the request's claims so)
        "current_setting",
    }
)  # fmt: skip
_BUILT_INS = PURE_FUNCTIONS | READERS
# PL/pgSQL statements that write nothing themselves (their expressions and queries are
# checked: `query_problem`): control flow, assignments, RETURN, RAISE, SELECT ... INTO, PERFORM.
READ_ONLY_STATEMENTS = {
    "PLpgSQL_stmt_block", "PLpgSQL_stmt_assign", "PLpgSQL_stmt_if", "PLpgSQL_stmt_return",
    "PLpgSQL_stmt_raise", "PLpgSQL_if_elsif", "PLpgSQL_stmt_case", "PLpgSQL_case_when",
    "PLpgSQL_stmt_loop", "PLpgSQL_stmt_while", "PLpgSQL_stmt_fori", "PLpgSQL_stmt_fors",
    "PLpgSQL_stmt_foreach_a", "PLpgSQL_stmt_exit", "PLpgSQL_stmt_perform",
    "PLpgSQL_stmt_execsql", "PLpgSQL_stmt_return_next", "PLpgSQL_stmt_return_query",
}  # fmt: skip
_WRITES = (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt)
MAX_DEPTH = 8
_TARGET = re.compile(r'^\s*[\w."]+\s*(:=|=)\s*', re.DOTALL)


@dataclass(frozen=True, slots=True)
class UserFunction:
    """One definition of a function outside the system schemas (pg_proc)."""

    name: str  # schema.name, for reasons
    language: str
    source: str  # prosrc
    # A SQL-standard body (`BEGIN ATOMIC ... END`, `RETURN ...`; PostgreSQL 14+): kept parsed
    # in prosqlbody, with prosrc empty; not read here.
    sql_body: bool = False


# A function's name as called (["name"] or ["schema", "name"]) -> every definition it may mean.
Lookup = Callable[[Sequence[str]], Sequence[UserFunction]]


def no_functions(_name: Sequence[str]) -> Sequence[UserFunction]:
    return ()


def call_problem(query: str, lookup: Lookup, trail: tuple[str, ...] = ()) -> str | None:
    """None when every function the SQL text calls writes nothing; else why not."""
    try:
        parsed = parse_sql(query)
    except ParseError:
        return f"an expression does not parse: {query}"
    for node in walk(parsed):
        if isinstance(node, _WRITES):
            return f"it runs {type(node).__name__.removesuffix('Stmt').upper()}"
        if isinstance(node, ast.FuncCall):
            why = _called(tuple(str(p.sval).lower() for p in node.funcname), lookup, trail)
            if why:
                return why
    return None


def is_builtin(name: Sequence[str]) -> bool:
    """A call of one of the built-ins above: unqualified or in pg_catalog (`myschema.lower()`
    is a user function that happens to share the name)."""
    parts = [str(p).lower() for p in name]
    return parts[-1] in _BUILT_INS and (len(parts) == 1 or parts[0] == "pg_catalog")


def _called(name: tuple[str, ...], lookup: Lookup, trail: tuple[str, ...]) -> str | None:
    if is_builtin(name):
        return None
    shown = ".".join(name)
    found = lookup(name)
    if not found:
        return f"it calls {shown}(), which may write"
    for function in found:
        if function.name in trail:
            return f"it calls {shown}() in a cycle ({' -> '.join((*trail, function.name))})"
        if len(trail) >= MAX_DEPTH:
            return f"it calls {shown}() more than {MAX_DEPTH} calls deep"
        why = function_problem(function, lookup, (*trail, function.name))
        if why:
            return f"it calls {shown}(), which may write ({why})"
    return None


def function_problem(function: UserFunction, lookup: Lookup, trail: tuple[str, ...]) -> str | None:
    """None when the function's code provably writes nothing."""
    language = function.language.lower()
    if function.sql_body or not function.source.strip():
        return f"the code of {function.name} is not readable (a SQL-standard body)"
    if language == "sql":
        return query_problem(function.source, lookup, trail)
    if language != "plpgsql":
        return f"{function.name} is written in {language}, which is not read"
    tree = plpgsql_tree(function.source, "text")
    if tree is None:
        return f"the code of {function.name} does not parse"
    for kind, _node in statements(tree["action"]):
        if kind not in READ_ONLY_STATEMENTS:
            return f"{function.name} runs {kind.removeprefix('PLpgSQL_stmt_')} statements"
    for query in expressions(tree["action"]):
        why = query_problem(query, lookup, trail)
        if why:
            return why
    return None


def query_problem(query: str, lookup: Lookup, trail: tuple[str, ...] = ()) -> str | None:
    """None when the SQL text is SELECTs only and every function it calls writes nothing."""
    return call_problem(query, lookup, trail) or _only_selects(query)


def _only_selects(query: str) -> str | None:
    try:
        parsed = parse_sql(query)
    except ParseError:
        return f"an expression does not parse: {query}"
    for raw in parsed:
        if not isinstance(raw.stmt, ast.SelectStmt):
            return f"it runs {type(raw.stmt).__name__}"
        if raw.stmt.intoClause is not None:  # SQL's SELECT ... INTO makes a table
            return "it runs SELECT INTO, which creates a table"
    return None


def plpgsql_tree(body: str, returns: str = "void") -> dict[str, Any] | None:
    """PostgreSQL's parse of a PL/pgSQL body (None: it does not parse). Declared without
    arguments: a body that assigns one of its arguments does not parse, and stays unread."""
    tag = "$mr$"
    while tag in body:  # a dollar-quote tag the body does not contain
        tag = tag[:-1] + "x$"
    wrapped = f"CREATE FUNCTION pg_temp.f() RETURNS {returns} LANGUAGE plpgsql AS {tag}{body}{tag}"
    try:
        tree: dict[str, Any] = json.loads(parse_plpgsql_json(wrapped))[0]["PLpgSQL_function"]
    except (ParseError, ValueError, KeyError, IndexError):
        return None
    return tree


def entries(node: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) of a PL/pgSQL JSON tree, nested ones too; an expression's insides
    (`PLpgSQL_expr`: SQL text) are not entered."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            for key, value in item.items():
                yield key, value
                if key != "PLpgSQL_expr":
                    stack.append(value)


def statements(node: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every PL/pgSQL statement, nested ones too."""
    for key, value in entries(node):
        if key.startswith(("PLpgSQL_stmt_", "PLpgSQL_if_", "PLpgSQL_case_")):
            yield key, value


def expressions(node: Any) -> Iterator[str]:
    """Every SQL text of a PL/pgSQL tree, as a statement that parses on its own."""
    for key, value in entries(node):
        if key == "PLpgSQL_expr":
            yield as_statement(value)


def as_statement(expr: dict[str, Any]) -> str:
    """A PL/pgSQL expression's text as a statement: `x := f(y)` -> `SELECT f(y)`, a condition
    `a > 1` -> `SELECT a > 1`, a query as it is (its parse mode says which)."""
    query = str(expr["query"])
    mode = expr.get("parseMode")
    if mode in (3, 4):  # an assignment: `target := value`
        return "SELECT " + _TARGET.sub("", query, count=1)
    return query if mode in (None, 0) else f"SELECT {query}"


QName = tuple[str, ...]


def written_name(rv: Any) -> QName:
    """A RangeVar's relation as written: (schema, name) or (name,); the server resolves it."""
    return (str(rv.schemaname), str(rv.relname)) if rv.schemaname else (str(rv.relname),)


def walk(root: Any) -> Iterator[Any]:
    """Every node of an SQL parse tree (iterative: trees can be deep)."""
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Node):
            yield node
            stack.extend(getattr(node, attr) for attr in node)
        elif isinstance(node, tuple | list):
            stack.extend(node)
