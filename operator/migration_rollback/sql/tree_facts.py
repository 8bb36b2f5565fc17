"""What the verifier asks of a statement's parse tree, read in one walk and kept with the tree.

A round trip asks three things of each statement of a migration and of its rollback: whether
it may write rows (verify/hidden_commands.py, verify/ran_code.py), which functions it calls
(hidden_commands.py), and which strings it holds (verify/standins/reach.py). Each question was
a walk of its own over the whole tree, some asked twice a migration: together about a fifth of
the verifier's client CPU on bench_verify.py's migrations (issue #17). One walk answers all of
them, and the answer is kept while the tree lives (a migration's trees are asked again by its
rollback's checks).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from migration_rollback.sql._ast import ast, fields_getter
from migration_rollback.sql.names import strings


@dataclass(frozen=True, slots=True)
class TreeFacts:
    """What one walk of a tree found."""

    writes: bool  # DML somewhere in it (a CTE's, a rule's action) or a COPY FROM
    calls: tuple[tuple[str, str], ...]  # (schema or "", name) of each call, in `walk` order
    literals: tuple[str, ...]  # the value of each String node: name parts and string constants
    strings: tuple[str, ...]  # every string the tree holds: names, literals, code bodies


def tree_facts(root: Any) -> TreeFacts:
    """The facts of `root` (a statement, a part of one, or a tuple of them), memoized."""
    hit = _CACHE.get(id(root))
    if hit is not None and hit[0] is root:
        return hit[1]
    facts = _read(root)
    if len(_CACHE) > _CACHE_LIMIT:
        _CACHE.clear()
    _CACHE[id(root)] = (root, facts)  # the tree is held: its id is not reused meanwhile
    return facts


_CACHE: dict[int, tuple[Any, TreeFacts]] = {}
# A migration's trees are asked again within its round trip, not after: a few thousand kept
# (each entry holds its tree alive) cover that without holding every tree of a long replay.
_CACHE_LIMIT = 4096


def _read(root: Any) -> TreeFacts:
    """Depth first, last field first (as `touched.walk` visits nodes), iterative: parse trees
    can be deep. Exact types first: a node class's fields are read by one C call."""
    calls: list[tuple[str, str]] = []
    literals: list[str] = []
    strings: list[str] = []
    writes = False
    stack = [root]
    while stack:
        item = stack.pop()
        kind = type(item)
        fields = _FIELDS.get(kind)
        if fields is None:
            if kind is str:
                strings.append(item)
            elif kind is tuple or kind is list:
                stack.extend(item)
            elif kind not in _LEAVES:
                _unusual(item, stack, strings)
            continue
        if kind in _SPECIAL:
            if kind is _FUNC_CALL:
                calls.append(_called(item.funcname))
            elif kind is _STRING:
                literals.append(item.sval)
            elif kind is not _COPY or item.is_from:
                writes = True
        stack.extend(fields(item))
    return TreeFacts(writes, tuple(calls), tuple(literals), tuple(strings))


def _called(funcname: tuple[Any, ...]) -> tuple[str, str]:
    """A call's (schema or "", name), as `effects.calls` says it."""
    names = strings(funcname)
    return (names[-2] if len(names) > 1 else "", names[-1])


def _unusual(item: Any, stack: list[Any], strings: list[str]) -> None:
    """A value of a type met for the first time: a node class (its fields' getter made), a
    subclass of str or of a sequence (none expected: still read), or a leaf (remembered)."""
    kind = type(item)
    if isinstance(item, ast.Node):
        stack.append(item)
        _FIELDS[kind] = fields_getter(tuple(kind.__slots__))
    elif isinstance(item, str):
        strings.append(item)
    elif isinstance(item, tuple | list):
        stack.extend(item)
    else:
        _LEAVES.add(kind)  # None, numbers, enums: nothing written in them


_FIELDS: dict[type[Any], Callable[[Any], tuple[Any, ...]]] = {}
_LEAVES: set[type[Any]] = set()
_FUNC_CALL, _STRING, _COPY = ast.FuncCall, ast.String, ast.CopyStmt
WRITES = (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt)
_SPECIAL = frozenset({_FUNC_CALL, _STRING, _COPY, *WRITES})
