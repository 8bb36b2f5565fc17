"""Turn SQL text into located statements with pglast, tolerant of what real migration files hold.

Supabase migrations are often pg_dump output or hand-written psql scripts: they may carry psql
meta-commands (`\\set`, `\\connect`), a UTF-8 byte-order mark or Windows line endings. Those are
neutralised (with a warning) rather than crashing the tool; genuine syntax errors are reported
with file:line:column.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pglast.parser import ParseError, split

from migration_rollback import input_limits
from migration_rollback.errors import SourceLocation, SqlSyntaxError
from migration_rollback.sql.copy_data import INLINE_COPY_ADVICE, CopyBlock, blank_blocks
from migration_rollback.sql.metacommands import find_meta_commands, scan_psql
from migration_rollback.sql.metacommands import normalize_text as normalize_text
from migration_rollback.sql.model import Script, Statement
from migration_rollback.sql.nesting import check_size
from migration_rollback.sql.trees import parse_trees

_NEWLINE = re.compile("\n")


class LineIndex:
    """Offsets to 1-based line and column, linear over a whole file.

    A migration can hold 100k statements; counting newlines from the top for each of them made
    reading a large file quadratic. Offsets asked in increasing order (statements, in file
    order) count only the newlines since the previous one; an earlier offset, or a line's span,
    is found in a table of line starts built on the first such question.
    """

    __slots__ = ("_length", "_line", "_line_start", "_offset", "_starts_table", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._length = len(text)
        self._starts_table: list[int] | None = None
        self._offset = 0  # the last offset located going forward: on line _line,
        self._line = 1  # which starts at _line_start
        self._line_start = 0

    @property
    def _starts(self) -> list[int]:
        if self._starts_table is None:
            self._starts_table = [0, *(m.end() for m in _NEWLINE.finditer(self._text))]
        return self._starts_table

    def span(self, line: int) -> tuple[int, int]:
        """Offsets of a 1-based line's first character and of its end (before the newline)."""
        starts = self._starts
        start = starts[line - 1]
        end = starts[line] - 1 if line < len(starts) else self._length
        return start, end

    def locate(self, offset: int) -> tuple[int, int]:
        offset = max(0, min(offset, self._length))
        if offset < self._offset:
            starts = self._starts
            line = bisect_right(starts, offset)
            return line, offset - starts[line - 1] + 1
        newlines = self._text.count("\n", self._offset, offset)
        if newlines:
            self._line += newlines
            self._line_start = self._text.rfind("\n", self._offset, offset) + 1
        self._offset = offset
        return self._line, offset - self._line_start + 1


def line_and_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of one character offset (build a LineIndex for many)."""
    return LineIndex(text).locate(offset)


def _blank_psql(
    text: str, source: str, lines: LineIndex
) -> tuple[str, list[str], tuple[CopyBlock, ...]]:
    """Replace psql meta-command lines and inline COPY rows by spaces so offsets (and so line
    numbers) stay true. Which lines they are is the lexer's answer (outside strings, quoted
    names, comments and dollar quotes), the same one `validate` reports."""
    found = scan_psql(text)
    if not found.meta_commands and not found.copy_blocks:
        return text, [], ()
    warnings = [
        (block.line, f"{block.describe(text)} not read as SQL: {INLINE_COPY_ADVICE}")
        for block in found.copy_blocks
    ]
    text = blank_blocks(text, found.copy_blocks)
    if found.meta_commands:
        chars = list(text)
        for meta in found.meta_commands:
            start, end = lines.span(meta.line)
            chars[start:end] = " " * (end - start)
            warnings.append((meta.line, f"psql meta-command skipped: {meta.shown}"))
        text = "".join(chars)
    # In file order; a `\copy` line's own warning before that of the rows it reads.
    warnings.sort(key=lambda warning: (warning[0], not warning[1].startswith("psql")))
    return text, [f"{source}:{line}: {what}" for line, what in warnings], found.copy_blocks


def parse_script(
    text: str, source: str = "<string>", known: Mapping[str, Any] | None = None
) -> Script:
    """Parse a whole SQL file; raise SqlSyntaxError with file:line:column when it does not parse.

    `known` maps statement texts (as `Statement.text`) to parse trees already built for them,
    e.g. the generator's own statements when `validate` reads the rollback it wrote. When every
    statement of the file is known, the file is only split (libpg_query's parser, in C) and the
    trees are reused: building pglast's Python nodes is what a parse costs; a file holding just
    the known texts in their order (a rollback as generated) is not even split. Otherwise, or when
    the split fails, the whole file is parsed as usual. The result is the same either way, bar
    the character offsets inside reused trees (relative to their own text), which nothing reads.
    """
    text = normalize_text(text)
    # Blanking keeps every offset, so one index serves the text before and after it.
    lines = LineIndex(text)
    cleaned, warnings, blocks = _blank_psql(text, source, lines)
    statements = _reuse_known(cleaned, source, lines, known) if known else None
    if statements is None:
        check_size(cleaned, source, input_limits.current(), lines)
        statements = _parse(cleaned, source, lines)
    return Script(source, tuple(statements), tuple(warnings), blocks)


_BATCH_SEPARATOR = "\n;\n"


def parse_single_statements(texts: Sequence[str], source: str) -> list[Statement] | None:
    """`parse_script(text, source).statements[0]` for each text, from one parse of them all.

    Only when every text is exactly one statement that needs no clean-up (no byte-order mark,
    carriage return or meta-command): otherwise None, and the caller parses them one by one
    (which also says what is wrong). The one parse of the joined texts builds each tree once,
    and says itself whether each text is one statement: as many statements as texts, the n-th
    lying inside the n-th text (a text of two statements, of none, or one whose string or
    comment runs on past the separator's `;` cannot pass both). Each statement's text and
    location are taken relative to its own text, as a parse of it alone gives them.
    """
    joined = _BATCH_SEPARATOR.join(texts) + _BATCH_SEPARATOR
    # What clean-up or a meta-command needs (a byte-order mark, \r, a backslash) is rare in
    # generated SQL: only then is each text looked at on its own.
    if any(char in joined for char in "\ufeff\r\\") and any(
        normalize_text(text) != text or find_meta_commands(text) for text in texts
    ):
        return None
    offsets: list[int] = []
    position = 0
    for text in texts:
        offsets.append(position)
        position += len(text) + len(_BATCH_SEPARATOR)
    try:
        raw = parse_trees(joined)
    except ParseError:
        return None
    if len(raw) != len(texts):
        return None
    statements = []
    for text, offset, raw_stmt in zip(texts, offsets, raw, strict=True):
        start = (raw_stmt.stmt_location or 0) - offset
        # It may end on the separator's newline (a text with no `;`), never past it.
        if not (0 <= start <= len(text) and 0 < raw_stmt.stmt_len <= len(text) + 1 - start):
            return None
        chunk = text[start : start + raw_stmt.stmt_len]  # the separator's `;` ends each one
        lead = len(chunk) - len(chunk.lstrip())
        line, column = LineIndex(text).locate(start + lead)
        statements.append(
            Statement(
                text=_strip_leading_comments(chunk.strip()),
                location=SourceLocation(source, line, column),
                index=0,
                node=raw_stmt.stmt,
            )
        )
    return statements


# The parser quotes the text "at or near" the error: for an unterminated string or comment, the
# rest of the file, line breaks and all. Printed, those lines stood as lines of the tool's own
# output (a forged "valid" line), the whole file long.
_NEAR_LIMIT = 160


def _one_line(message: object) -> str:
    """The parser's message, its first line only and at most `_NEAR_LIMIT` characters."""
    text = str(message)
    lines = text.splitlines() or [""]
    first = lines[0]
    if len(lines) == 1 and len(first) <= _NEAR_LIMIT:
        return first
    cut = first[:_NEAR_LIMIT] + "…"
    return cut + ('" (cut)' if '"' in first else " (cut)")


def _parse(cleaned: str, source: str, lines: LineIndex) -> list[Statement]:
    try:
        raw = parse_trees(cleaned)
    except ParseError as exc:
        at = exc.args[1] if len(exc.args) > 1 else None
        offset = int(at) if at is not None else len(cleaned)  # None: at the end of input
        line, column = lines.locate(offset)
        raise SqlSyntaxError(SourceLocation(source, line, column), _one_line(exc.args[0])) from None
    # Asked once of the file, not of each statement: a line break other than \n (rare).
    other_breaks = _OTHER_LINE_BREAKS.search(cleaned) is not None
    end, locate = len(cleaned), lines.locate
    statements: list[Statement] = []
    for index, raw_stmt in enumerate(raw):
        start = raw_stmt.stmt_location or 0
        chunk = cleaned[start : start + (raw_stmt.stmt_len or end - start)]
        lead = len(chunk) - len(chunk.lstrip())
        line, column = locate(start + lead)
        text = _strip_leading_comments(chunk, other_breaks=other_breaks)
        statements.append(
            Statement(text, SourceLocation(source, line, column), index, raw_stmt.stmt)
        )
    return statements


def _reuse_known(
    cleaned: str, source: str, lines: LineIndex, known: Mapping[str, Any]
) -> list[Statement] | None:
    """The statements with their known trees, or None when one is not known (or no split)."""
    found = _known_in_order(cleaned, known)
    if found is None:
        try:
            # The same spans as parse_sql's statements, stripped of surrounding whitespace.
            spans = split(cleaned, with_parser=True, only_slices=True)
        except ParseError:
            return None  # the full parse reports it, located
        found = [(span.start, _strip_leading_comments(cleaned[span])) for span in spans]
    statements: list[Statement] = []
    for start, statement_text in found:
        node = known.get(statement_text)
        if node is None:
            return None
        line, column = lines.locate(start)
        statements.append(
            Statement(
                text=statement_text,
                location=SourceLocation(source, line, column),
                index=len(statements),
                node=node,
            )
        )
    return statements


# What the generator writes between two statements: blanks and whole `--` comment lines.
_GAP = re.compile(r"(?:[ \t\n]|--[^\n]*(?:\n|\Z))*")


def _known_in_order(cleaned: str, known: Mapping[str, Any]) -> list[tuple[int, str]] | None:
    """(where `split` starts each statement, its text) when the text is `known`'s texts in
    the mapping's order, each ended by `;`, with only blanks and `--` lines around them: a
    rollback as generated. None otherwise, and the file is split (libpg_query's parse).

    Each known text is one whole statement (its tree is the parse of it): unless its last
    line holds a `--` comment, the `;` written right after it ends it, and, unless it opens
    with a comment (a text made by a rule, not parsed), it starts where `split` starts a
    statement, at its first token.
    """
    found: list[tuple[int, str]] = []
    position = 0
    for text in known:
        begins = _gap_end(cleaned, position)
        ends = begins + len(text)
        if (
            text.startswith(("--", "/*"))
            or "--" in text[text.rfind("\n") + 1 :]
            or not cleaned.startswith(text, begins)
            or cleaned[ends : ends + 1] != ";"
        ):
            return None
        found.append((begins, text))
        position = ends + 1
    return found if _gap_end(cleaned, position) == len(cleaned) else None


def _gap_end(text: str, position: int) -> int:
    gap = _GAP.match(text, position)
    return position if gap is None else gap.end()  # it matches the empty string: never None


# Line boundaries of str.splitlines other than \n (\r is gone after normalize_text).
_OTHER_LINE_BREAKS = re.compile("[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def _strip_leading_comments(chunk: str, *, other_breaks: bool = True) -> str:
    """pglast's statement span starts after the previous `;`, so it may begin with comments.
    `other_breaks=False`: the caller knows the text holds no line break but \n."""
    stripped = chunk.strip()
    if not stripped.startswith("--") and not (
        other_breaks and _OTHER_LINE_BREAKS.search(stripped) is not None
    ):
        # No comment first, only \n line breaks inside: the line-by-line rewrite below changes
        # nothing (another break among the blanks around it goes with them).
        return stripped
    lines = chunk.splitlines()
    while lines and (not lines[0].strip() or lines[0].lstrip().startswith("--")):
        lines.pop(0)
    return "\n".join(lines).strip()


def numbered_lines(text: str) -> Iterator[tuple[int, str]]:
    """The lines of a SQL text numbered as statement locations number them (`\n` only, after
    `normalize_text`), so a marker's or a group's line is the line of the statements beside it.
    A line holding another break (a form feed, U+2028...) comes in its pieces, each with that
    line's number: a `-- MANUAL:` after such a break is still found."""
    for number, line in enumerate(normalize_text(text).split("\n"), start=1):
        if _OTHER_LINE_BREAKS.search(line) is None:
            yield number, line
        else:
            for piece in line.splitlines():
                yield number, piece


def split_comment_lines(text: str, prefix: str) -> list[tuple[int, str]]:
    """Lines that start with a given comment prefix (e.g. `-- MANUAL:`), with line numbers."""
    found: list[tuple[int, str]] = []
    if prefix not in text:  # the common case, decided without splitting the text
        return found
    for number, line in numbered_lines(text):
        stripped = line.strip()
        if stripped.startswith(prefix):
            found.append((number, stripped[len(prefix) :].strip()))
    return found
