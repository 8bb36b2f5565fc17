"""The statements of a migration that does not parse as a whole. Pure, no I/O.

A file with one statement PostgreSQL has no grammar for (`CREATE POLICY IF NOT EXISTS`, a bare
`RAISE NOTICE`, MySQL's inline `INDEX` in a CREATE TABLE) fails as a whole on Supabase, yet the
rest of it is what later migrations build on. Cut at the top-level semicolons the way psql does
(PostgreSQL's own scanner: quotes, dollar quotes and comments respected), each piece parsed on
its own; the pieces that parse are replayed (see replayer.py), the others are reported with
their file:line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from pglast.parser import ParseError, scan

from migration_rollback.errors import SqlSyntaxError
from migration_rollback.sql import Statement, parse_script
from migration_rollback.sql.copy_data import blank_blocks, reads_inline_rows
from migration_rollback.sql.metacommands import find_copy_blocks, normalize_text

_SEMICOLON, _OPEN, _CLOSE = "ASCII_59", "ASCII_40", "ASCII_41"


def lenient_statements(text: str, source: str) -> tuple[list[Statement], list[str]]:
    """The statements that parse piece by piece (file:line as in the whole file; a `COPY ...
    FROM stdin` left out, as the replayer leaves it out of a file that parses), and
    `file:line:column: does not parse: reason` for each piece that does not."""
    parsed: list[Statement] = []
    unparsed: list[str] = []
    # Inline COPY rows are data: cut before the cutting, or a quote in a row swallows the rest.
    text = normalize_text(text)
    blocks = find_copy_blocks(text)
    text = blank_blocks(text, blocks)
    for start, end in _pieces(text):
        line = text.count("\n", 0, start)
        column = start - (text.rfind("\n", 0, start) + 1)
        try:  # padded so that every location is the one in the file
            script = parse_script("\n" * line + " " * column + text[start:end], source)
        except SqlSyntaxError as exc:
            unparsed.append(f"{exc.location}: does not parse: {exc.message}")
            continue
        kept = [st for st in script.statements if not reads_inline_rows(st, blocks)]
        parsed.extend(replace(st, index=len(parsed) + i) for i, st in enumerate(kept))
    return parsed, unparsed


def _pieces(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each top-level statement, its semicolon excluded; the whole text when
    it cannot even be scanned (an unterminated quote)."""
    try:
        tokens = scan(text)
    except ParseError:
        yield 0, len(text)
        return
    start, depth = 0, 0
    for token in tokens:
        if token.name == _OPEN:
            depth += 1
        elif token.name == _CLOSE:
            depth = max(depth - 1, 0)
        elif token.name == _SEMICOLON and depth == 0:
            yield start, token.start
            start = token.end + 1
    if text[start:].strip():
        yield start, len(text)
