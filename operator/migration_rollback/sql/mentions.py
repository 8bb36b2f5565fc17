"""Which parse-tree nodes name an object, a column or a constraint, and where the name is.

One table read two ways: `trees` records the names as the parser makes each naming node of a
statement, and `touched` walks a tree it did not build (pglast's own build, or a subtree) for
the same names. Every statement of a project is asked what it mentions, so
the second walk over every tree was the largest part of `validate`'s own work.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any

from migration_rollback.sql._ast import ast
from migration_rollback.sql.names import strings

# The node classes that name something with one string: RangeVar always, the others when set.
NAME_ATTRS: dict[type, str] = {
    ast.RangeVar: "relname",
    ast.AlterTableCmd: "name",
    ast.ColumnDef: "colname",
    ast.Constraint: "conname",
}
# The node classes that name something with a dotted name list (the last part is the name).
QUALIFIED_NAME_ATTRS: dict[type, str] = {ast.ObjectWithArgs: "objname", ast.TypeName: "names"}


def add_names(node: Any, names: list[Any]) -> None:
    """Append the names `node` itself carries (not its children's) to `names`."""
    adder = NAMERS.get(type(node))
    if adder is not None:
        adder(node, names)


Namer = Callable[[Any, list[Any]], None]


def _namer(cls: type) -> Namer:
    """`add_names` for the nodes of one naming class, its attribute read without a look-up by
    class (the tree builder calls it for every naming node it makes)."""
    attr = NAME_ATTRS.get(cls)
    if attr is not None:
        read = attrgetter(attr)
        if cls is ast.RangeVar:  # named even when empty: a RangeVar always names a relation
            return lambda node, names: names.append(read(node))
        return lambda node, names: names.append(value) if (value := read(node)) else None
    parts = attrgetter(QUALIFIED_NAME_ATTRS[cls])
    return lambda node, names: names.extend(strings(parts(node))[-1:])


NAMERS: dict[type, Namer] = {cls: _namer(cls) for cls in (*NAME_ATTRS, *QUALIFIED_NAME_ATTRS)}
NAMING_CLASSES = frozenset(NAMERS)

# The names recorded while a statement's tree was built: id -> (the node, its names). pglast's
# nodes take no weak reference, so the entry keeps its tree alive: bounded (a project of 1,000
# migrations builds some 18,000 statements, its rollbacks included); past the bound, cleared,
# and a statement not found is walked instead.
_RECORDED: dict[int, tuple[Any, frozenset[str]]] = {}
_RECORDED_LIMIT = 50_000


def record(statement: Any, names: list[Any]) -> None:
    """Keep the names found in `statement`'s tree as it was built (bounded: cleared when full)."""
    if len(_RECORDED) >= _RECORDED_LIMIT:
        _RECORDED.clear()
    _RECORDED[id(statement)] = (statement, frozenset(names))


def recorded(statement: Any) -> frozenset[str] | None:
    """The names recorded for this very node when it was built, or None (walk it instead)."""
    hit = _RECORDED.get(id(statement))
    return hit[1] if hit is not None and hit[0] is statement else None
