"""`generate`: write each migration's rollback SQL and Markdown, never clobbering hand edits."""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from migration_rollback import __version__
from migration_rollback.project.artifacts import RollbackHeader, body_sha256, compose, split_file
from migration_rollback.project.docs import render_rollback_doc
from migration_rollback.project.migrations import read_source
from migration_rollback.project.workspace import LoadedMigration

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
    """Write `<name>_rollback.sql` and `.md`; `body` overrides the static plan (--verify)."""
    name = item.migration.name
    if item.error is not None or item.plan is None:
        return GenerateResult(name, Outcome.FAILED, str(item.error))
    body = body if body is not None else item.plan.render_body()
    path = item.migration.rollback_path
    if path.exists():
        existing = split_file(read_source(path).text)
        if existing.hand_edited and not force:
            return GenerateResult(
                name,
                Outcome.KEPT_HAND_EDITED,
                f"{path.name} was edited by hand; not overwritten (use --force to replace it)",
            )
        if (
            existing.header is not None
            and body_sha256(existing.body) == body_sha256(body)
            and existing.header.source_sha256 == item.source.sha256
        ):
            return _result(item, Outcome.UNCHANGED)
    header = RollbackHeader(
        migration=name,
        generated=(now or datetime.now(UTC)).isoformat(timespec="seconds").replace("+00:00", "Z"),
        source=item.migration.path.name,
        source_sha256=item.source.sha256,
        body_sha256=body_sha256(body),
        generator=f"migration-rollback {__version__}",
    )
    content = compose(header, body)
    _write_atomically(path, content)
    _write_doc(item, hashlib.sha256(content.encode()).hexdigest(), force)
    return _result(item, Outcome.WRITTEN)


def _result(item: LoadedMigration, outcome: Outcome) -> GenerateResult:
    assert item.plan is not None
    return GenerateResult(
        item.migration.name,
        outcome,
        manual_items=len(item.plan.manual_items),
        destroys_data=item.plan.destroys_data,
    )


def _write_doc(item: LoadedMigration, rollback_sha256: str, force: bool) -> None:
    assert item.plan is not None
    path = item.migration.doc_path
    if path.exists() and not force and _doc_hand_edited(path.read_text(errors="replace")):
        return
    content = render_rollback_doc(item.plan, rollback_sha256).rstrip() + "\n"
    digest = hashlib.sha256(content.encode()).hexdigest()
    _write_atomically(path, f"{content}\n{DOC_MARK}{digest} -->\n")


def _doc_hand_edited(text: str) -> bool:
    head, sep, tail = text.rpartition(DOC_MARK)
    if not sep:
        return True
    digest = tail.split(" ", 1)[0].strip()
    return hashlib.sha256((head.rstrip() + "\n").encode()).hexdigest() != digest


def _write_atomically(path: Path, content: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(content, encoding="utf-8")
    tmp.replace(path)
