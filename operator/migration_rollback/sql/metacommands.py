"""Find psql meta-commands (`\\i`, `\\connect`, `\\set`, `\\gexec`...) in SQL text.

The parser blanks a line that starts with a backslash so that pg_dump-style files still parse,
but such a line is not SQL: `\\i other.sql` runs a whole other file, `\\connect` switches
database. What it did is invisible to the engine, so callers must report it, never drop it.

A backslash only starts a meta-command outside string literals, quoted identifiers, comments
and dollar-quoted bodies, so this is a small lexer rather than a regular expression.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from migration_rollback.redact import clip
from migration_rollback.redact_sql import sql_excerpt


def normalize_text(text: str) -> str:
    """Drop a byte-order mark and Windows line endings; both confuse offsets, neither is SQL."""
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_][A-Za-z_0-9]*)?\$")
_IDENT_CHAR = re.compile(r"[A-Za-z0-9_$]")
_CANDIDATE = re.compile(r"^[ \t]*\\", re.MULTILINE)
# What can open a quoted or commented run, or end a line; everything else is skipped at once.
_SPECIAL = re.compile(r"\n|--|/\*|['\"$]")
_LINE_START_META = re.compile(r"[ \t]*\\")
_ESCAPED_OR_QUOTE = re.compile(r"\\.|'", re.DOTALL)


@dataclass(frozen=True, slots=True)
class MetaCommand:
    """A psql meta-command line: its 1-based line number and text."""

    line: int
    text: str

    @property
    def command(self) -> str:
        """`\\i`, `\\connect`...: the command without its arguments."""
        return self.text.split(None, 1)[0]

    @property
    def shown(self) -> str:
        return clip(sql_excerpt(self.text), 60)


def find_meta_commands(text: str) -> tuple[MetaCommand, ...]:
    """Every line starting with a backslash outside quotes and comments, in order."""
    if "\\" not in text:  # the common case, decided without copying the text
        return ()
    text = normalize_text(text)
    if not _CANDIDATE.search(text):  # the common case: no line starts with a backslash
        return ()
    found: list[MetaCommand] = []
    pos, line = 0, 1
    at_line_start = True
    while pos < len(text):
        if at_line_start:
            meta = _LINE_START_META.match(text, pos)
            if meta:
                end = _line_end(text, pos)
                found.append(MetaCommand(line, text[meta.end() - 1 : end].strip()))
                pos = end
        special = _SPECIAL.search(text, pos)
        if special is None:
            break
        if special.group(0) == "\n":
            pos, line, at_line_start = special.end(), line + 1, True
            continue
        end = _skip_token(text, special.start())
        line += text.count("\n", special.start(), end)
        pos, at_line_start = end, False
    return tuple(found)


def _line_end(text: str, pos: int) -> int:
    end = text.find("\n", pos)
    return len(text) if end < 0 else end


def _skip_token(text: str, pos: int) -> int:
    """The end of the quoted/commented run starting at `pos`, or pos + 1 for a lone `$`."""
    char = text[pos]
    if text.startswith("--", pos):
        return _line_end(text, pos)
    if text.startswith("/*", pos):
        return _block_comment_end(text, pos)
    if char == "'":
        return _quoted_end(text, pos, "'", backslash=_is_escape_string(text, pos))
    if char == '"':
        return _quoted_end(text, pos, '"', backslash=False)
    if pos == 0 or not _IDENT_CHAR.match(text[pos - 1]):
        match = _DOLLAR_TAG.match(text, pos)
        if match:
            close = text.find(match.group(0), match.end())
            return len(text) if close < 0 else close + len(match.group(0))
    return pos + 1


def _is_escape_string(text: str, pos: int) -> bool:
    """`E'...'`: backslash escapes apply (the E must not end a longer identifier)."""
    if pos == 0 or text[pos - 1] not in "eE":
        return False
    return pos == 1 or not _IDENT_CHAR.match(text[pos - 2])


def _quoted_end(text: str, pos: int, quote: str, *, backslash: bool) -> int:
    i = pos + 1
    while True:
        if backslash:
            match = _ESCAPED_OR_QUOTE.search(text, i)
            if match is None:
                return len(text)
            if match.group(0) != "'":
                i = match.end()
                continue
            close = match.start()
        else:
            close = text.find(quote, i)
            if close < 0:
                return len(text)
        if text.startswith(quote * 2, close):  # a doubled quote is the quote itself
            i = close + 2
            continue
        return close + 1


def _block_comment_end(text: str, pos: int) -> int:
    """Block comments nest in PostgreSQL."""
    depth, i = 0, pos
    while True:
        opening, closing = text.find("/*", i), text.find("*/", i)
        if closing < 0:
            return len(text)
        if 0 <= opening < closing:
            depth, i = depth + 1, opening + 2
            continue
        depth, i = depth - 1, closing + 2
        if depth == 0:
            return i
