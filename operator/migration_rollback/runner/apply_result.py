"""What `apply` is told, and what it reports: per migration, its statements and capture cost.

The result is written as JSON (`--result-file`) and summarised for a person, one line per
migration and one per statement whose data was not kept, with the reason; every line is
scrubbed by the caller's redactor. Output that cannot be written is said (output_file.py).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TextIO

import psycopg

from migration_rollback.errors import MigrationRollbackError
from migration_rollback.redact import Redactor
from migration_rollback.runner.capture import CaptureLimits
from migration_rollback.runner.capture_catalog import CaptureRecord
from migration_rollback.runner.errors import exit_code_for
from migration_rollback.runner.exitcodes import ExitCode
from migration_rollback.runner.options import TableName
from migration_rollback.runner.output_file import (
    Unwritten,
    exit_after,
    print_output,
    say_unwritten,
    write_output,
)
from migration_rollback.runner.session import translate
from migration_rollback.shown import shown_lines


@dataclass(frozen=True, slots=True)
class ApplyOptions:
    database_url: str
    migrations_dir: Path = Path("supabase/migrations")
    to_version: str | None = None
    dry_run: bool = False
    history_table: TableName = field(
        default_factory=lambda: TableName("supabase_migrations", "schema_migrations")
    )
    limits: CaptureLimits = field(default_factory=CaptureLimits)
    no_capture: frozenset[str] = frozenset()
    lock_timeout: timedelta = timedelta(seconds=5)
    statement_timeout: timedelta = timedelta(minutes=30)
    # A migration's own timeouts hold to the end of its file (apply's are put back before
    # the next file either way).
    keep_migration_timeouts: bool = False
    result_file: Path | None = None


@dataclass
class AppliedMigration:
    version: str
    name: str
    statements: int
    deferred: int = 0
    duration_ms: int = 0
    captured_rows: int = 0
    captured_bytes: int = 0
    captures: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ApplyResult:
    database: str
    dry_run: bool
    pending: list[str] = field(default_factory=list)
    applied: list[AppliedMigration] = field(default_factory=list)
    committed: list[str] = field(default_factory=list)
    # A COMMIT whose answer was lost (a signal, a broken connection), by version: what the
    # history table said on a new connection: landed, not landed, unknown (commit_readback.py).
    commit_read_back: dict[str, str] = field(default_factory=dict)
    exit_code: int = 0
    error: str | None = None
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def fail(result: ApplyResult, exc: BaseException, redactor: Redactor) -> None:
    error = translate(exc, redactor) if isinstance(exc, psycopg.Error) else exc
    result.exit_code = int(exit_code_for(error))
    message = getattr(error, "message", None) or str(error)
    if not isinstance(error, MigrationRollbackError):
        message = f"{type(error).__name__}: {message}"
        result.exit_code = int(ExitCode.INTERNAL_ERROR)
    result.error = redactor.scrub(message)


def render_apply(result: ApplyResult) -> str:
    """The human summary: one line per migration, with what its capture cost."""
    mode = " (dry run: rolled back)" if result.dry_run else ""
    lines = [f"apply on {result.database}{mode}"]
    if not result.pending and result.error is None:
        lines.append("  nothing to apply: every migration is recorded")
    for item in result.applied:
        state = "committed" if item.version in result.committed else "not committed"
        lines.append(
            f"  {item.version}_{item.name}: {item.statements} statement(s), {state}, "
            f"{item.duration_ms} ms; capture {item.captured_rows} row(s), "
            f"{item.captured_bytes} bytes"
        )
        for entry in item.captures:
            if entry["status"] != "captured":
                lines.append(
                    f"    statement {entry['statement']} ({entry['kind']} {entry['target']}): "
                    f"{entry['status']}: {entry.get('reason') or ''}".rstrip()
                )
    lines += [f"  warning: {warning}" for warning in result.warnings]
    if result.error:
        lines.append(f"  error: {result.error}")
    return "\n".join(lines) + "\n"


def outcome_line(result: ApplyResult) -> str:
    """What the database came to, in a few words, for a line about something else (a result
    file that could not be written)."""
    if result.dry_run:
        return "dry run: nothing was committed"
    unknown = [v for v, state in result.commit_read_back.items() if state == "unknown"]
    if unknown:
        return f"whether {', '.join(unknown)} committed is unknown; check the history table"
    if result.committed:
        done = f"{len(result.committed)} migration(s) committed ({', '.join(result.committed)})"
        return f"{done}, then the run failed" if result.error else done
    if result.pending or result.error:
        return "no migration was committed"
    return "nothing to apply"


def report_apply(
    result: ApplyResult,
    result_file: Path | None,
    streams: tuple[TextIO, TextIO],
    redactor: Redactor,
) -> ApplyResult:
    """The summary on stdout, then the result file (a lost summary is in it). The sessions are
    closed: output that cannot be written changes nothing in the database; each is one line on
    stderr with what the database came to, and exit OUTPUT_FAILED after a success."""
    stdout, stderr = streams
    lost: list[Unwritten] = []
    summary = shown_lines(redactor.scrub(render_apply(result)))
    _lose(result, lost, print_output("the summary", stdout, summary))
    if result_file is not None:
        doc = redactor.scrub_obj(result.to_dict())
        text = json.dumps(doc, indent=2, default=str) + "\n"
        _lose(result, lost, write_output("the result file", result_file, text))
    say_unwritten(stderr, "apply", outcome_line(result), lost, redactor)
    return result


def _lose(result: ApplyResult, lost: list[Unwritten], failed: Unwritten | None) -> None:
    if failed is not None:
        lost.append(failed)
        result.warnings.append(failed.words)
        result.exit_code = int(exit_after(ExitCode(result.exit_code), lost))


def describe_capture(record: CaptureRecord) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "statement": record.statement,
        "line": record.line,
        "kind": str(record.kind),
        "status": record.status,
        "target": record.target,
        "rows": record.rows,
        "bytes": record.bytes,
    }
    if record.reason:
        doc["reason"] = record.reason
    if record.capture_table:
        doc["capture_table"] = record.capture_table
    if record.kind.keeps_definition and record.detail:
        doc["object"] = record.detail["object"]
        if record.status == "captured":
            doc["absent"] = record.detail["absent"]
        if record.detail.get("existed"):  # IF NOT EXISTS met it: the rollback keeps it
            doc["existed"] = True
    return doc


def brief(item: AppliedMigration) -> dict[str, Any]:
    return {
        "statements": item.statements,
        "deferred": item.deferred,
        "captured_rows": item.captured_rows,
        "captured_bytes": item.captured_bytes,
        "duration_ms": item.duration_ms,
    }
