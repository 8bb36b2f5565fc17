"""Static checks of a rollback against its forward migration: coverage, order, hazards.

Pure functions over parsed scripts. They answer the questions a reviewer asks before running a
rollback in production: does it undo everything the migration did, will it fail halfway on a
dependency, what data does it destroy, which locks does it take, what is left to a human?
"""

from __future__ import annotations

import enum
from bisect import bisect_right
from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from operator import attrgetter
from typing import Any, NamedTuple

from pglast.enums.parsenodes import ConstrType, DropBehavior

from migration_rollback.sql import mentions
from migration_rollback.sql._ast import ast
from migration_rollback.sql.classify import classify
from migration_rollback.sql.generator import MANUAL_PREFIX, RollbackPlan
from migration_rollback.sql.model import LockLevel, Script, Statement
from migration_rollback.sql.names import strings
from migration_rollback.sql.parse import split_comment_lines

ALLOW_CASCADE_MARK = "-- migration-rollback: allow-cascade"


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"
    MANUAL = "manual"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    severity: Severity
    message: str
    line: int | None = None
    file: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": str(self.severity),
            "message": self.message,
            "line": self.line,
            "file": self.file,
        }


# --- identity of what a statement touches -----------------------------------------------------


def _walk(root: Any) -> Iterator[Any]:
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


_BRANCH_SLOTS: dict[type, tuple[str, ...]] = {}
_LEAF_TYPES = (bool, int, float, str, bytes, Decimal, enum.Enum)


def _branch_slots(cls: type) -> tuple[str, ...]:
    """The attributes of a node class that may hold nodes or tuples, in declaration order.

    pglast checks every assignment against the attribute's declared Python types, so an
    attribute declared as a string, a number or an enum never holds a subtree: walking skips
    it (most attributes of a parse tree are locations, flags and names).
    """
    declarations: Any = getattr(cls, "__slots__", {})  # pglast: {name: SlotTypeInfo}
    names = []
    for name in declarations:  # what iterating a node yields: its attribute names
        info = declarations[name] if isinstance(declarations, dict) else None
        declared = getattr(info, "py_type", object)
        types = declared if isinstance(declared, tuple) else (declared,)
        leaf_only = all(
            isinstance(t, type) and (t is dict or issubclass(t, _LEAF_TYPES)) for t in types
        )
        if not leaf_only:
            names.append(name)
    _BRANCH_SLOTS[cls] = found = tuple(names)
    return found


_CHILDREN: dict[type, Callable[[Any], tuple[Any, ...]]] = {}


def _children_getter(cls: type) -> Callable[[Any], tuple[Any, ...]]:
    """The values of a node's branch slots, read by one C call (`operator.attrgetter`)."""
    _CHILDREN[cls] = getter = _getter(_BRANCH_SLOTS.get(cls) or _branch_slots(cls))
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
# no subclasses: one look-up by type).
_VISITS: dict[type, tuple[Callable[[Any], tuple[Any, ...]], bool]] = {}


def _visit(cls: type) -> tuple[Callable[[Any], tuple[Any, ...]], bool]:
    _VISITS[cls] = found = (_children_getter(cls), cls in mentions.NAMING_CLASSES)
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
                    names.update(strings(item)[-1:])
                elif isinstance(item, ast.String):
                    names.add(item.sval)
            names.update(strings(value)[-1:])
    if kind is ast.AlterEnumStmt:
        names.update(v for v in (node.oldVal, node.newVal) if v)
    return frozenset(n.lower() for n in names)


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
        _getter(tuple(a for a in _OWN_NAME_ATTRS if a in slots)),
        _getter(tuple(a for a in _OWN_LIST_ATTRS if a in slots)),
    )
    return found


def _getter(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """The values of these attributes as a tuple (`operator.attrgetter` returns one bare)."""
    if len(names) > 1:
        return attrgetter(*names)
    if names:
        one = attrgetter(names[0])
        return lambda node: (one(node),)
    return lambda node: ()


def _walked_names(node: Any) -> list[Any]:
    """The names of every node below `node`, for a tree `trees` did not record them for."""
    names: list[Any] = []
    # _walk inlined (no generator; one look-up and one C call per node).
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
    migration.
    """

    def __init__(self, rollback: Iterable[Statement]) -> None:
        self._kinds: set[str] = set()
        self._by_name: dict[tuple[str, str], list[frozenset[str]]] = {}
        for candidate in rollback:
            kind, names = signature(candidate)
            self._kinds.add(kind)
            for name in names:
                self._by_name.setdefault((kind, name), []).append(names)

    def covers(self, expected: Statement) -> bool:
        """True when a rollback statement of the same kind mentions every name it does."""
        kind, names = signature(expected)
        if not names:
            return kind in self._kinds
        # A covering statement mentions every name: search under the rarest one only.
        rarest = min((self._by_name.get((kind, n), []) for n in names), key=len)
        return any(names <= candidate for candidate in rarest)


def is_covered(expected: Statement, rollback: Iterable[Statement]) -> bool:
    return CoverageIndex(rollback).covers(expected)


# --- the checks -------------------------------------------------------------------------------


def coverage_findings(plan: RollbackPlan, rollback: Script, rollback_file: str) -> list[Finding]:
    """Every inverse the generator would write must have a counterpart in the rollback."""
    findings: list[Finding] = []
    index = CoverageIndex(rollback.statements)
    for step in plan.sql_steps:
        expected = step.parsed
        if expected is None or index.covers(expected):
            continue
        loc = step.forward.location
        findings.append(
            Finding(
                "UNCOVERED",
                Severity.ERROR,
                f"{loc.file}:{loc.line} ({step.forward.first_line}) is not undone; expected "
                f"something like: {step.sql}",
                line=None,
                file=rollback_file,
            )
        )
    return findings


def _dependencies(forward: Script, dropped: Container[str]) -> dict[str, set[str]]:
    """name -> names it cannot outlive (drop it first, or the other drop fails), for the
    names in `dropped` (what the others need is never asked: no walk of their trees)."""
    deps: dict[str, set[str]] = {}
    for st in forward.statements:
        node = st.node
        own = _own_name(node)
        if own is None or own.lower() not in dropped:
            continue
        needs: set[str] = set()
        if isinstance(node, ast.CreateStmt):
            for n in _table_parts(node.tableElts):
                if isinstance(n, ast.Constraint) and n.contype == ConstrType.CONSTR_FOREIGN:
                    needs.add(n.pktable.relname)
                if isinstance(n, ast.ColumnDef):
                    needs.update(strings(n.typeName.names)[-1:])
        elif isinstance(node, ast.ViewStmt | ast.CreateTableAsStmt):
            needs = {n.relname for n in _walk(node.query) if isinstance(n, ast.RangeVar)}
        elif isinstance(node, ast.CreateTrigStmt):
            needs = set(strings(node.funcname)[-1:])
        elif isinstance(node, ast.CreatePolicyStmt):
            needs = {
                strings(n.funcname)[-1]
                for n in _walk((node.qual, node.with_check))
                if isinstance(n, ast.FuncCall)
            }
        elif isinstance(node, ast.AlterTableStmt):
            for n in _table_parts(node.cmds):
                if isinstance(n, ast.Constraint) and n.contype == ConstrType.CONSTR_FOREIGN:
                    needs.add(n.pktable.relname)
        deps.setdefault(own.lower(), set()).update(x.lower() for x in needs if x != own)
    return deps


# The name a statement gives what it creates or changes, per class: what `_dependencies` keys.
_OWN_NAME: dict[type, Callable[[Any], str]] = {
    ast.CreateStmt: attrgetter("relation.relname"),
    ast.ViewStmt: attrgetter("view.relname"),
    ast.CreateTableAsStmt: attrgetter("into.rel.relname"),
    ast.CreateTrigStmt: attrgetter("trigname"),
    ast.CreatePolicyStmt: attrgetter("policy_name"),
    ast.AlterTableStmt: attrgetter("relation.relname"),
}


def _own_name(node: Any) -> str | None:
    getter = _OWN_NAME.get(type(node))
    return None if getter is None else getter(node)


def _table_parts(elements: Iterable[Any] | None) -> Iterator[Any]:
    """The column definitions and constraints of a table's elements or ALTER TABLE commands,
    where the grammar puts them: walking every default and CHECK expression below them too made
    this most of `validate`'s own work."""
    for element in elements or ():
        part = element.def_ if isinstance(element, ast.AlterTableCmd) else element
        yield part
        if isinstance(part, ast.ColumnDef):
            yield from part.constraints or ()


def _dropped_name(st: Statement) -> str | None:
    if isinstance(st.node, ast.DropStmt):
        targets = classify(st).targets
        return targets[0].name.lower() if targets else None
    return None


def order_findings(forward: Script, rollback: Script, rollback_file: str) -> list[Finding]:
    """A drop must come after the drops of everything that depends on the dropped object."""
    dropped_at: dict[str, Statement] = {}
    for st in rollback.statements:
        name = _dropped_name(st)
        if name:
            dropped_at.setdefault(name, st)
    deps = _dependencies(forward, dropped_at)
    findings: list[Finding] = []
    for dependent, needs in deps.items():
        # Sorted: a set's order changes from run to run (string hashing), the report must not.
        for needed in sorted(needs):
            if needed not in dropped_at or dependent not in dropped_at:
                continue
            if dropped_at[needed].index < dropped_at[dependent].index:
                first, later = dropped_at[needed], dropped_at[dependent]
                findings.append(
                    Finding(
                        "ORDER",
                        Severity.ERROR,
                        f"drops {needed} (line {first.location.line}) before {dependent} "
                        f"(line {later.location.line}), which depends on it: this fails "
                        "without CASCADE; drop dependents first",
                        line=first.location.line,
                        file=rollback_file,
                    )
                )
    return findings


def hazard_findings(
    rollback: Script, text: str, rollback_file: str, created: set[str]
) -> list[Finding]:
    """Data loss, locks on existing tables, CASCADE, statements outside the transaction."""
    allow_cascade = ALLOW_CASCADE_MARK in text
    findings: list[Finding] = []
    for st in rollback.statements:
        c = classify(st)
        line = st.location.line
        if getattr(st.node, "behavior", None) == DropBehavior.DROP_CASCADE and not allow_cascade:
            findings.append(
                Finding(
                    "CASCADE",
                    Severity.ERROR,
                    f"CASCADE silently drops whatever depends on it (maybe objects of later "
                    f"migrations): drop dependents explicitly, or add '{ALLOW_CASCADE_MARK}'",
                    line,
                    rollback_file,
                )
            )
        if c.destroys_data:
            what = ", ".join(t.describe() for t in c.targets) or st.first_line
            findings.append(
                Finding(
                    "DATA_LOSS", Severity.WARNING, f"destroys data: {what}", line, rollback_file
                )
            )
        existing = [t for t in c.targets if t.kind == "table" and t.name.lower() not in created]
        if c.lock >= LockLevel.SHARE and existing:
            names = ", ".join(t.qualified for t in existing)
            findings.append(
                Finding(
                    "LOCK",
                    Severity.WARNING,
                    f"takes {c.lock.label} on {names}, which existed before the migration",
                    line,
                    rollback_file,
                )
            )
        if not c.transactional:
            findings.append(
                Finding(
                    "NON_TRANSACTIONAL",
                    Severity.INFO,
                    "runs outside the rollback transaction (after it commits)",
                    line,
                    rollback_file,
                )
            )
    return findings


def manual_findings(text: str, rollback_file: str) -> list[Finding]:
    return [
        Finding("MANUAL", Severity.MANUAL, message, line, rollback_file)
        for line, message in split_comment_lines(text, MANUAL_PREFIX)
    ]


def created_names(forward: Script) -> set[str]:
    names: set[str] = set()
    for st in forward.statements:
        node = st.node
        if isinstance(node, ast.CreateStmt):
            names.add(node.relation.relname.lower())
        elif isinstance(node, ast.CreateTableAsStmt):
            names.add(node.into.rel.relname.lower())
    return names


NameIndex = dict[str, list[tuple[int, Statement]]]


def name_index(scripts: Iterable[Script | None]) -> NameIndex:
    """name -> (migration position, statement) of every statement that mentions it."""
    index: NameIndex = {}
    for position, script in enumerate(scripts):
        for st in script.statements if script else ():
            for name in touched_names(st.node):
                index.setdefault(name, []).append((position, st))
    return index


def later_dependents(
    dropped: Iterable[str], index: NameIndex, after: int
) -> list[tuple[str, Statement]]:
    """Statements of migrations after position `after` that mention objects it drops."""
    hits: list[tuple[str, Statement]] = []
    for name in sorted({d.lower() for d in dropped}):
        mentions = index.get(name, [])
        # Mentions are in migration order: skip the earlier ones without scanning them.
        first = bisect_right(mentions, after, key=lambda mention: mention[0])
        hits.extend((name, st) for _, st in mentions[first:])
    return sorted(hits, key=lambda hit: (hit[1].location.file, hit[1].index))


def dropped_names(rollback: Script) -> list[str]:
    return [n for n in (_dropped_name(st) for st in rollback.statements) if n]
