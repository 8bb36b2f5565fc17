"""Turn SQL text into located statements with pglast, tolerant of what real migration files hold.

Supabase migrations are often pg_dump output or hand-written psql scripts: they may carry psql
meta-commands (`\\set`, `\\connect`), a UTF-8 byte-order mark or Windows line endings. Those are
neutralised (with a warning) rather than crashing the tool; genuine syntax errors are reported
with file:line:column.
"""

from __future__ import annotations

import re
from bisect import bisect_right

import pglast
from pglast.parser import ParseError

from migration_rollback.errors import SourceLocation, SqlSyntaxError
from migration_rollback.sql.model import Script, Statement

_META_COMMAND = re.compile(r"^[ \t]*\\[a-zA-Z!?].*$", re.MULTILINE)
_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z_0-9]*)?\$")
_NEWLINE = re.compile("\n")


class LineIndex:
    """Offsets to 1-based line and column in O(log n): the line starts are found once per text.

    A migration can hold 100k statements; counting newlines from the top for each of them made
    reading a large file quadratic.
    """

    __slots__ = ("_length", "_starts")

    def __init__(self, text: str) -> None:
        self._starts = [0, *(m.end() for m in _NEWLINE.finditer(text))]
        self._length = len(text)

    def locate(self, offset: int) -> tuple[int, int]:
        offset = max(0, min(offset, self._length))
        line = bisect_right(self._starts, offset)
        return line, offset - self._starts[line - 1] + 1


def line_and_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of one character offset (build a LineIndex for many)."""
    return LineIndex(text).locate(offset)


class _DollarQuotes:
    """Whether offsets (asked in increasing order) fall inside a dollar-quoted body.

    One forward pass over the tags for the whole file, not a rescan from the top per question.
    """

    def __init__(self, text: str) -> None:
        self._tags = _DOLLAR_TAG.finditer(text)
        self._pending: re.Match[str] | None = next(self._tags, None)
        self._open: str | None = None

    def inside(self, offset: int) -> bool:
        while self._pending is not None and self._pending.end() <= offset:
            tag = self._pending.group(0)
            if self._open is None:
                self._open = tag
            elif tag == self._open:
                self._open = None
            self._pending = next(self._tags, None)
        return self._open is not None


def _blank_meta_commands(text: str, source: str, lines: LineIndex) -> tuple[str, list[str]]:
    """Replace psql meta-command lines by spaces so offsets (and so line numbers) stay true."""
    warnings: list[str] = []
    pieces: list[str] = []
    last = 0
    quotes = _DollarQuotes(text)
    for match in _META_COMMAND.finditer(text):
        if quotes.inside(match.start()):
            continue
        line, _ = lines.locate(match.start())
        warnings.append(
            f"{source}:{line}: psql meta-command skipped: {match.group(0).strip()[:60]}"
        )
        pieces.append(text[last : match.start()])
        pieces.append(" " * (match.end() - match.start()))
        last = match.end()
    pieces.append(text[last:])
    return "".join(pieces), warnings


def normalize_text(text: str) -> str:
    """Drop a byte-order mark and Windows line endings; both confuse offsets, neither is SQL."""
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def parse_script(text: str, source: str = "<string>") -> Script:
    """Parse a whole SQL file; raise SqlSyntaxError with file:line:column when it does not parse."""
    text = normalize_text(text)
    # Blanking keeps every offset, so one index serves the text before and after it.
    lines = LineIndex(text)
    cleaned, warnings = _blank_meta_commands(text, source, lines)
    try:
        raw = pglast.parse_sql(cleaned)
    except ParseError as exc:
        at = exc.args[1] if len(exc.args) > 1 else None
        offset = int(at) if at is not None else len(cleaned)  # None: at the end of input
        line, column = lines.locate(offset)
        raise SqlSyntaxError(SourceLocation(source, line, column), str(exc.args[0])) from None
    statements: list[Statement] = []
    for raw_stmt in raw:
        start = raw_stmt.stmt_location or 0
        length = raw_stmt.stmt_len or (len(cleaned) - start)
        chunk = cleaned[start : start + length]
        lead = len(chunk) - len(chunk.lstrip())
        line, column = lines.locate(start + lead)
        statements.append(
            Statement(
                text=_strip_leading_comments(chunk.strip()),
                location=SourceLocation(source, line, column),
                index=len(statements),
                node=raw_stmt.stmt,
            )
        )
    return Script(source=source, statements=tuple(statements), warnings=tuple(warnings))


def _strip_leading_comments(chunk: str) -> str:
    """pglast's statement span starts after the previous `;`, so it may begin with comments."""
    lines = chunk.splitlines()
    while lines and (not lines[0].strip() or lines[0].lstrip().startswith("--")):
        lines.pop(0)
    return "\n".join(lines).strip()


def split_comment_lines(text: str, prefix: str) -> list[tuple[int, str]]:
    """Lines that start with a given comment prefix (e.g. `-- MANUAL:`), with line numbers."""
    found: list[tuple[int, str]] = []
    for number, line in enumerate(normalize_text(text).splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith(prefix):
            found.append((number, stripped[len(prefix) :].strip()))
    return found
