"""One spelling for definitions PostgreSQL prints in a form it does not print back.

`pg_get_constraintdef` of `c IN ('a', 'b')` on a varchar column reads
`(c)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[])`; a CHECK
created again from that text prints as `ARRAY[('a'::character varying)::text, …]`: the same
expression, cast per element instead of once on the array. A rollback that recreates the
constraint writes it in a spelling the server stores as printed (`reprintable`), so the catalog
and `pg_dump` come back identical; the verifier still compares in one spelling (`canonical`).
Pure, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_ARRAY_CAST = re.compile(r"\(ARRAY\[")
_CAST_TAIL = re.compile(r"\)::([\w. \"]+?)\[\]")
_ELEMENT_CAST = re.compile(r"::([\w. \"]+)$")


def canonical(definition: str) -> str:
    """The definition with every `(ARRAY[e1, e2])::t[]` written `ARRAY[(e1)::t, (e2)::t]`."""
    out, pos = [], 0
    for match in _ARRAY_CAST.finditer(definition):
        if match.start() < pos:
            continue
        close = _closing(definition, match.end() - 1)
        tail = _CAST_TAIL.match(definition, close + 1) if close is not None else None
        if close is None or tail is None:
            continue
        elements = _split(definition[match.end() : close])
        cast = tail.group(1)
        out.append(definition[pos : match.start()])
        out.append("ARRAY[" + ", ".join(f"({e})::{cast}" for e in elements) + "]")
        pos = tail.end()
    return "".join(out) + definition[pos:]


def reprintable(definition: str) -> str:
    """The definition with every `(ARRAY[e1::t, e2::t])::u[]` written
    `(ARRAY[e1::t, e2::t]::t[])::u[]`: the array cast stays on the array when parsed again."""
    out, pos = [], 0
    for match in _ARRAY_CAST.finditer(definition):
        close = _closing(definition, match.end() - 1)
        if match.start() < pos or close is None or _CAST_TAIL.match(definition, close + 1) is None:
            continue
        element_type = _common_cast(_split(definition[match.end() : close]))
        if element_type is not None:
            out.append(definition[pos : close + 1] + f"::{element_type}[]")
            pos = close + 1
    return "".join(out) + definition[pos:]


def _common_cast(elements: list[str]) -> str | None:
    """The type every element is cast to (`'a'::character varying`), or None."""
    casts = {m.group(1) if (m := _ELEMENT_CAST.search(e)) else None for e in elements}
    return casts.pop() if len(casts) == 1 else None


def _unquoted(text: str, start: int = 0) -> Iterator[tuple[int, str, int]]:
    """(index, character, bracket depth after it) of each character outside '…' literals."""
    depth, quoted = 0, False
    for i in range(start, len(text)):
        ch = text[i]
        if ch == "'":
            quoted = not quoted
        elif not quoted:
            depth += (ch in "[(") - (ch in "])")
            yield i, ch, depth


def _closing(text: str, start: int) -> int | None:
    """The index of the `]` matching the `[` at `start` (quotes and nesting respected)."""
    for i, ch, depth in _unquoted(text, start):
        if depth == 0:
            return i if ch == "]" else None
    return None


def _split(inner: str) -> list[str]:
    parts, start = [], 0
    for i, ch, depth in _unquoted(inner):
        if ch == "," and depth == 0:
            parts.append(inner[start:i].strip())
            start = i + 1
    parts.append(inner[start:].strip())
    return parts
