"""Answers worked out from one parse tree, kept with the tree.

The generator asks some questions of a statement several times (the undo of a GRANT asks what
it names some fifteen times), and the history asks them again when it learns from the same
statement. The trees live as long as the command, so an answer is kept by the tree's identity
(the tree itself held, so that an id is never reused while its answer is kept), for the
default schema it was asked under. The keeping is bounded: past its size it starts afresh.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
_SIZE = 4096


def per_tree(fn: Callable[[Any, str], T]) -> Callable[[Any, str], T]:
    """`fn(node, default_schema)`, computed once per tree and schema."""
    kept: dict[int, tuple[Any, str, T]] = {}

    @functools.wraps(fn)
    def answer(node: Any, default_schema: str) -> T:
        hit = kept.get(id(node))
        if hit is not None and hit[0] is node and hit[1] == default_schema:
            return hit[2]
        found = fn(node, default_schema)
        if len(kept) >= _SIZE:
            kept.clear()
        kept[id(node)] = (node, default_schema, found)
        return found

    return answer
