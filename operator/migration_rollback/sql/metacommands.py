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
from migration_rollback.sql.copy_data import (
    CopyBlock,
    block_after,
    copy_statement_start,
    is_meta_copy_from_stdin,
)


def normalize_text(text: str) -> str:
    """Drop a byte-order mark and Windows line endings; both confuse offsets, neither is SQL."""
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_][A-Za-z_0-9]*)?\$")
_IDENT_CHAR = re.compile(r"[A-Za-z0-9_$]")
_CANDIDATE = re.compile(r"^[ \t]*\\", re.MULTILINE)
# What can open a quoted or commented run, or end a line; everything else is skipped at once.
_SPECIAL = re.compile(r"\n|--|/\*|['\"$;]")
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


@dataclass(frozen=True, slots=True)
class PsqlScan:
    """What in a SQL file is for psql and not SQL: meta-command lines and inline COPY data."""

    meta_commands: tuple[MetaCommand, ...] = ()
    copy_blocks: tuple[CopyBlock, ...] = ()


def find_meta_commands(text: str) -> tuple[MetaCommand, ...]:
    """Every line starting with a backslash outside quotes, comments and COPY data, in order."""
    return scan_psql(text).meta_commands


def find_copy_blocks(text: str) -> tuple[CopyBlock, ...]:
    """Every block of inline COPY data (offsets in `normalize_text(text)`), in order."""
    return scan_psql(text).copy_blocks


_NOTHING = PsqlScan()


def scan_psql(text: str) -> PsqlScan:
    """One pass of the lexer over the file: meta-commands and COPY blocks, in order."""
    # `in` over a lowered copy: a case-blind regex search cost 15 times more (the common case)
    stdin = "stdin" in text.lower()
    if "\\" not in text and not stdin:
        return _NOTHING
    text = normalize_text(text)
    if not _CANDIDATE.search(text) and not stdin:
        return _NOTHING  # no line starts with a backslash, no COPY reads rows from the file
    return _Lexer(text).run()


class _Lexer:
    """Skips quotes, comments and dollar quotes; notes meta-command lines; at the `;` of a
    `COPY ... FROM stdin` (or after a `\\copy ... from stdin` line) jumps over its rows."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos, self.line, self.statement = 0, 1, 0
        self.meta: list[MetaCommand] = []
        self.blocks: list[CopyBlock] = []
        self.copy_line: int | None = None  # a COPY whose rows start on the next line

    def run(self) -> PsqlScan:
        text, at_line_start = self.text, True
        while self.pos < len(text):
            if at_line_start:
                self._meta_command()
            special = _SPECIAL.search(text, self.pos)
            if special is None:
                break
            at_line_start = self._step(special.group(0), special.start())
        return PsqlScan(tuple(self.meta), tuple(self.blocks))

    def _meta_command(self) -> None:
        meta = _LINE_START_META.match(self.text, self.pos)
        if meta:
            end = _line_end(self.text, self.pos)
            found = MetaCommand(self.line, self.text[meta.end() - 1 : end].strip())
            self.meta.append(found)
            if is_meta_copy_from_stdin(found.text):
                self.copy_line = self.line
            self.pos = self.statement = end

    def _step(self, special: str, at: int) -> bool:
        """Moves past one special run; True when that leaves the lexer at a line start."""
        if special == "\n":
            self.pos, self.line = at + 1, self.line + 1
            if self.copy_line is not None:
                self._skip_block()
            return True
        if special == ";":
            copy = copy_statement_start(self.text, self.statement, at)
            if copy is not None:
                self.copy_line = self.line - self.text.count("\n", copy, at)
            self.pos = self.statement = at + 1
            return False
        end = _skip_token(self.text, at)
        self.line += self.text.count("\n", at, end)
        self.pos = end
        return False

    def _skip_block(self) -> None:
        assert self.copy_line is not None
        block = block_after(self.text, self.pos, self.copy_line, self.line)
        self.blocks.append(block)
        self.line += self.text.count("\n", block.start, block.end)
        self.pos = self.statement = block.end
        self.copy_line = None


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
