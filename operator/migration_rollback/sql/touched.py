"""What a statement touches: the bare names of the objects, columns and constraints it mentions.

`validate` asks this of every statement of a project, forward and rollback: whether a rollback
covers what its migration did (a statement of the same kind naming the same things), and which
later migrations use what a rollback drops. Walking every tree for it was most of `validate`'s
own work, so names recorded while `trees` built a statement are read instead when there are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

from migration_rollback.sql import mentions
from migration_rollback.sql._ast import ast, branch_slots, fields_getter
from migration_rollback.sql.model import Statement


def walk(root: Any) -> Iterator[Any]:
    """Every node below `root`, depth first (iterative: parse trees can be deep)."""
    stack = [root]
    node_type = ast.Node
    getters = _CHILDREN
    while stack:
        node = stack.pop()
        if isinstance(node, node_type):
            yield node
            children = getters.get(type(node)) or _children_getter(type(node))
            stack.extend(filter(None, children(node)))  # nodes and tuples (no leaf: see below)
        elif isinstance(node, tuple):
            stack.extend(node)


_CHILDREN: dict[type, Callable[[Any], tuple[Any, ...]]] = {}


def _children_getter(cls: type) -> Callable[[Any], tuple[Any, ...]]:
    """The values of a node's branch slots, read by one C call (`operator.attrgetter`)."""
    _CHILDREN[cls] = getter = fields_getter(branch_slots(cls))
    return getter


_TOUCHED_CACHE: dict[int, tuple[Any, frozenset[str]]] = {}


def touched_names(node: Any) -> frozenset[str]:
    """Bare names of the objects, columns and constraints a statement mentions (memoized)."""
    hit = _TOUCHED_CACHE.get(id(node))
    if hit is not None and hit[0] is node:
        return hit[1]
    names = _touched_names(node)
    if len(_TOUCHED_CACHE) > 200_000:
        _TOUCHED_CACHE.clear()
    _TOUCHED_CACHE[id(node)] = (node, names)
    return names


# Per node class: its children getter, and whether it names something (these classes have
# no subclasses: one look-up by type); `()` for a class with neither (a String, a name part:
# most nodes of a made DROP), passed over without a call.
_Visit = tuple[Callable[[Any], tuple[Any, ...]], bool] | tuple[()]
_VISITS: dict[type, _Visit] = {}


def _visit(cls: type) -> _Visit:
    naming = cls in mentions.NAMING_CLASSES
    found: _Visit = (_children_getter(cls), naming) if naming or branch_slots(cls) else ()
    _VISITS[cls] = found
    return found


def _touched_names(node: Any) -> frozenset[str]:
    walked = mentions.recorded(node)
    names = set(_walked_names(node) if walked is None else walked)
    kind = type(node)
    own = _OWN_NAMES.get(kind) or _own_names(kind)
    for value in own.names(node):
        if isinstance(value, str):
            names.add(value)
    for value in own.lists(node):
        if isinstance(value, tuple):
            for item in value:
                if isinstance(item, tuple):
                    _add_last_string(item, names)
                elif isinstance(item, ast.String):
                    names.add(item.sval)
            _add_last_string(value, names)
    if kind is ast.AlterEnumStmt:
        names.update(v for v in (node.oldVal, node.newVal) if v)
    return frozenset(map(str.lower, names))


def _add_last_string(items: tuple[Any, ...], names: set[Any]) -> None:
    """The last String of a name list (`strings(items)[-1:]` without building the list)."""
    string = ast.String
    for item in reversed(items):
        if isinstance(item, string):
            names.add(item.sval)
            return


class _Own(NamedTuple):
    """A statement class's own naming attributes, read by one C call each."""

    names: Callable[[Any], tuple[Any, ...]]  # a name, when set
    lists: Callable[[Any], tuple[Any, ...]]  # a name list, or a list of them


_OWN_NAMES: dict[type, _Own] = {}
_OWN_NAME_ATTRS = ("idxname", "policy_name", "trigname", "newname", "subname", "pubname",
                   "extname", "schemaname", "rulename")  # fmt: skip
_OWN_LIST_ATTRS = ("objects", "funcname", "typeName", "domainname")


def _own_names(cls: type) -> _Own:
    """Only the attributes the class has: asking each statement for all of them (a missing
    attribute raises inside getattr) cost more than the walk below it."""
    slots: Any = getattr(cls, "__slots__", ())
    _OWN_NAMES[cls] = found = _Own(
        fields_getter(tuple(a for a in _OWN_NAME_ATTRS if a in slots)),
        fields_getter(tuple(a for a in _OWN_LIST_ATTRS if a in slots)),
    )
    return found


def _walked_names(node: Any) -> list[Any]:
    """The names of every node below `node`, for a tree `trees` did not record them for."""
    names: list[Any] = []
    # walk inlined (no generator; one look-up and one C call per node).
    stack = [node]
    pop, push = stack.pop, stack.extend
    visits = _VISITS
    while stack:
        n = pop()
        kind = type(n)
        if kind is tuple:
            push(n)
            continue
        visit = visits.get(kind)
        if visit is None:
            if not isinstance(n, ast.Node):
                if isinstance(n, tuple):
                    push(n)
                continue  # a leaf (none is in a branch slot of a parsed tree)
            visit = _visit(kind)
        if not visit:
            continue
        children, naming = visit
        push(filter(None, children(n)))  # nodes; tuples unless empty (no None, no leaf)
        if naming:
            mentions.add_names(n, names)
    return names


def signature(statement: Statement) -> tuple[str, frozenset[str]]:
    return statement.kind, touched_names(statement.node)


class CoverageIndex:
    """A rollback's statements by (kind, name): each expected inverse is a lookup, not a scan.

    Scanning the whole rollback for each of its inverses made `validate` quadratic on a large
    migration. A rollback `validate` reads as the generator wrote it holds the generator's own
    trees (`parse_script(known=...)`): an inverse whose very tree is in it is covered, asked
    nothing; the names of every statement are gathered only when one inverse is not found so.
    """

    def __init__(self, rollback: Iterable[Statement]) -> None:
        self._rollback = tuple(rollback)
        self._trees = {id(st.node) for st in self._rollback}  # the statements hold the trees
        self._kinds: set[str] = set()
        self._by_name: dict[tuple[str, str], list[frozenset[str]]] | None = None

    def _names(self) -> dict[tuple[str, str], list[frozenset[str]]]:
        if self._by_name is None:
            self._by_name = {}
            for candidate in self._rollback:
                kind, names = signature(candidate)
                self._kinds.add(kind)
                for name in names:
                    self._by_name.setdefault((kind, name), []).append(names)
        return self._by_name

    def covers(self, expected: Statement) -> bool:
        """True when a rollback statement of the same kind mentions every name it does."""
        if id(expected.node) in self._trees:
            return True  # the same tree: the same kind, the same names
        by_name = self._names()
        kind, names = signature(expected)
        if not names:
            return kind in self._kinds
        # A covering statement mentions every name: search under the rarest one only.
        rarest = min((by_name.get((kind, n), []) for n in names), key=len)
        return any(names <= candidate for candidate in rarest)


def is_covered(expected: Statement, rollback: Iterable[Statement]) -> bool:
    return CoverageIndex(rollback).covers(expected)
