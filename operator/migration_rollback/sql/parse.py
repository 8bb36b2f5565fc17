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
from migration_rollback.sql.metacommands import find_meta_commands
from migration_rollback.sql.metacommands import normalize_text as normalize_text
from migration_rollback.sql.model import Script, Statement

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

    def span(self, line: int) -> tuple[int, int]:
        """Offsets of a 1-based line's first character and of its end (before the newline)."""
        start = self._starts[line - 1]
        end = self._starts[line] - 1 if line < len(self._starts) else self._length
        return start, end

    def locate(self, offset: int) -> tuple[int, int]:
        offset = max(0, min(offset, self._length))
        line = bisect_right(self._starts, offset)
        return line, offset - self._starts[line - 1] + 1


def line_and_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of one character offset (build a LineIndex for many)."""
    return LineIndex(text).locate(offset)


def _blank_meta_commands(text: str, source: str, lines: LineIndex) -> tuple[str, list[str]]:
    """Replace psql meta-command lines by spaces so offsets (and so line numbers) stay true.
    Which lines are meta-commands is the lexer's answer (outside strings, quoted names,
    comments and dollar quotes), the same one `validate` reports."""
    found = find_meta_commands(text)
    if not found:
        return text, []
    chars = list(text)
    warnings = []
    for meta in found:
        start, end = lines.span(meta.line)
        chars[start:end] = " " * (end - start)
        warnings.append(f"{source}:{meta.line}: psql meta-command skipped: {meta.shown}")
    return "".join(chars), warnings


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
