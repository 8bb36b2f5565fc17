"""Statements no event trigger reports: seen at the top level, or in code the migration runs.

The change capture (capture.py) learns what DDL touched from event triggers, and some
statements that change what a snapshot holds fire none, or report less than they change:
REASSIGN OWNED (owners), ALTER ROLE ... RENAME (every owner and privilege naming the role),
DROP OWNED (the privileges it revokes: only the objects it drops are reported), CLUSTER ... USING
(which index of the table is marked clustered), and a write to a system catalog (any row). At
the top level they are read from the parse trees. Run where no top-level statement shows them -
in a DO block, in a function or procedure the migration calls (followed through the functions
their code names), or built by dynamic SQL, whose text nobody can read beforehand - they are
found by a conservative rule on the code's text: code that may run one of them, or runs
EXECUTE, makes the check compare full snapshots. A false full check costs time; a missed
statement could verify a wrong rollback.

What PostgreSQL runs on the migration's behalf where its text shows no call (a trigger, a
rule, an event trigger, a DEFAULT, an operator...) is not guessed here: the server says which
functions ran (ran_code.py), and their code is read with `code_reason`. What runs as no
function and may be gone by the check is read here: a rule or a view over a catalog the
statements create.

Pure: the caller hands in `Lookup`, the code of the functions a name may mean (the kept model's,
the check adds those the statements themselves create). Ordinary migrations pay a walk of the
trees of the statements that may call code and a dictionary lookup per call.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from pglast.enums.parsenodes import ObjectType

from migration_rollback.sql._ast import ast
from migration_rollback.sql.touched import walk
from migration_rollback.sql.tree_facts import WRITES as _WRITES
from migration_rollback.sql.tree_facts import tree_facts

# A function's name (as written, last part) -> the code of every function it may mean.
Lookup = Callable[[str], Sequence[str]]


def no_functions(_name: str) -> Sequence[str]:
    return ()


# In code, what may run a statement no event trigger reports: the statements themselves, and
# dynamic SQL (PL/pgSQL's EXECUTE, plpython's plpy.execute, plperl's and pltcl's spi_exec*), and
# a change of the setting the check learns what ran from (ran_code.py). Between words: blanks
# or comments (`reassign/**/owned` runs as REASSIGN OWNED).
_GAP = r"(?:\s|/\*.*?\*/|--[^\n]*(?:\n|$))+"
_HIDDEN_IN_CODE = re.compile(
    rf"""\b(?:
        (?P<dynamic>execute|spi_exec\w*)\b
      | (?P<owned>reassign{_GAP}owned|drop{_GAP}owned)\b
      | (?P<role>alter{_GAP}(?:role|user|group))\b
      | (?P<catalog>(?:update|insert{_GAP}into|delete{_GAP}from|merge{_GAP}into|copy)
            {_GAP}(?:only{_GAP})?(?:"?pg_catalog"?{_GAP}?\.{_GAP}?)?"?pg_\w+)
      | (?P<tracking>track_functions)
      | (?P<cluster>cluster)
    )""",
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)
_WHAT = {
    "dynamic": "dynamic SQL",
    "owned": "REASSIGN/DROP OWNED",
    "role": "ALTER ROLE",
    "catalog": "a write to a system catalog",
    "tracking": "a change of track_functions",
    "cluster": "CLUSTER",
}
# A call in code: a name before "(" (a keyword too: it names no function, and costs a lookup).
_CALLED = re.compile(r'"?([A-Za-z_][\w$]*)"?\s*\(')
_MAX_FUNCTIONS = 64  # code followed through at most this many definitions; past it, full check


def reasons(nodes: Iterable[Any], functions: Lookup = no_functions) -> list[str]:
    """Why the statements `nodes` may change what no event trigger reports (empty: nothing)."""
    nodes = list(nodes)
    out = [r for node in nodes for r in top_level(node)]
    if writes_rows(nodes):  # a view over a catalog may pass a write on, and be gone by the end
        out += [f"a write may go through view {name} over a system catalog" for name in
                catalog_views(nodes)]  # fmt: skip
    lookup = _with_created(nodes, functions)
    for node in nodes:
        out.extend(_code_reasons(node, lookup))
    return list(dict.fromkeys(out))


def top_level(node: Any) -> list[str]:
    """The statement itself, when no event trigger reports (all of) what it changes."""
    if isinstance(node, ast.ReassignOwnedStmt):
        return ["REASSIGN OWNED"]
    if isinstance(node, ast.DropOwnedStmt):
        return ["DROP OWNED"]
    if isinstance(node, ast.RenameStmt) and node.renameType == ObjectType.OBJECT_ROLE:
        return ["ALTER ROLE RENAME"]
    if isinstance(node, _WRITES) and _is_catalog(node.relation):
        return [f"a write to {node.relation.relname}"]
    if isinstance(node, ast.CopyStmt) and node.is_from and _is_catalog(node.relation):
        return [f"a COPY into {node.relation.relname}"]
    if isinstance(node, ast.VariableSetStmt) and _tracking(node.name):
        return ["a change of track_functions"]
    if isinstance(node, ast.ClusterStmt) and node.indexname:  # marks the index clustered
        return ["CLUSTER ... USING"]
    if isinstance(node, ast.RuleStmt):  # it may fire in this transaction and be gone by its end
        return [f"a rule writing {name}" for name in dict.fromkeys(_catalog_writes(node))]
    return []


def _tracking(name: Any) -> bool:
    """SET/RESET of the setting ran_code.py reads what ran by (RESET ALL gives it back)."""
    return str(name or "").lower() == "track_functions"


def catalog_views(nodes: Iterable[Any]) -> list[str]:
    """The views the statements create whose query reads a system catalog (one may be
    auto-updatable: a write to it is a write to the catalog)."""
    out: list[str] = []
    for node in nodes:
        if isinstance(node, ast.ViewStmt) and any(
            isinstance(child, ast.RangeVar) and _is_catalog(child) for child in walk(node.query)
        ):
            out.append(str(node.view.relname))
    return out


# A view's definition (pg_get_viewdef) reading a system catalog: as FROM or JOIN names it.
_READS_CATALOG = re.compile(r'\b(?:from|join)\s+(?:"?pg_catalog"?\.)?"?pg_\w+', re.IGNORECASE)


def reads_catalog(definition: str) -> bool:
    return _READS_CATALOG.search(definition) is not None


def writes_rows(nodes: Iterable[Any]) -> bool:
    """Whether the statements may write rows: DML anywhere in their trees (a CTE, a rule's
    action), a COPY FROM, or a DO block (whose code is not parsed)."""
    return any(isinstance(node, ast.DoStmt) or tree_facts(node).writes for node in nodes)


def _is_catalog(rv: Any) -> bool:
    """pg_catalog's tables, named with or without their schema (a pg_ name resolves there
    first unless the search_path says otherwise: conservative)."""
    if rv is None or not str(rv.relname).startswith("pg_"):
        return False
    return rv.schemaname in (None, "pg_catalog")


def _code_reasons(node: Any, lookup: Lookup) -> Iterator[str]:
    """A DO block's code, and the code of what the statement calls."""
    if isinstance(node, ast.CreateFunctionStmt):
        return  # defined, not run (a call runs it: found then)
    if isinstance(node, ast.DoStmt):
        body = _option(node.args, "as") or ""
        found = code_reason(body, lookup)
        if found is not None:
            yield f"a DO block running {found}"
        return
    for name in _calls(node):
        if name.startswith("set_config("):
            yield "a change of track_functions"
            continue
        found = _called_reason(name, lookup, set())
        if found is not None:
            yield f"{name}() running {found}"


def _calls(node: Any) -> list[str]:
    facts = tree_facts(node)
    names = [name for _schema, name in facts.calls]
    if any(_tracking(literal) for literal in facts.literals):
        names.append("set_config('track_functions')")  # no function's name: found by its code
    return names


def code_reason(code: str, lookup: Lookup, seen: set[str] | None = None) -> str | None:
    """What in `code`, or in a function it names, may run a statement no event trigger
    reports (None: nothing)."""
    seen = set() if seen is None else seen
    match = _HIDDEN_IN_CODE.search(code)
    if match is not None:
        return _WHAT[str(match.lastgroup)]
    for name in dict.fromkeys(m.group(1) for m in _CALLED.finditer(code)):
        found = _called_reason(name, lookup, seen)
        if found is not None:
            return f"{found} (in {name}())"
    return None


def _called_reason(name: str, lookup: Lookup, seen: set[str]) -> str | None:
    for key in dict.fromkeys((name, name.lower())):
        if key in seen:
            continue
        seen.add(key)
        if len(seen) > _MAX_FUNCTIONS:
            return "more code than is followed"
        for code in lookup(key):
            found = code_reason(code, lookup, seen)
            if found is not None:
                return found
    return None


def _with_created(nodes: Sequence[Any], functions: Lookup) -> Lookup:
    """`functions`, and the functions and procedures the statements create (not in the model
    yet), whose code runs when a later statement calls them."""
    created: dict[str, list[str]] = {}
    for node in nodes:
        if isinstance(node, ast.CreateFunctionStmt):
            name = str(node.funcname[-1].sval)
            created.setdefault(name, []).append(_function_code(node))
    if not created:
        return functions

    def lookup(name: str) -> Sequence[str]:
        return [*created.get(name, ()), *functions(name)]

    return lookup


def created_code(nodes: Iterable[Any]) -> list[tuple[str, str]]:
    """The (language, code) of each function or procedure the statements create."""
    return [
        (_language(node), _function_code(node))
        for node in nodes
        if isinstance(node, ast.CreateFunctionStmt)
    ]


def _language(node: Any) -> str:
    """A CREATE FUNCTION's language (SQL when it has a SQL-standard body and says none)."""
    return (_option(node.options, "language") or "sql").lower()


# Code in these languages is read as text; in another one it is unknown (ran_code.py says
# which run), but C: the code of extensions a superuser installed, which a call names.
_READABLE = frozenset({"plpgsql", "sql", "c", "internal"})


def _function_code(node: Any) -> str:
    """A CREATE FUNCTION's code as text: its AS string, or its SQL-standard body's calls and
    writes (read as the statements they are); code in a language not read, as a dynamic
    statement (nothing can say what it runs)."""
    if _language(node) not in _READABLE:
        return "execute"
    code = _option(node.options, "as")
    if code is not None:
        return code
    if node.sql_body is None:
        return ""
    parts = [f"{name}()" for name in _calls(node.sql_body)]
    parts += [f"update {r}" for r in _catalog_writes(node.sql_body)]
    return "\n".join(parts)


def _catalog_writes(root: Any) -> Iterator[str]:
    for child in walk(root):
        if isinstance(child, _WRITES) and _is_catalog(child.relation):
            yield str(child.relation.relname)


def _option(options: Any, name: str) -> str | None:
    """A DefElem list's string option (a C function's AS is two strings: its symbol last)."""
    for option in options or ():
        if option.defname != name:
            continue
        value = option.arg
        if isinstance(value, tuple | list):
            return "\n".join(str(getattr(v, "sval", "")) for v in value)
        return str(getattr(value, "sval", "")) or None
    return None
