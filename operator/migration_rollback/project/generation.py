"""`generate`: write each migration's rollback SQL and Markdown, never clobbering hand edits."""

from __future__ import annotations

import contextlib
import enum
import hashlib
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from migration_rollback import __version__
from migration_rollback.errors import SourceFileError
from migration_rollback.project.artifacts import (
    RollbackHeader,
    body_sha256,
    compose,
    normalized_body,
    split_file,
)
from migration_rollback.project.docs import render_rollback_doc, table_rebuilds
from migration_rollback.project.migrations import read_source
from migration_rollback.project.workspace import LoadedMigration, meta_command_notes

DOC_MARK = "<!-- migration-rollback: generated; content-sha256="


class Outcome(enum.StrEnum):
    WRITTEN = "written"
    UNCHANGED = "unchanged"
    KEPT_HAND_EDITED = "kept (hand-edited)"
    FAILED = "failed"


@dataclass(frozen=True)
class GenerateResult:
    migration: str
    outcome: Outcome
    message: str = ""
    manual_items: int = 0
    destroys_data: bool = False


def generate_one(
    item: LoadedMigration, *, force: bool, now: datetime | None = None, body: str | None = None
) -> GenerateResult:
    """Write `<name>_rollback.sql` and `.md`; `body` overrides the static plan (--verify).

    A file that cannot be read or written fails this migration only, with what and where.
    """
    try:
        return _generate(item, force=force, now=now, body=body)
    except SourceFileError as exc:
        return GenerateResult(item.migration.name, Outcome.FAILED, str(exc))
    except OSError as exc:
        where = exc.filename or item.migration.rollback_path
        return GenerateResult(
            item.migration.name, Outcome.FAILED, f"{where}: cannot write: {exc.strerror}"
        )


def _generate(
    item: LoadedMigration, *, force: bool, now: datetime | None, body: str | None
) -> GenerateResult:
    if item.error is not None or item.plan is None:
        return GenerateResult(item.migration.name, Outcome.FAILED, str(item.error))
    body = body if body is not None else item.plan.render_body()
    if os.path.lexists(item.migration.rollback_path):
        settled = _settled(item, body, force)
        if settled is not None:
            return settled
    return _write_rollback(item, body, force, now)


def _settled(item: LoadedMigration, body: str, force: bool) -> GenerateResult | None:
    """The result when the existing .sql stays (edited by hand, or current); None: rewrite it."""
    path = item.migration.rollback_path
    text = read_source(path).text
    existing = split_file(text)
    if existing.hand_edited and not force:
        return GenerateResult(
            item.migration.name,
            Outcome.KEPT_HAND_EDITED,
            f"{path.name} was edited by hand; not overwritten (use --force to replace it)",
        )
    current = (
        existing.header is not None
        and normalized_body(existing.body) == normalized_body(body)  # the hashes' input
        and existing.header.source_sha256 == item.source.sha256
    )
    if not current:
        return None
    edited = _doc_edited(item)
    if force and edited is not False:  # --force replaces a hand-edited .md (.sql current)
        digest = hashlib.sha256(text.encode()).hexdigest()
        _write_doc(item, digest, force, tuple(table_rebuilds(body)))
        doc = item.migration.doc_path.name
        what = "was edited by hand: replaced (--force)" if edited else "was missing: written"
        return _result(item, Outcome.WRITTEN, f"; {doc} {what}")
    return _result(item, Outcome.UNCHANGED)


def _doc_edited(item: LoadedMigration) -> bool | None:
    """Whether the .md was edited by hand; None when there is none."""
    path = item.migration.doc_path
    return _doc_hand_edited(read_source(path).text) if os.path.lexists(path) else None


def _write_rollback(
    item: LoadedMigration, body: str, force: bool, now: datetime | None
) -> GenerateResult:
    """A new .sql with its header; the .md with it, unless edited by hand (said)."""
    header = RollbackHeader(
        migration=item.migration.name,
        generated=(now or datetime.now(UTC)).isoformat(timespec="seconds").replace("+00:00", "Z"),
        source=item.migration.path.name,
        source_sha256=item.source.sha256,
        body_sha256=body_sha256(body),
        generator=f"migration-rollback {__version__}",
    )
    content = compose(header, body)
    _write_atomically(item.migration.rollback_path, content)
    rebuilds = tuple(table_rebuilds(body))
    doc_kept = not _write_doc(item, hashlib.sha256(content.encode()).hexdigest(), force, rebuilds)
    note = (
        f"; {item.migration.doc_path.name} was edited by hand: kept, now out of date with the "
        "new rollback (merge your edits, or use --force to replace it)"
        if doc_kept
        else ""
    )
    return _result(item, Outcome.WRITTEN, note)


def _result(item: LoadedMigration, outcome: Outcome, message: str = "") -> GenerateResult:
    assert item.plan is not None
    return GenerateResult(
        item.migration.name,
        outcome,
        message,
        manual_items=len(item.plan.manual_items) + len(item.meta_commands),
        destroys_data=item.plan.destroys_data,
    )


def _write_doc(
    item: LoadedMigration, rollback_sha256: str, force: bool, rebuilds: tuple[str, ...] = ()
) -> bool:
    """Write the .md unless edited by hand (kept, as the .sql is, unless --force); written?"""
    assert item.plan is not None
    path = item.migration.doc_path
    if os.path.lexists(path) and not force and _doc_hand_edited(read_source(path).text):
        return False
    notes = tuple(meta_command_notes(item))
    content = render_rollback_doc(item.plan, rollback_sha256, notes, rebuilds).rstrip() + "\n"
    digest = hashlib.sha256(content.encode()).hexdigest()
    _write_atomically(path, f"{content}\n{DOC_MARK}{digest} -->\n")
    return True


def _doc_hand_edited(text: str) -> bool:
    head, sep, tail = text.rpartition(DOC_MARK)
    if not sep:
        return True
    digest, closed, after = tail.partition(" -->")
    if not closed or after.strip():  # text added after the mark line is an edit too
        return True
    return hashlib.sha256((head.rstrip() + "\n").encode()).hexdigest() != digest.strip()


def _write_atomically(path: Path, content: str) -> None:
    """Write a fresh temporary file beside the target, then rename it over the target: a reader
    never sees half a file, and a planted `.tmp` symlink is never followed. On failure the
    temporary file is removed and the OSError names the target, not the temporary file."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; rollbacks are shared
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise OSError(exc.errno, exc.strerror, str(path)) from None


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
