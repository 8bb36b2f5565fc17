"""The names code the tool does not parse may make: a DO block's or a function's body, the
text of a file that does not parse. Pure.

Such code runs on the shadow like any statement, so what it makes cannot be said to be made
by no migration. Read from the text: the name after CREATE <kind>, RENAME ... TO, ADD COLUMN
(a static statement or an EXECUTE's literal alike). Where the name is built at run time
(`format('CREATE TABLE %I', t)`, `EXECUTE sql_text`) it cannot be read, so every word of that
code may be one (a list of table names it loops over, say).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_NAME = r'(?:"[^"]+"|[\w$]+)(?:\s*\.\s*(?:"[^"]+"|[\w$]+))?'
# What follows a keyword that makes something, as a name or, when it is none, as written.
_TARGET = rf"(?P<name>{_NAME}(?![\w$'%|]))|(?P<built>\S+)"
_KINDS = (
    "table|view|function|procedure|type|schema|sequence|index|domain|trigger|policy|role|"
    "aggregate|extension|publication|rule"
)
_MAKING = re.compile(
    r"(?:\bcreate\s+(?:or\s+replace\s+)?"
    r"(?:(?:temp|temporary|unlogged|materialized|recursive|unique|global|local|constraint|"
    r"foreign|event)\s+)*"
    rf"(?:{_KINDS})\s+(?:concurrently\s+)?(?:if\s+not\s+exists\s+)?"
    rf"|\brename\s+(?:(?:column|constraint)\s+)?(?:{_NAME}\s+)?to\s+"
    r"|\badd\s+column\s+(?:if\s+not\s+exists\s+)?"
    rf"|\bset\s+schema\s+)(?:{_TARGET})",
    re.IGNORECASE,
)
# Statement text made at run time: EXECUTE of anything but a literal or format('...') (not
# a trigger's EXECUTE FUNCTION, nor GRANT EXECUTE ON).
_BUILT_SQL = re.compile(
    r"\bexecute\s+(?!(?:format\s*\(|function\b|procedure\b|on\b))(?!')(?!\$)[\w$]",
    re.IGNORECASE,
)
_WORD = re.compile(r"[a-z_][a-z0-9_$]*")


def made_in_code(code: Iterable[str]) -> frozenset[str]:
    """The bare names (lowercased) the code may make."""
    out: set[str] = set()
    for text in code:
        out |= _made_in(text)
    return frozenset(out)


def _made_in(text: str) -> set[str]:
    names: set[str] = set()
    built = _BUILT_SQL.search(text) is not None
    for m in _MAKING.finditer(text):
        if m.group("name") is not None:
            names.add(_bare(m.group("name")))
        else:
            built = True
    if built:  # a name made at run time: any word of the code may be it
        names |= set(_WORD.findall(text.lower()))
    return names


def _bare(name: str) -> str:
    return re.split(r"\s*\.\s*", name)[-1].strip('"').lower()
