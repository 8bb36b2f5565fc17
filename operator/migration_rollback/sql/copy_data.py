"""Inline COPY data: the rows pg_dump writes after `COPY ... FROM stdin;`, up to a `\\.` line.

`pg_dump` and `supabase db dump --data-only` write table contents this way, and such dumps end
up in migrations and seed files. psql sends the lines that follow the statement to the server
as data, not as SQL; a parser that reads them as SQL fails far from the cause (on a row), so
the lexer in metacommands.py cuts these blocks out, and callers say at the COPY's file:line
what the tool does not do with them (apply cannot send them; the rollback needs a human).

A block ends at a line that is exactly `\\.` (psql's own test, after Windows line endings are
normalised) or at the end of the file, as psql ends it. `\\copy ... from stdin` (a psql
meta-command) reads its rows from the script the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import TYPE_CHECKING

from pglast.parser import ParseError, scan

if TYPE_CHECKING:  # model.py imports CopyBlock from here
    from migration_rollback.sql.model import Script, Statement

# Cheap tests first: most files never name stdin, and most statements are no COPY.
STDIN_WORD = re.compile(r"stdin", re.IGNORECASE)
_TERMINATOR = re.compile(r"^\\\.$", re.MULTILINE)
_META_COPY = re.compile(r"\\copy\b.*\bfrom\s+stdin\b", re.IGNORECASE)
_COMMENTS = frozenset({"C_COMMENT", "SQL_COMMENT"})

INLINE_COPY_ADVICE = (
    "load the rows with psql (psql -f), or turn them into INSERT ... VALUES statements"
)


@dataclass(frozen=True, slots=True)
class CopyBlock:
    """The rows after one `COPY ... FROM stdin`: offsets in the normalised text."""

    line: int  # the line of the COPY (or \copy) that reads them
    data_line: int  # the first line of rows
    start: int  # offset of the first row
    data_end: int  # offset where the rows end: the terminator line's start, or the end
    end: int  # offset after the terminator line (its newline included), or the end
    terminated: bool  # False: the file ended before a `\.` line

    def rows(self, text: str) -> str:
        """The data as psql would send it (the terminator line left out)."""
        return text[self.start : self.data_end]

    def row_count(self, text: str) -> int:
        return text.count("\n", self.start, self.data_end) + (
            0 if self.data_end == self.start or text[self.data_end - 1] == "\n" else 1
        )

    def describe(self, text: str) -> str:
        """`inline COPY data (3 rows, lines 5-7)` and, when so, that no `\\.` ends it."""
        rows = self.row_count(text)
        last = self.data_line + max(rows - 1, 0)
        where = f"line {self.data_line}" if rows <= 1 else f"lines {self.data_line}-{last}"
        ended = "" if self.terminated else ", no '\\.' line ends it: it runs to the end of file"
        return f"inline COPY data ({rows} row{'' if rows == 1 else 's'}, {where}{ended})"


def copy_statement_start(text: str, start: int, end: int) -> int | None:
    """Where `COPY` starts when text[start:end] is a `COPY ... FROM STDIN` statement."""
    if STDIN_WORD.search(text, start, end) is None:
        return None
    try:
        tokens = [t for t in scan(text[start:end]) if t.name not in _COMMENTS]
    except ParseError:
        return None
    if not tokens or tokens[0].name != "COPY":
        return None
    names = [t.name for t in tokens]
    if any(a == "FROM" and b == "STDIN" for a, b in pairwise(names)):
        return start + tokens[0].start
    return None


def is_meta_copy_from_stdin(meta_text: str) -> bool:
    """`\\copy t from stdin`: its rows follow in the script (`pstdin` reads psql's input)."""
    return _META_COPY.match(meta_text) is not None


def block_after(text: str, start: int, line: int, data_line: int) -> CopyBlock:
    """The block whose rows begin at `start` (the line after the one that reads them)."""
    found = _TERMINATOR.search(text, start)
    if found is None:
        return CopyBlock(line, data_line, start, len(text), len(text), terminated=False)
    end = min(found.end() + 1, len(text))  # its newline goes with it
    return CopyBlock(line, data_line, start, found.start(), end, terminated=True)


def reads_inline_rows(statement: Statement, blocks: tuple[CopyBlock, ...]) -> bool:
    """The statement is a `COPY ... FROM stdin` whose rows are one of `blocks`."""
    return statement.kind == "CopyStmt" and any(b.line == statement.location.line for b in blocks)


def without_inline_copies(script: Script) -> tuple[Script, str | None]:
    """The script without its `COPY ... FROM stdin` statements, and a note saying so (None
    when it had none): for the verifier's shadow, which compares catalogs, not rows, and sends
    statements in pipelines that a COPY would leave waiting for rows."""
    blocks = script.copy_blocks
    kept = [st for st in script.statements if not reads_inline_rows(st, blocks)]
    if len(kept) == len(script.statements):
        return script, None
    lines = ", ".join(str(b.line) for b in blocks)
    note = (
        f"inline COPY data (COPY ... FROM stdin at line {lines}) was not loaded on the shadow: "
        "its rows are data, the catalogs compared are the same without them"
    )
    statements = tuple(replace(st, index=i) for i, st in enumerate(kept))
    return replace(script, statements=statements), note


def blank_blocks(text: str, blocks: tuple[CopyBlock, ...]) -> str:
    """The text with every block's characters but its newlines turned into spaces: offsets,
    and so every later statement's file:line, stay those of the file."""
    if not blocks:
        return text
    pieces: list[str] = []
    position = 0
    for block in blocks:
        pieces += [text[position : block.start], _spaces(text[block.start : block.end])]
        position = block.end
    pieces.append(text[position:])
    return "".join(pieces)


_NOT_NEWLINE = re.compile(r"[^\n]+")


def _spaces(chunk: str) -> str:
    return _NOT_NEWLINE.sub(lambda m: " " * len(m.group(0)), chunk)
