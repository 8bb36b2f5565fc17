"""Names of objects in pglast parse trees, resolved the way PostgreSQL would resolve them.

Unqualified names are qualified with the schema a migration's `SET search_path` selects
(`public` by default; a reference to an existing object along the whole path:
search_path.py), and names PostgreSQL invents for unnamed indexes and constraints are
derived with its own rule, so rollbacks always name exactly one object.
"""

from __future__ import annotations

import itertools
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from typing import Any

from pglast.enums.parsenodes import FunctionParameterMode, VariableSetKind
from pglast.visitors import Ancestor

from migration_rollback.sql._ast import ast, branch_slots, changed
from migration_rollback.sql.compose import qualified
from migration_rollback.sql.model import ObjectRef
from migration_rollback.sql.printing import direct_text
from migration_rollback.sql.syntax_stream import SyntaxStream

DEFAULT_SCHEMA = "public"
NAMEDATALEN = 63


def strings(nodes: Iterable[Any] | None) -> list[str]:
    """The sval of each String node in a name list (`('s', 't')`)."""
    return [n.sval for n in nodes or () if isinstance(n, ast.String)]


def split_qualified(parts: Sequence[str], default_schema: str) -> tuple[str, str]:
    """(schema, name) from a dotted name list; a database prefix is ignored."""
    if len(parts) >= 2:
        return parts[-2], parts[-1]
    return default_schema, parts[-1]


def relation(rv: Any, default_schema: str, kind: str = "table") -> ObjectRef:
    return ObjectRef(kind=kind, schema=rv.schemaname or default_schema, name=rv.relname)


def table_key(rel: ObjectRef) -> tuple[str, str]:
    """(schema, name) of a relation: what keys the history's per-table records."""
    return str(rel.schema), rel.name


def deparse(node: Any) -> str:
    """SQL text for a parse tree node or a tuple of them, as pglast prints it (`RawStream()`).

    pglast's printers read each node's ancestors. `RawStream()(node)` sets them with a visitor
    that rebuilds its dispatch table (`inspect.getmembers`) on every call, most of the cost of
    printing a small node; the walk below sets the same ancestors without it, and the items of
    a tuple (a name list) are printed the way `RawStream.__call__` prints them.
    """
    direct = direct_text(node)  # a flipped GRANT or COMMENT: written from its parts
    if direct is not None:
        return direct
    tree = (node,) if isinstance(node, ast.Node) else node
    if not (isinstance(tree, tuple) and tree and isinstance(tree[0], ast.Node)):
        return str(SyntaxStream()(node))  # pglast's own answer: empty, or its error
    _set_ancestors(tree)
    stream = SyntaxStream()
    first = True
    for item in tree:
        if isinstance(item, ast.RawStmt) and item.stmt is None:
            continue
        if not first:
            stream.write(";")
            stream.newline()
            for _ in range(stream.separate_statements):
                stream.newline()
        first = False
        stream.print_node(item)
    return str(stream.getvalue())


def _set_ancestors(tree: tuple[Any, ...]) -> None:
    """What `pglast.visitors.populate_ancestors` does: every node gets its ancestry chain.

    The same breadth-first walk as pglast's `Visitor.iterate` (a node reached twice keeps the
    chain of its last visit, as there), without a generator resumed for every node.
    """
    put = object.__setattr__  # `ancestors` is no declared field: pglast's check passes it on
    branch = (tuple, ast.Node)
    todo: deque[tuple[Ancestor, Any]] = deque([(Ancestor(), tree)])
    while todo:
        ancestors, node = todo.popleft()
        is_sequence = isinstance(node, tuple)
        for index, sub in enumerate(node if is_sequence else (node,)):
            sub_ancestors = ancestors / (node, index) if is_sequence else ancestors
            if isinstance(sub, ast.Node):
                put(sub, "ancestors", sub_ancestors)
                for member in branch_slots(type(sub)):  # no other field holds a subtree
                    value = getattr(sub, member)
                    if isinstance(value, branch):
                        todo.append((sub_ancestors / (sub, member), value))
            elif isinstance(sub, tuple):
                for i, value in enumerate(sub):
                    if isinstance(value, branch):
                        todo.append((sub_ancestors / (sub, i), value))


def type_name(node: Any) -> str:
    return deparse(node)


# Built-in types spelled by their internal name, which pglast prints as written (`int4`), while
# the SQL spelling (`integer`, `int`) comes out as the standard name: one spelling per type, so
# `f(int4)` and `f(integer)` are one routine.
_INTERNAL_NAMES = {
    "int4": "integer", "int2": "smallint", "int8": "bigint", "float4": "real",
    "float8": "double precision", "bool": "boolean", "decimal": "numeric",
    "timestamptz": "timestamp with time zone", "timetz": "time with time zone",
    "bpchar": "char", "varbit": "bit varying",
}  # fmt: skip


# Built-in element types whose array type PostgreSQL names `_<element>`: `f(_text)` is
# `f(text[])`. Only these: a user type may itself be named with a leading underscore.
_ARRAY_OF = frozenset({
    *_INTERNAL_NAMES, *_INTERNAL_NAMES.values(), "text", "varchar", "bpchar", "char", "name",
    "numeric", "date", "timestamp", "time", "interval", "uuid", "json", "jsonb", "bytea",
    "inet", "cidr", "oid", "regclass", "bit", "varbit", "money", "xml",
})  # fmt: skip
_BOUNDS = re.compile(r"\[\d*\]")


def arg_type_name(node: Any) -> str:
    """An argument's type as a routine's identity says it: PostgreSQL keys a routine by its
    argument types without their modifiers (`f(varchar)` is `f(character varying(10))`),
    array bounds (`text[3]` is `text[]`) or spelling (see _INTERNAL_NAMES, _ARRAY_OF)."""
    names = strings(getattr(node, "names", None) or ())
    if getattr(node, "typmods", None) is not None:
        node = changed(node, typmods=None)
    text = _BOUNDS.sub("[]", type_name(node))
    head, _, rest = text.partition("[")
    last = names[-1] if names else ""
    unqualified = len(names) == 1 or (len(names) == 2 and names[0] == "pg_catalog")
    if unqualified and not rest and last.startswith("_") and last[1:] in _ARRAY_OF:
        head, rest = last[1:], "]"
    if unqualified:
        head = _INTERNAL_NAMES.get(head, head)
    return head + (f"[{rest}" if rest else "")


def function_args(parameters: Iterable[Any] | None, *, with_out: bool = False) -> str:
    """The identity argument list of a function: IN, INOUT and VARIADIC types only (OUT too
    `with_out`: the full list a procedure may also be named by)."""
    kept: list[str] = []
    skipped = {FunctionParameterMode.FUNC_PARAM_TABLE}
    if not with_out:
        skipped.add(FunctionParameterMode.FUNC_PARAM_OUT)
    for param in parameters or ():
        mode = getattr(param, "mode", None)
        if mode in skipped:
            continue
        text = arg_type_name(param.argType)
        if mode == FunctionParameterMode.FUNC_PARAM_VARIADIC:
            text = f"VARIADIC {text}"
        kept.append(text)
    return ", ".join(kept)


_PUBLIC_ARG = re.compile(r"(^|, )(VARIADIC )?public\.")


def public_unsaid(ref: ObjectRef) -> ObjectRef:
    """`ref` with the schema `public` left out of its argument types: one routine is `f(t)`
    in one migration and `f(public.t)` in another (the search_path finds `t` in public), and
    the history knows it by either (History.identity)."""
    if not ref.args or "public." not in ref.args:
        return ref
    return replace(ref, args=_PUBLIC_ARG.sub(r"\1\2", ref.args))


def object_with_args(owa: Any, default_schema: str, kind: str = "function") -> ObjectRef:
    schema, name = split_qualified(strings(owa.objname), default_schema)
    # A prefix operator's missing left operand is None in the tree, NONE in SQL: `-(NONE, int)`.
    args = (
        None
        if owa.args_unspecified
        else ", ".join("NONE" if t is None else arg_type_name(t) for t in owa.objargs or ())
    )
    return ObjectRef(kind=kind, schema=schema, name=name, args=args)


def truncate_identifier(name: str) -> str:
    encoded = name.encode()
    if len(encoded) <= NAMEDATALEN:
        return name
    return encoded[:NAMEDATALEN].decode(errors="ignore")


def choose_name(
    table: str, columns: Sequence[str], suffix: str, taken: Callable[[str], bool] | None = None
) -> str:
    """PostgreSQL's ChooseRelationName/ChooseConstraintName: a name `taken` already says is in
    use gets a counter after the suffix (`t_a_idx1`), the other parts cut to make room."""
    for count in itertools.count():
        name = _made_name(table, columns, f"{suffix}{count or ''}")
        if taken is None or not taken(name):
            return name
    raise AssertionError("unreachable")


def _made_name(table: str, columns: Sequence[str], suffix: str) -> str:
    """makeObjectName: the longer of table and columns cut until the name fits NAMEDATALEN."""
    name1 = table
    name2 = "_".join(columns) if columns else ""
    budget = NAMEDATALEN - len(suffix.encode()) - 1 - (1 if name2 else 0)
    while len(name1.encode()) + len(name2.encode()) > budget:
        if len(name1.encode()) > len(name2.encode()):
            name1 = name1.encode()[:-1].decode(errors="ignore")
        else:
            name2 = name2.encode()[:-1].decode(errors="ignore")
    return "_".join(p for p in (name1, name2, suffix) if p)


def index_column_names(params: Iterable[Any] | None) -> list[str]:
    names: list[str] = []
    for elem in params or ():
        if isinstance(elem, ast.IndexElem):
            names.append(elem.name or elem.indexcolname or "expr")
    return names


def qualified_name(schema: str | None, name: str) -> str:
    return qualified(schema, name).as_string()


RUN_TIME = "\x00run time"  # a search_path set to a value the text does not hold


def set_config_schema(node: Any) -> str | None:
    """The first schema of the search_path a `set_config('search_path', 'a, b', …)` the
    statement calls sets, as `SET search_path` (search_path_schema): "" for an empty path
    (unqualified names go nowhere: no default changes), RUN_TIME when the setting's name or
    value is not a constant; None when it calls none."""
    schemas = set_config_schemas(node)
    return None if schemas is None else next(iter(schemas), "")


def set_config_schemas(node: Any) -> tuple[str, ...] | None:
    """Every schema of that path, in order (set_config_schema; (RUN_TIME,) at run time)."""
    found = None
    for call in set_config_calls(node):
        args = list(call.args or ())
        setting = _constant(args[0]) if args else None
        if setting is not None and setting.lower() != "search_path":
            continue
        value = _constant(args[1]) if setting is not None and len(args) > 1 else None
        found = (RUN_TIME,) if value is None else path_schemas(value, fold=True)
    return found


def set_config_calls(node: Any) -> Iterator[Any]:
    """The calls of set_config (bare or pg_catalog's) anywhere in a statement."""
    if isinstance(node, ast.FuncCall):
        names = [n.lower() for n in strings(node.funcname)]
        if names[-1] == "set_config" and names[:-1] in ([], ["pg_catalog"]):
            yield node
    if isinstance(node, ast.Node):
        for attr in node:
            yield from set_config_calls(getattr(node, attr))
    elif isinstance(node, tuple | list):
        for item in node:
            yield from set_config_calls(item)


def _constant(node: Any) -> str | None:
    value = getattr(node, "val", None) if isinstance(node, ast.A_Const) else None
    sval = getattr(value, "sval", None)
    return None if sval is None else str(sval)


# The role's own schema in a path: PostgreSQL skips it when no schema has the role's name,
# the usual case (a migration's role is postgres or supabase_admin), so it is skipped here too.
_USER = "$user"


def path_schemas(value: str, *, fold: bool = False) -> tuple[str, ...]:
    """The schemas of a search_path value written as one string ('a, "B"'), $user left out;
    `fold`: an unquoted name in lower case, as the server reads set_config's value."""
    parts = (part.strip() for part in value.split(","))
    named = (p.strip('"') if p.startswith('"') or not fold else p.lower() for p in parts)
    return tuple(schema for schema in named if schema and schema != _USER)


def search_path_schemas(node: Any) -> tuple[str, ...]:
    """Every schema of `SET search_path TO a, b`, in order; () for another setting."""
    if (node.name or "").lower() != "search_path":
        return ()
    found: list[str] = []
    for arg in node.args or ():
        sval = getattr(getattr(arg, "val", None), "sval", None)
        if sval is not None:
            found.extend(path_schemas(str(sval)))
    return tuple(found)


def search_path_schema(node: Any) -> str | None:
    """The first schema of `SET search_path TO a, b` (None when it sets an empty path)."""
    schemas = search_path_schemas(node)
    return schemas[0] if schemas else None


def resets_search_path(node: Any) -> bool:
    """`RESET search_path`, `SET search_path TO DEFAULT`, `RESET ALL`: the path a session
    starts with again, where unqualified names go to public."""
    if node.kind == VariableSetKind.VAR_RESET_ALL:
        return True
    reset = node.kind in (VariableSetKind.VAR_RESET, VariableSetKind.VAR_SET_DEFAULT)
    return reset and (node.name or "").lower() == "search_path"
