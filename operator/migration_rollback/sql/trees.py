"""pglast's parse trees, built by pglast's own parser without pglast's checks: `parse_sql`'s
nodes in about a seventh of its time.

pglast's parser (Cython) reads libpg_query's C tree and makes each node by calling its class
in `pglast.ast`, whose `__init__` sets every attribute through a validating `__setattr__` (type
checks, coercions): nine tenths of a parse's time went there, re-checking what the C parser
already guarantees. While `parse_trees` runs, the parser's names `ast` and `enums` are bound to
stand-ins: each node class by a function that fills the node's slots as they are given (the
`_ast` builder), each enum class by a look-up of its members by value. The nodes, values and
positions are the very ones pglast makes (`tests/unit/sql/test_trees.py` compares the two
builds node for node); whatever else calls pglast's parser, outside this, is left as it was.

The names each statement mentions are recorded on the way (`mentions`): every naming node
passes through its class's stand-in, and the statement is done when its RawStmt is made.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable
from typing import Any

from pglast import enums
from pglast import parser as _parser

from migration_rollback.sql import mentions
from migration_rollback.sql._ast import ast, builder


def parse_trees(text: str) -> tuple[Any, ...]:
    """`pglast.parse_sql(text)`: the RawStmt nodes (raises pglast's ParseError the same way)."""
    # One parse at a time: the stand-ins are bound module-wide, and the names are recorded
    # for this thread's parse alone (another thread's pglast parse meanwhile gets the same
    # nodes from the stand-ins, and records nothing).
    with _LOCK:
        parser.ast, parser.enums = _NODES, _ENUMS
        _NAMES.found = []
        try:
            return tuple(parser.parse_sql(text))
        finally:
            parser.ast, parser.enums = ast, enums
            _NAMES.found = None


_LOCK = threading.Lock()
# The Cython module, whose globals `ast` and `enums` its node makers read on each call (its
# stub does not declare them).
parser: Any = _parser


class _Names(threading.local):
    """The names met so far in the statement this thread is parsing (None: not parsing)."""

    found: list[Any] | None = None


_NAMES = _Names()


class _Standins:
    """Attributes looked up by name on first use, then kept: what `make` says for each."""

    def __init__(self, make: Callable[[str], Any]) -> None:
        self._make = make

    def __getattr__(self, name: str) -> Any:
        found = self._make(name)
        setattr(self, name, found)
        return found


def _node_maker(name: str) -> Any:
    """The stand-in of one node class: the node made of the values given, in slot order."""
    cls = getattr(ast, name)
    if not (isinstance(cls, type) and issubclass(cls, ast.Node)):
        return cls  # not a node class: as pglast has it
    build = builder(cls)
    if cls is ast.RawStmt:
        return _statement_maker(build)
    if cls is ast.Boolean:  # the one value the parser passes as C has it (an int): coerced
        return lambda boolval=None: build(None if boolval is None else bool(boolval))
    namer = mentions.NAMERS.get(cls)
    if namer is None:
        return build

    def named(*values: Any) -> Any:
        node = build(*values)
        found = _NAMES.found
        if found is not None:
            namer(node, found)
        return node

    return named


def _statement_maker(build: Callable[..., Any]) -> Callable[..., Any]:
    """RawStmt's stand-in: its statement, made before it, takes the names met since the last."""

    def statement(stmt: Any = None, *rest: Any) -> Any:
        found = _NAMES.found
        if found is not None:
            if stmt is not None:
                mentions.record(stmt, found)
            found.clear()
        return build(stmt, *rest)

    return statement


def _enum_maker(name: str) -> Any:
    """The stand-in of one enum class: its member of a value, by one dict look-up (the class
    itself called on a value it has no member for, as pglast calls it)."""
    cls = getattr(enums, name)
    if not (isinstance(cls, type) and issubclass(cls, enum.Enum)):
        return cls
    return _Members(cls).__getitem__


class _Members(dict[Any, Any]):
    def __init__(self, cls: type[enum.Enum]) -> None:
        super().__init__(cls._value2member_map_)
        self.cls = cls

    def __missing__(self, value: Any) -> Any:
        return self.cls(value)


_NODES = _Standins(_node_maker)
_ENUMS = _Standins(_enum_maker)
