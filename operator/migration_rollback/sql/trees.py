"""pglast's parse trees, built by pglast's own parser without pglast's checks on each node.

pglast's parser (Cython) reads libpg_query's C tree and makes each node by calling its class
in `pglast.ast`, whose `__init__` sets every attribute through a validating `__setattr__` (type
checks, coercions) that re-checks what the C parser already guarantees. What is rebound: the
parser module's globals `ast` and `enums`, once for the whole process, when this module is
imported: each node class becomes a function filling the node's slots as given (the `_ast`
builder), each enum class a look-up of its members by value. For whom: every caller of pglast's
parser in the process (`parse_sql`, `prettify`, other threads), not only `parse_trees`. Why it
is safe: the nodes, values, value types and positions are the very ones pglast makes
(`tests/unit/sql/test_trees.py` compares both builds node for node and checks each class's
argument order and coercions against pglast's own `__init__`), and nothing is ever put back, so
no parse, on any thread, meets a half-swapped parser and no lock serialises the parses (the C
parse releases the GIL).

Measured: the CPU time (`time.process_time`, best of 5) of `parse_trees` against `parse_sql`
with pglast's own classes, over the same texts, was 0.15 of it for the examples' SQL and 0.28
for 397 files of the corpus (2026-12-02, on a loaded machine).

The names each statement mentions are recorded on the way (`mentions`), for `parse_trees`' own
parses only, per thread: every naming node passes through its class's stand-in, and the
statement is done when its RawStmt is made. Rule: a stand-in never calls pglast (a parse begun
inside a stand-in would add its names to the statement being built).
"""

from __future__ import annotations

import contextlib
import enum
import threading
from collections.abc import Callable, Iterator
from typing import Any

from pglast import enums
from pglast import parser as _parser

from migration_rollback.sql import mentions
from migration_rollback.sql._ast import ast, builder


def parse_trees(text: str) -> tuple[Any, ...]:
    """`pglast.parse_sql(text)`: the RawStmt nodes (raises pglast's ParseError the same way),
    the names of each statement recorded."""
    outer = _NAMES.found  # a parse_trees begun by a stand-in: the outer one's names kept
    _NAMES.found = []
    try:
        return tuple(parser.parse_sql(text))
    finally:
        _NAMES.found = outer


@contextlib.contextmanager
def pglasts_own() -> Iterator[None]:
    """pglast's parser with its own node classes and enums, for the duration: the baseline a
    bench measures against, the build a test compares with. Process-wide, as the binding is:
    for where nothing else parses meanwhile (another parse would get the same nodes)."""
    parser.ast, parser.enums = ast, enums
    try:
        yield
    finally:
        _bind()


# The Cython module, whose globals `ast` and `enums` its node makers read on each call (its
# stub does not declare them).
parser: Any = _parser


class _Names(threading.local):
    """The names met so far in the statement this thread's `parse_trees` is parsing (None: no
    `parse_trees` under way on this thread, as for any other caller of pglast's parser)."""

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


def _bind() -> None:
    """Bind the stand-ins for the process (again: no change)."""
    parser.ast, parser.enums = _NODES, _ENUMS


_bind()
