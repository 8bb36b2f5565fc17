"""Refuse a SQL text too large for the parse trees, before a tree is built.

A statement nested tens of thousands deep (`1+1+...`) crashes pglast's C code that builds its
tree, and the engine's recursive walkers fail from about a thousand levels; millions of
statements hold the machine for minutes. Both are checked on the scanner's output (C, no
tree): the number of statements, and an upper estimate of each long statement's depth.

The estimate: every token deepens the tree by at most one level, except the ones PostgreSQL's
grammar keeps at one level (a `,` of a list, `AND`/`OR` chains, which it flattens, `CASE`'s
`WHEN`/`THEN`/`ELSE`); a `(` opens four levels of its own (a subquery's are deeper than its
tokens), its `)` goes back to the level before.
"""

from __future__ import annotations

from typing import Protocol

from pglast.parser import ParseError, scan, split

from migration_rollback.errors import InputLimitError, SourceLocation
from migration_rollback.input_limits import (
    NESTING_ENV,
    NESTING_OPTION,
    STATEMENTS_ENV,
    STATEMENTS_OPTION,
    InputLimits,
    how_to_raise,
)

# A `(` may open a subquery (a SubLink, its SelectStmt, a target...): measured, the engine
# walks 200 nested `(select` and fails at 250; counted 5 levels each, about 200 pass.
_PAREN_LEVELS = 4
_OPEN, _CLOSE = "ASCII_40", "ASCII_41"
_FLAT = frozenset({"ASCII_44", "ASCII_59", "AND", "OR", "WHEN", "THEN", "ELSE"})


class Locate(Protocol):
    """The 1-based line and column of an offset (sql.parse.LineIndex)."""

    def locate(self, offset: int) -> tuple[int, int]: ...


def check_size(text: str, source: str, limits: InputLimits, locate: Locate) -> None:
    """InputLimitError naming file:line when the text holds too many statements or one too
    deeply nested; nothing when it does not split (the parse reports that, located)."""
    if text.count(";") < limits.statements and len(text) <= limits.nesting:
        return  # the common case: no split needed
    try:
        spans = split(text, with_parser=False, only_slices=True)
    except ParseError:
        return
    if len(spans) > limits.statements:
        _refuse_count(spans[limits.statements].start, len(spans), source, limits, locate)
    for span in spans:
        if span.stop - span.start > limits.nesting:
            depth = estimated_depth(text[span])
            if depth > limits.nesting:
                _refuse_depth(span.start, depth, source, limits, locate)


def estimated_depth(statement: str) -> int:
    """An upper estimate of the statement's tree depth (see the module's docstring)."""
    try:
        tokens = scan(statement)
    except ParseError:
        return 0
    runs, total, deepest = [0], 0, 0
    for token in tokens:
        name = token.name
        if name == _OPEN:
            runs.append(0)
        elif name == _CLOSE and len(runs) > 1:
            total -= runs.pop()
        elif name in _FLAT:
            total -= runs[-1]
            runs[-1] = 0
        else:
            runs[-1] += 1
            total += 1
        deepest = max(deepest, total + _PAREN_LEVELS * (len(runs) - 1))
    return deepest


def _refuse_count(at: int, count: int, source: str, limits: InputLimits, locate: Locate) -> None:
    _refuse(at, source, locate,
        f"the file holds {count} statements, more than the limit of {limits.statements} "
        f"(this is the first past it): split it into several migrations, "
        + how_to_raise(STATEMENTS_OPTION, STATEMENTS_ENV),
    )  # fmt: skip


def _refuse_depth(at: int, depth: int, source: str, limits: InputLimits, locate: Locate) -> None:
    _refuse(at, source, locate,
        f"this statement nests about {depth} levels deep, more than the limit of "
        f"{limits.nesting}: the parser and the engine cannot build or walk it; simplify it "
        f"(e.g. a long chain of + or || into a function or a list), "
        + how_to_raise(NESTING_OPTION, NESTING_ENV),
    )  # fmt: skip


def _refuse(at: int, source: str, locate: Locate, message: str) -> None:
    line, column = locate.locate(at)
    raise InputLimitError(SourceLocation(source, line, column), message)
