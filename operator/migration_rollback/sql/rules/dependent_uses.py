"""Which objects and columns a definition uses, read from its parse tree with schemas resolved.

A DROP … CASCADE took what used the object dropped, and dependents.py recreates those. Matched
on the words of their text, a trigger calling `audit.touch()` was taken as using `public.touch`
(recreated while it still existed: the rollback failed), and an index whose WHERE says
`'email'` as using column email. Names are read here where the tree says them (a relation, a
call, a type, a regclass literal), unqualified ones in the schema the definition was written
under; columns are the tree's column references, not its strings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from migration_rollback.sql._ast import ast
from migration_rollback.sql.names import DEFAULT_SCHEMA, strings
from migration_rollback.sql.touched import walk

if TYPE_CHECKING:
    from migration_rollback.sql.history import Definition

Qualified = tuple[str, str]  # (schema, name), lowercased


def uses_object(definition: Definition, schema: str, name: str) -> bool:
    """Whether `definition` names the object `schema.name` (of a routine: its signature)."""
    return (schema.lower(), name.lower()) in _names(definition)


def uses_column(definition: Definition, schema: str, table: str, column: str) -> bool:
    """Whether `definition` reads column `column` of `schema.table` (or all of them, `*`):
    a reference to it where the table is in the tree, a trigger's `UPDATE OF` it."""
    home = _home(definition)
    aliases, wanted = {table.lower()}, (schema.lower(), table.lower())
    found = False
    for node in walk(definition.node):
        if isinstance(node, ast.RangeVar) and _resolved(node, home) == wanted:
            found = True
            if node.alias is not None:
                aliases.add(str(node.alias.aliasname).lower())
        elif isinstance(node, ast.CreateTrigStmt):
            aliases |= {"new", "old"}
    if not found:
        return False
    used = _columns(definition.node, aliases)
    return column.lower() in used or "*" in used


def index_columns(tree: Any) -> frozenset[str]:
    """The columns an index's keys, INCLUDE list and WHERE clause read."""
    named = [e.name for e in (tree.indexParams or ()) + (tree.indexIncludingParams or ())]
    refs = _columns(tree, None)
    return frozenset(str(n).lower() for n in named if n) | refs


def _columns(root: Any, qualifiers: set[str] | None) -> frozenset[str]:
    """The column names of `root`'s column references (and trigger column lists); with
    `qualifiers`, a qualified one only when its qualifier is among them."""
    found: set[str] = set()
    for node in walk(root):
        if isinstance(node, ast.CreateTrigStmt):
            found.update(s.lower() for s in strings(node.columns or ()))
        if not isinstance(node, ast.ColumnRef):
            continue
        fields = node.fields
        last = fields[-1]
        name = "*" if isinstance(last, ast.A_Star) else str(getattr(last, "sval", "")).lower()
        if len(fields) > 1 and qualifiers is not None and _qualifier(fields) not in qualifiers:
            continue  # another relation's column of the same name
        found.add(name)
    return frozenset(found)


def _names(definition: Definition) -> frozenset[Qualified]:
    home = _home(definition)
    tree = definition.tree
    if isinstance(tree, ast.CreateFunctionStmt):  # a body's names are no dependency
        roots: Any = (tree.returnType, tree.parameters)
    else:
        roots = definition.node
    found: set[Qualified] = set()
    for node in walk(roots):
        if isinstance(node, ast.RangeVar):
            found.add(_resolved(node, home))
        elif isinstance(node, ast.FuncCall | ast.CreateTrigStmt):
            found.add(_dotted(strings(node.funcname), home))
        elif isinstance(node, ast.TypeName):
            found.add(_dotted(strings(node.names), home))
        elif isinstance(node, ast.A_Const) and _nameish(node.val):
            found.add(_dotted(node.val.sval.split("."), home))  # nextval('public.s')
    return frozenset(found)


def _nameish(value: Any) -> bool:
    """A string constant that reads as a dotted name (a regclass, a sequence's name)."""
    if not isinstance(value, ast.String) or not value.sval or len(value.sval) > 130:
        return False
    return all(part.isidentifier() for part in value.sval.split("."))


def _qualifier(fields: Any) -> str:
    return str(getattr(fields[-2], "sval", "")).lower()


def _home(definition: Definition) -> str:
    """The schema an unqualified name of the definition was looked up in first."""
    first = (definition.search_path or DEFAULT_SCHEMA).split(",")[0]
    return first.strip().strip('"').lower() or DEFAULT_SCHEMA


def _resolved(rel: Any, home: str) -> Qualified:
    return (str(rel.schemaname or home).lower(), str(rel.relname).lower())


def _dotted(parts: Any, home: str) -> Qualified:
    names = [str(p).lower() for p in parts]
    if not names:
        return ("", "")
    return (names[-2] if len(names) > 1 else home, names[-1])
