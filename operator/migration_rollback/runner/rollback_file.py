"""A rollback file as the runner accepts it: header, MANUAL markers, checksum and statements.

`generate` writes `-- ROLLBACK:`, `-- Generated:`, `-- Source:` and `-- Source-SHA256:` header
lines and `-- MANUAL:` markers for work a human must do. The runner trusts none of it blindly:
the header must name the migration being rolled back, MANUAL markers stop the run unless a human
says they were handled, and the checksum pinned at review time must match the bytes executed.
Pure: the caller reads the bytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from pglast.enums.parsenodes import ObjectType

from migration_rollback.project.migrations import SourceText
from migration_rollback.redact_sql import sql_excerpt
from migration_rollback.runner.errors import PreconditionError
from migration_rollback.runner.options import MigrationId
from migration_rollback.sql import MANUAL_PREFIX, Script, parse_script
from migration_rollback.sql._ast import ast
from migration_rollback.sql.cascades import ALLOW_CASCADE_MARK, unmarked_cascades
from migration_rollback.sql.copy_data import INLINE_COPY_ADVICE
from migration_rollback.sql.metacommands import find_meta_commands
from migration_rollback.sql.parse import split_comment_lines
from migration_rollback.sqltext import NUL_PROBLEM, line_of, nul_line

_HEADER_KEYS = ("ROLLBACK", "Generated", "Source", "Source-SHA256")


@dataclass(frozen=True, slots=True)
class ManualMarker:
    line: int
    text: str


@dataclass(frozen=True, slots=True)
class RollbackSource:
    """One migration's rollback SQL, parsed and fingerprinted."""

    migration: MigrationId
    path: str
    sha256: str
    header: dict[str, str]
    manual: tuple[ManualMarker, ...]
    script: Script
    # The text checked and parsed: what else is read from the file is read from this (a
    # second read of the path could see another file: an edit, a checkout, a regeneration).
    text: str = field(default="", repr=False)
    # The forward migration it was generated from, read once from the folder (None: not
    # there): its checksum is checked and its statements are read from these same bytes.
    forward: SourceText | None = field(default=None, repr=False)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_header(text: str) -> dict[str, str]:
    """`-- Key: value` lines of the leading comment block (stops at the first SQL line)."""
    header: dict[str, str] = {}
    for line in text.removeprefix("\ufeff").splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("--"):
            break
        key, sep, value = stripped[2:].strip().partition(":")
        if sep and key.strip() in _HEADER_KEYS:
            header.setdefault(key.strip(), value.strip())
    return header


def _sql_text(path: str, data: bytes) -> str:
    """The file's text, refused as `validate` refuses it: not UTF-8, or holding a NUL byte
    (libpq sends a query as a C string: what follows the NUL would never run, and the run
    would still succeed)."""
    line = nul_line(data)
    if line is not None:
        raise PreconditionError(f"{path}:{line}: {NUL_PROBLEM}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PreconditionError(
            f"{path}:{line_of(data, exc.start)}: not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None


def parse_rollback(
    migration: MigrationId,
    path: str,
    data: bytes,
    *,
    expect_sha256: str | None = None,
) -> RollbackSource:
    """Check and parse a rollback file; raise PreconditionError / SqlSyntaxError if unusable."""
    digest = sha256_hex(data)
    if expect_sha256 is not None and digest != expect_sha256.lower():
        raise PreconditionError(
            f"{path}: sha256 is {digest}, but --expect-sha256 pins {expect_sha256.lower()}: "
            "the file changed since it was reviewed"
        )
    text = _sql_text(path, data)
    header = read_header(text)
    named = header.get("ROLLBACK")
    if named and not MigrationId.parse(named).same_as(migration):
        raise PreconditionError(
            f"{path}: header says it rolls back {named!r}, not {migration.name!r}"
        )
    script = parse_script(text, path)
    _refuse_meta_commands(path, text)
    refuse_inline_copy(script, "execute")
    manual = tuple(
        ManualMarker(line, note) for line, note in split_comment_lines(text, MANUAL_PREFIX)
    )
    # A rollback of data changes only is MANUAL markers only: a capture (or a human) does it.
    if not script.statements and not manual:
        raise PreconditionError(f"{path}: contains no SQL statements")
    return RollbackSource(migration, path, digest, header, manual, script, text)


def _refuse_meta_commands(path: str, text: str) -> None:
    """The parser skips psql meta-commands; running the rest would silently do less (or, after
    a skipped `\\connect`, act on the wrong database)."""
    found = find_meta_commands(text)
    if found:
        first = found[0]
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise PreconditionError(
            f"{path}:{first.line}: psql meta-command '{first.shown}'{more}: execute runs SQL "
            "only and would skip it; replace it with SQL, or do that part by hand and remove it"
        )


def refuse_inline_copy(script: Script, command: str) -> None:
    """Rows after a `COPY ... FROM stdin` are cut out before parsing, and statements are sent
    one by one: the COPY would wait for rows that never come. Refused before anything runs."""
    if not script.copy_blocks:
        return
    first = script.copy_blocks[0]
    more = len(script.copy_blocks) - 1
    also = f" (and {more} more block{'s' if more > 1 else ''})" if more else ""
    raise PreconditionError(
        f"{script.source}:{first.line}: COPY ... FROM stdin with inline data{also}: {command} "
        f"cannot send inline COPY data; {INLINE_COPY_ADVICE}"
    )


def check_manual(sources: list[RollbackSource], allow_manual: bool) -> None:
    """Refuse while `-- MANUAL:` markers remain, unless a human said they were handled."""
    if allow_manual:
        return
    pending = [(s.path, m) for s in sources for m in s.manual]
    if pending:
        shown = "; ".join(f"{path}:{m.line}: {sql_excerpt(m.text)}" for path, m in pending[:5])
        more = f" (and {len(pending) - 5} more)" if len(pending) > 5 else ""
        raise PreconditionError(
            f"{len(pending)} MANUAL marker(s) still in the rollback: {shown}{more}. Do the work "
            "they describe (or confirm it is not needed), then pass --allow-manual"
        )


def check_cascade(sources: list[RollbackSource], allow_cascade: bool, *, purge: bool) -> None:
    """Refuse what validate calls an error (sql/cascades.unmarked_cascades, the same rule): a
    CASCADE drops every dependent, a restrictive RLS policy or a later migration's view too,
    and none of them is named anywhere before it is gone. Not a DROP TABLE that is archived
    (no --purge): the table is moved, and what its CASCADE would have taken is removed one by
    one and named in the result (archive_detach.py)."""
    if allow_cascade:
        return
    found = [
        (s.path, st)
        for s in sources
        for st in unmarked_cascades(s.script, s.text)
        if purge or not _drops_tables(st.node)
    ]
    if found:
        shown = "; ".join(f"{path}:{st.location.line}: {st.first_line}" for path, st in found[:5])
        more = f" (and {len(found) - 5} more)" if len(found) > 5 else ""
        raise PreconditionError(
            f"{len(found)} statement(s) with CASCADE in the rollback (validate: error): {shown}"
            f"{more}. CASCADE drops whatever depends on the object (RLS policies, views, later "
            f"migrations' objects) without naming it: drop the dependents explicitly, add "
            f"'{ALLOW_CASCADE_MARK}' to the file after review, or pass --allow-cascade"
        )


def _drops_tables(node: object) -> bool:
    return isinstance(node, ast.DropStmt) and node.removeType == ObjectType.OBJECT_TABLE


def check_source_checksum(source: RollbackSource) -> None:
    """The forward migration must still be the one the rollback was generated from."""
    pinned = source.header.get("Source-SHA256")
    if source.forward is None or not pinned:
        return
    actual = source.forward.sha256
    if actual != pinned.lower():
        raise PreconditionError(
            f"{source.path}: generated from a migration with sha256 {pinned}, but "
            f"{source.header.get('Source', 'the migration')} now has {actual}: regenerate or "
            "review the rollback"
        )
