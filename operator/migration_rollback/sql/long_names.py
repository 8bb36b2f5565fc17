"""Identifiers longer than PostgreSQL keeps, which it cuts to 63 bytes with only a NOTICE.

The server's parser (and libpg_query, which the tool parses with) truncates a name of more than
NAMEDATALEN - 1 bytes: the trees the tool reads hold the cut name, as the server does, so two
tables whose names differ only after their 63rd byte are one table to both; the second CREATE
fails on the server while `validate` saw nothing wrong. So the text is read for them: each long
name is a warning (file:line, what PostgreSQL keeps of it), two long names of one file that
PostgreSQL takes for the same are an error, unless the trees place that name in two namespaces
(a foreign key's name and an index's may be alike: the second one is no clash, only a warning).

Cheap on ordinary files: the text is read only when the trees hold a name that long (or a few
bytes less: a character that did not fit), and scanned into tokens only when it holds a run of
64 ASCII characters (or is not ASCII). A quoted ASCII name with a blank in it is not looked for
(rare, and found by the server's NOTICE).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pglast import parser
from pglast.enums.parsenodes import ConstrType

from migration_rollback.sql._ast import ast
from migration_rollback.sql.checks import Finding, Severity
from migration_rollback.sql.model import Statement
from migration_rollback.sql.names import NAMEDATALEN, truncate_identifier
from migration_rollback.sql.touched import touched_names, walk

# A run of 64 characters no token boundary splits, bare or between double quotes (without
# blanks: from one quoted name's closing quote to the next one's opening, text runs long).
_LONG_RUN = re.compile(r"[^\s\"'(),;.:=<>+*/\[\]-]{64,}|\"[^\"\s]{64,}\"")


@dataclass(frozen=True, slots=True)
class LongName:
    """An identifier as written, where, and what PostgreSQL keeps of it."""

    line: int
    written: str
    kept: str


def long_names(text: str) -> list[LongName]:
    """Every identifier of `text` longer than NAMEDATALEN bytes, in order."""
    if text.isascii() and _LONG_RUN.search(text) is None:
        return []
    try:
        tokens = parser.scan(text)
    except parser.ParseError:  # a text the scanner refuses: its parse says why, and where
        return []
    found = []
    for token in tokens:
        if token.name != "IDENT":
            continue
        written = text[token.start : token.end + 1]
        name = _folded(written)
        if len(name.encode()) > NAMEDATALEN:
            line = text.count("\n", 0, token.start) + 1
            found.append(LongName(line, written, truncate_identifier(name)))
    return found


def may_hold_cut_names(statements: Iterable[Statement]) -> bool:
    """Whether a name the statements' trees hold may be one the parser cut: a cut name is
    NAMEDATALEN bytes long, or a few less where a character did not fit. The names were read
    already (touched.py, for the coverage checks): cheaper than reading the text again."""
    return any(
        len(name) >= _SHORTEST_CUT // 4 and len(name.encode()) >= _SHORTEST_CUT
        for st in statements
        for name in touched_names(st.node)
    )


_SHORTEST_CUT = NAMEDATALEN - 3  # a 4-byte character that did not fit after 60 bytes


def long_name_findings(text: str, file: str, statements: Iterable[Statement] = ()) -> list[Finding]:
    """A warning per long name, an error per pair PostgreSQL takes for one name in one
    namespace (a pair the `statements` place in two namespaces is a warning)."""
    names = long_names(text)
    found = [
        Finding(
            "LONG_NAME", Severity.WARNING,
            f"identifier {_shown(n.written)} is longer than {NAMEDATALEN} bytes: PostgreSQL "
            f"keeps {_shown(n.kept)}, dropping {_dropped(n)!r}", n.line, file,
        )
        for n in names
    ]  # fmt: skip
    pairs = collisions(names)
    places = name_places(statements) if pairs else {}
    return found + [_collision(a, b, file, places.get(a.kept, set())) for a, b in pairs]


def _collision(a: LongName, b: LongName, file: str, places: set[str]) -> Finding:
    said = (
        f"identifiers of lines {a.line} and {b.line} differ only after their first "
        f"{NAMEDATALEN} bytes ({_dropped(a)!r}, {_dropped(b)!r}): PostgreSQL takes both for "
        f"{_shown(a.kept)}"
    )
    if len(places) < 2:
        return Finding("LONG_NAME", Severity.ERROR, said, b.line, file)
    kinds = " and ".join(sorted(places))
    return Finding(
        "LONG_NAME", Severity.WARNING,
        f"{said}, named as {kinds}: no clash if each names one of those", b.line, file,
    )  # fmt: skip


def name_places(statements: Iterable[Statement]) -> dict[str, set[str]]:
    """The namespaces the statements name each (cut) name in: relations (tables, views,
    indexes and the constraints that make one), other constraints, columns, triggers,
    policies. A name elsewhere (a string, an expression) places nothing."""
    places: dict[str, set[str]] = {}
    for st in statements:
        for node in walk(st.node):
            reader = _PLACES.get(type(node))
            found = reader(node) if reader is not None else None
            if found is not None and found[1]:
                places.setdefault(found[1], set()).add(found[0])
    return places


def _constraint_place(node: Any) -> tuple[str, str | None]:
    kind = "relation" if node.contype in _INDEXED else "constraint"
    return kind, node.conname


_INDEXED = (ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_UNIQUE, ConstrType.CONSTR_EXCLUSION)
_PLACES: dict[type, Callable[[Any], tuple[str, str | None]]] = {
    ast.RangeVar: lambda n: ("relation", n.relname),
    ast.IndexStmt: lambda n: ("relation", n.idxname),
    ast.Constraint: _constraint_place,
    ast.ColumnDef: lambda n: ("column", n.colname),
    ast.CreateTrigStmt: lambda n: ("trigger", n.trigname),
    ast.CreatePolicyStmt: lambda n: ("policy", n.policy_name),
}


def _shown(name: str) -> str:
    """A long name's start and end (its middle is no help in telling two apart)."""
    return name if len(name) <= 48 else f"{name[:30]}...{name[-12:]}"


def _dropped(name: LongName) -> str:
    """What PostgreSQL leaves out of the name."""
    return _folded(name.written)[len(name.kept) :]


def collisions(names: list[LongName]) -> list[tuple[LongName, LongName]]:
    """Pairs of different long names PostgreSQL keeps alike (the first of each kept name)."""
    first: dict[str, LongName] = {}
    pairs = []
    for name in names:
        seen = first.setdefault(name.kept, name)
        if _folded(seen.written) != _folded(name.written):
            pairs.append((seen, name))
    return pairs


def _folded(written: str) -> str:
    """The name as the server reads it: a quoted one as written, a bare one in lower case."""
    if written.startswith('"'):
        return written[1:-1].replace('""', '"')
    return written.translate(_ASCII_LOWER)  # the server folds A-Z only


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
