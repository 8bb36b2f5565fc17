"""pglast's parse trees, built from libpg_query's JSON: `pglast.parse_sql`'s nodes in about half
its time.

pglast builds every node attribute through a validating `__setattr__` (type checks, coercions)
that re-checks what the C parser already guarantees: nine tenths of a parse's time went there.
Here the C parser's JSON is decoded (in C too) and each node is filled in directly, following
the attribute declarations pglast itself keeps: the same classes, values, defaults and
positions (`tests/unit/sql/test_trees.py` compares the two builds node for node).

Positions: the JSON gives UTF-8 byte offsets, turned into pglast's character offsets. A tree
holding a node this builder does not know (none of a raw parse does) is left to pglast's build.
"""

from __future__ import annotations

import enum
import functools
import json
import keyword
import re
from bisect import bisect_right
from collections.abc import Callable
from typing import Any, NamedTuple

import pglast
from pglast import enums
from pglast.parser import parse_sql_json

from migration_rollback.sql import mentions
from migration_rollback.sql._ast import ast, make, twin

_INTEGERS = frozenset(
    (
        *("AclMode", "AttrNumber", "Index", "RelFileNumber", "SubTransactionId", "bits32"),
        *("int", "int16", "int32", "long", "uint32", "uint64"),
    )
)


class _Unknown(Exception):
    """A node or attribute type this builder does not handle: pglast builds the tree."""


def parse_trees(text: str) -> tuple[Any, ...]:
    """`pglast.parse_sql(text)`: the RawStmt nodes (raises pglast's ParseError the same way)."""
    statements = json.loads(parse_sql_json(text))["stmts"]  # a syntax error raises here
    builder = _Builder(text)
    try:
        return tuple(builder.raw_statement(raw) for raw in statements)
    except (_Unknown, KeyError, TypeError, ValueError):  # pglast's build is the reference
        return tuple(pglast.parse_sql(text))


_MULTIBYTE = re.compile("[^\x00-\x7f]")


class _Builder:
    """The nodes of one text, their positions turned from UTF-8 byte offsets into character
    offsets the way pglast turns them (a byte inside a character: that character; past the
    end: None). The names each statement mentions are recorded on the way (`mentions`)."""

    def __init__(self, text: str) -> None:
        self.names: list[Any] = []  # of the statement being built
        self.bytes: list[int] = []  # each byte of a multi-byte character: its offset,
        self.chars: list[int] = []  # and the character's
        extra = 0
        for found in () if text.isascii() else _MULTIBYTE.finditer(text):
            index = found.start()
            size = len(found.group().encode())
            self.bytes += range(index + extra, index + extra + size)
            self.chars += [index] * size
            extra += size - 1
        self.last = len(text) + extra - 1
        # Up to this offset a byte offset is the character's own: taken as is, no call to `at`.
        self.plain = min(self.last, self.bytes[0] - 1) if self.bytes else self.last

    def at(self, offset: int) -> int | None:
        if not 0 <= offset <= self.last:
            return None
        if not self.bytes or offset < self.bytes[0]:
            return offset
        n = bisect_right(self.bytes, offset) - 1
        return self.chars[n] + offset - self.bytes[n]

    def raw_statement(self, raw: dict[str, Any]) -> Any:
        start = raw.get("stmt_location", 0)
        self.names = []
        statement = self.node(raw["stmt"]) if "stmt" in raw else None
        if statement is not None:
            mentions.record(statement, self.names)
        location = self.at(start)
        # As pglast computes it: the end's position less the start's (None when past the end).
        end = self.at(start + raw.get("stmt_len", 0))
        length = end - location  # type: ignore[operator]
        return make(ast.RawStmt, stmt=statement, stmt_location=location, stmt_len=length)

    def node(self, wrapped: dict[str, Any]) -> Any:
        """A `{"Tag": {...}}` value: a node, or a tuple for a List (`{}`: a NULL in a list)."""
        for tag in wrapped:  # its one key (a loop step costs less than unpacking the items)
            return _BY_TAG[tag](self, wrapped[tag])
        return None

    def list(self, body: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(map(self.node, body.get("items", ())))

    def constant(self, body: dict[str, Any]) -> Any:
        isnull = bool(body.get("isnull", False))
        value = None
        if not isnull:
            (field,) = [key for key in body if key in _CONSTANT_VALUES]
            value = self.build(_CONSTANT_VALUES[field], body[field])
        return make(ast.A_Const, isnull=isnull, val=value)

    def build(self, cls: type, body: dict[str, Any]) -> Any:
        return (_BUILDS.get(cls) or _compile(cls))(self, body)


_NAMING = mentions.NAMING_CLASSES


_Build = Callable[[_Builder, dict[str, Any]], Any]
_BUILDS: dict[type, _Build] = {}


class _ByTag(dict[str, _Build]):
    """The builder of each JSON tag, compiled when the tag is first met."""

    def __init__(self) -> None:
        super().__init__(List=_Builder.list, A_Const=_Builder.constant)

    def __missing__(self, tag: str) -> _Build:
        self[tag] = found = _BUILDS.get(_class(tag)) or _compile(_class(tag))
        return found


_BY_TAG = _ByTag()


def _compile(cls: type) -> _Build:
    """The builder of one node class: its plan unrolled into straight-line code, compiled once.

    A loop over the plan cost more than the assignments themselves (per attribute: a tuple
    unpacked, a loop step), and every node of every statement pays it. The node is made as
    the class's `twin` and its attributes assigned as plain slots (no call per attribute),
    then it becomes an instance of the class itself. A child is built by its tag's builder
    called from here (through `node`, a call more per child, only in a list holding a NULL),
    and a position up to the text's first multi-byte character is taken as it is (`at` for
    the others). The code holds only attribute and key names (identifiers, written with
    repr); the values come from the plan.
    """
    plan = _PLANS.get(cls) or _plan(cls)
    env: dict[str, Any] = {"twin": twin(cls), "cls": cls, "add_names": mentions.NAMERS.get(cls)}
    env["by_tag"] = _BY_TAG
    code = ["def build(self, body):", " node = twin()"]
    if plan.locations:
        code += [" at = self.at", " plain = self.plain"]

    def put(name: str, key: str, value: str, absent: str) -> None:
        # The JSON leaves out what is zero, false or NULL: most keys are absent, and testing
        # for one costs less than a call to `get`.
        present = value.format(f"body[{key!r}]")
        code.append(f" node.{name} = {present} if {key!r} in body else {absent}")

    for n, (name, key, default) in enumerate(plan.plain):
        env[f"d{n}"] = default
        put(name, key, "{}", f"d{n}")
    for name, key in plan.locations:  # absent: at(0), which is 0 unless the text is empty
        code.append(f" v = body[{key!r}] if {key!r} in body else 0")
        code.append(f" node.{name} = v if 0 <= v <= plain else at(v)")
    for name, key in plan.nodes:  # `{"Tag": {...}}`, its one key unpacked (`{}` raises)
        code += [f" if {key!r} in body:", f"  w = body[{key!r}]", "  (t,) = w"]
        code += [f"  node.{name} = by_tag[t](self, w[t])", " else:", f"  node.{name} = None"]
    for name, key in plan.lists:  # a NULL item (`{}`) yields none here: then item by item
        code += [f" if {key!r} in body:", f"  items = body[{key!r}]"]
        code.append("  built = [by_tag[t](self, w[t]) for w in items for t in w]")
        code.append("  if len(built) != len(items): built = list(map(self.node, items))")
        code += [f"  node.{name} = tuple(built)", " else:", f"  node.{name} = None"]
    for n, (name, key, members, default) in enumerate(plan.enums):
        env[f"m{n}"], env[f"e{n}"] = members, default
        put(name, key, f"m{n}[{{}}]", f"e{n}")
    for n, (name, key, struct) in enumerate(plan.structs):
        env[f"s{n}"] = struct
        put(name, key, f"self.build(s{n}, {{}})", "None")
    code.append(" node.__class__ = cls")
    if cls in _NAMING:
        code.append(" add_names(node, self.names)")
    code.append(" return node")
    exec("\n".join(code), env)  # noqa: S102 (the code above, from pglast's declarations)
    found: _Build = env["build"]
    _BUILDS[cls] = found
    return found


@functools.cache
def _class(tag: str) -> type:
    cls = getattr(ast, tag, None)
    if not (isinstance(cls, type) and issubclass(cls, ast.Node)):
        raise _Unknown(tag)
    return cls


_CONSTANT_VALUES: dict[str, type] = {
    "ival": ast.Integer,
    "fval": ast.Float,
    "boolval": ast.Boolean,
    "sval": ast.String,
    "bsval": ast.BitString,
}


class _Plan(NamedTuple):
    """How each attribute of a node class is filled in, by the kind of its value."""

    plain: tuple[tuple[str, str, Any], ...]  # (attribute, JSON key, default)
    locations: tuple[tuple[str, str], ...]
    nodes: tuple[tuple[str, str], ...]  # a wrapped node, or a List
    lists: tuple[tuple[str, str], ...]  # an array of wrapped nodes
    enums: tuple[tuple[str, str, dict[str, Any], Any], ...]  # (.., members by name, default)
    structs: tuple[tuple[str, str, type], ...]  # an unwrapped node of a known class


_PLANS: dict[type, _Plan] = {}


def _plan(cls: type) -> _Plan:
    groups: dict[str, list[Any]] = {field: [] for field in _Plan._fields}
    slots: dict[str, Any] = getattr(cls, "__slots__")  # noqa: B009 (pglast: name -> its type)
    for name, info in slots.items():
        group, *extra = _how(info.c_type)
        groups[group].append((name, _json_key(name), *extra))
    _PLANS[cls] = plan = _Plan(*(tuple(g) for g in groups.values()))
    return plan


def _json_key(name: str) -> str:
    """pglast appends `_` to a C field named like a Python keyword (`def_`)."""
    bare = name.removesuffix("_")
    return bare if bare != name and keyword.iskeyword(bare) else name


def _how(ctype: str) -> tuple[Any, ...]:
    """(the _Plan field, what it keeps besides the names) for an attribute's C type."""
    plain = {"bool": False, "char": "\x00", "char*": None, "Cardinality": 0.0, "Cost": 0.0}
    if ctype in plain:
        return "plain", plain[ctype]
    if ctype in _INTEGERS:
        return "plain", 0
    if ctype == "ParseLoc":
        return ("locations",)
    if ctype in ("Node*", "Expr*"):
        return ("nodes",)
    if ctype == "List*":
        return ("lists",)
    kind = getattr(enums, ctype, None)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        # By name (the JSON's); absent, the C default 0, as pglast reads it.
        return "enums", dict(kind.__members__), next((m for m in kind if m.value == 0), None)
    struct = getattr(ast, ctype.removesuffix("*"), None)
    if isinstance(struct, type) and issubclass(struct, ast.Node):
        return "structs", struct
    raise _Unknown(ctype)
