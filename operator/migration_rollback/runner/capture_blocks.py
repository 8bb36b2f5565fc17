"""The writes of a DO block that `apply` can keep before the block runs, read from its code.

A DO block is one statement to the server: its inner statements cannot be captured one by one
as they run. An inner UPDATE or DELETE can still be captured before the whole block when the
rows it will change are the rows its WHERE selects *now*: its text is fixed (plain SQL, or
EXECUTE of a string constant), it reads none of the block's variables, it runs at most once
(not in a loop), no other write of the block touches the tables it reads, the block changes no
schema, and nothing it evaluates calls a function outside a small table of built-ins (a
function may write, or give other rows when it runs). Everything else is a reason, never a
guess. Read with PostgreSQL's PL/pgSQL parser (through pglast); pure, no database.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pglast import parse_sql
from pglast.parser import ParseError

from migration_rollback.redact import clip
from migration_rollback.redact_sql import sql_excerpt
from migration_rollback.sql._ast import ast
from migration_rollback.sql.function_code import (
    QName,
    as_statement,
    is_builtin,
    plpgsql_tree,
    walk,
    written_name,
)

_LOOPS = {
    "PLpgSQL_stmt_loop", "PLpgSQL_stmt_while", "PLpgSQL_stmt_fori", "PLpgSQL_stmt_fors",
    "PLpgSQL_stmt_forc", "PLpgSQL_stmt_foreach_a", "PLpgSQL_stmt_dynfors",
}  # fmt: skip
# Functions whose value changes from one call to the next: a WHERE using them selects other
# rows when it runs than when it was captured.
VOLATILE_BUILTINS = frozenset({"clock_timestamp", "gen_random_uuid", "random", "timeofday"})
_WRITES = (ast.UpdateStmt, ast.DeleteStmt, ast.InsertStmt, ast.MergeStmt, ast.TruncateStmt)
_KEPT = (ast.UpdateStmt, ast.DeleteStmt)
_READ_ONLY = (ast.SelectStmt,)
# The statements whose query is a string run as SQL (EXECUTE), and the field holding it: read
# like EXECUTE, never as an expression (`FOR r IN EXECUTE 'DELETE ... RETURNING'` is a write).
_DYNAMIC = {
    "PLpgSQL_stmt_dynexecute": "query", "PLpgSQL_stmt_dynfors": "query",
    "PLpgSQL_stmt_open": "dynquery", "PLpgSQL_stmt_return_query": "dynquery",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class BlockWrite:
    """One write of the block: its statement when it can be captured before the block, else
    the reason it cannot."""

    table: QName
    statement: str  # the parse node's name: UpdateStmt, DeleteStmt, InsertStmt...
    node: Any = None
    manual: str | None = None
    reads: tuple[QName, ...] = ()  # the other tables it reads (locked against writers)


def block_writes(body: str, language: str = "plpgsql") -> list[BlockWrite] | str:
    """Every write of the DO block's code, or why the block cannot be read at all."""
    if language.lower() != "plpgsql":
        return f"the block is written in {language}"
    tree = plpgsql_tree(body)
    if tree is None:
        return "the block's code does not parse"
    names = _variables(tree.get("datums", []))
    found = _statements(tree["action"], names)
    if isinstance(found, str):
        return found
    return _independent(found)


def _variables(datums: list[dict[str, Any]]) -> frozenset[str]:
    out = set()
    for datum in datums:
        for value in datum.values():
            if isinstance(value, dict) and "refname" in value:
                out.add(str(value["refname"]).lower())
    return frozenset(out)


def _statements(action: Any, names: frozenset[str]) -> list[BlockWrite] | str:
    writes: list[BlockWrite] = []
    for kind, text, looped in _walk_code(action, False):
        node = _parse(kind, text)
        if isinstance(node, str):
            return node
        if node is None:
            continue
        problem = _calls(node, names) or _setting(node)
        if problem:
            return problem
        writes += [_nested(n) for n in walk(node) if isinstance(n, _WRITES) and n is not node]
        if isinstance(node, _WRITES):
            writes += _write(node, looped, names)
        elif not isinstance(node, _READ_ONLY):
            return "the block also changes the schema: captures are taken before it runs"
    return writes


def _walk_code(node: Any, looped: bool) -> Iterator[tuple[str, str, bool]]:
    """(kind, SQL text, inside a loop) of every SQL text the block runs or evaluates."""
    if isinstance(node, list):
        for item in node:
            yield from _walk_code(item, looped)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key == "PLpgSQL_expr":
            yield "sql", as_statement(value), looped
        elif key == "PLpgSQL_stmt_execsql":
            yield "sql", str(value["sqlstmt"]["PLpgSQL_expr"]["query"]), looped
        elif key in _DYNAMIC and _DYNAMIC[key] in value:
            inner = looped or key in _LOOPS
            yield "execute", str(value[_DYNAMIC[key]]["PLpgSQL_expr"]["query"]), inner
            yield from _walk_code({k: v for k, v in value.items() if k != _DYNAMIC[key]}, inner)
        elif key == "PLpgSQL_stmt_call":
            yield "call", "", looped
        else:
            yield from _walk_code(value, looped or key in _LOOPS)


def _parse(kind: str, text: str) -> Any:
    """The statement a text runs or evaluates; a str: why it cannot be known."""
    if kind == "call":
        return "the block calls a procedure, which may write anything"
    try:
        if kind == "execute":
            return _constant_execute(text)
        return parse_sql(text)[0].stmt
    except (ParseError, IndexError):
        return f"a statement of the block does not parse: {clip(sql_excerpt(text), 60)}"


def _constant_execute(text: str) -> Any:
    """EXECUTE of a string constant is that statement; anything else cannot be known."""
    select: Any = parse_sql(f"SELECT {text}")[0].stmt
    value = select.targetList[0].val
    if not (isinstance(value, ast.A_Const) and isinstance(value.val, ast.String)):
        return "the block EXECUTEs a computed string: what it runs is known only then"
    statements = parse_sql(str(value.val.sval))
    if len(statements) != 1:
        return "the block EXECUTEs several statements in one string"
    return statements[0].stmt


def _calls(node: Any, names: frozenset[str]) -> str | None:
    for item in walk(node):
        if isinstance(item, ast.FuncCall):
            name = [str(p.sval) for p in item.funcname]
            if not is_builtin(name):
                return f"the block calls {'.'.join(name)}(), which may write"
    return None


def _setting(node: Any) -> str | None:
    if isinstance(node, ast.VariableSetStmt):
        return (
            "the block SETs or RESETs a setting (search_path names other tables): captures are "
            "taken before it runs"
        )
    return None


def _nested(node: Any) -> BlockWrite:
    """A write inside another statement (`WITH d AS (DELETE ...) SELECT ...`): not kept."""
    kind = type(node).__name__.removesuffix("Stmt").upper()
    reason = f"{kind} inside another statement (WITH ... AS ({kind} ...)): it is not kept"
    return BlockWrite(written_name(node.relation), type(node).__name__, manual=reason)


def _write(node: Any, looped: bool, names: frozenset[str]) -> list[BlockWrite]:
    statement = type(node).__name__
    if isinstance(node, ast.TruncateStmt):
        reason = "TRUNCATE in a DO block: what it empties is not kept before it"
        return [
            BlockWrite(written_name(rv), statement, manual=reason) for rv in node.relations or ()
        ]
    table = written_name(node.relation)
    if not isinstance(node, _KEPT):
        kind = statement.removesuffix("Stmt").upper()
        return [
            BlockWrite(table, statement, manual=f"{kind} in a DO block: what it adds is not kept")
        ]
    reads = tuple(r for r in _relations(node) if r != table)
    why = _variable_use(node, names) or _volatile(node)
    if looped:
        why = "it runs in a loop: each pass may change other rows"
    return [BlockWrite(table, statement, None if why else node, why, reads)]


def _variable_use(node: Any, names: frozenset[str]) -> str | None:
    for item in walk(node):
        if isinstance(item, ast.ParamRef):
            return "it reads a parameter of the block"
        if isinstance(item, ast.ColumnRef):
            first = getattr(item.fields[0], "sval", None)
            if first is not None and str(first).lower() in names:
                return f"it reads the block's variable {first}: its rows are known only then"
    return None


def _volatile(node: Any) -> str | None:
    parts = (
        node.whereClause,
        getattr(node, "fromClause", None),
        getattr(node, "usingClause", None),
    )
    for item in walk(parts):
        if (
            isinstance(item, ast.FuncCall)
            and str(item.funcname[-1].sval).lower() in VOLATILE_BUILTINS
        ):
            return "its WHERE calls a volatile function: its rows are known only then"
    return None


def _independent(writes: list[BlockWrite]) -> list[BlockWrite]:
    """A write whose rows another write of the block may change first is not kept."""
    out = []
    for i, write in enumerate(writes):
        others = {_bare(w.table) for j, w in enumerate(writes) if j != i}
        touched = {_bare(write.table), *(_bare(r) for r in write.reads)} & others
        if write.manual is None and touched:
            changed = ", ".join(sorted(touched))
            write = BlockWrite(
                write.table,
                write.statement,
                manual=f"another write of the block changes {changed} first",
            )
        out.append(write)
    return out


# The writes a table kept whole can follow (capture_diff.py): rows changed in place or added.
_IN_PLACE_OR_ADDED = frozenset({"UpdateStmt", "InsertStmt"})


def diffed_tables(writes: list[BlockWrite]) -> dict[QName, bool]:
    """The tables kept whole before the block and compared after it (capture_diff.py): those
    with a write whose rows are known only when it runs, and only UPDATEs or INSERTs of them;
    each with whether the block inserts into it."""
    out: dict[QName, bool] = {}
    for write in writes:
        same = [o.statement for o in writes if _bare(o.table) == _bare(write.table)]
        if write.node is None and set(same) <= _IN_PLACE_OR_ADDED:
            out[write.table] = out.get(write.table, False) or "InsertStmt" in same
    return out


def _bare(name: QName) -> str:
    return name[-1]


def _relations(node: Any) -> list[QName]:
    return list(dict.fromkeys(written_name(i) for i in walk(node) if isinstance(i, ast.RangeVar)))
