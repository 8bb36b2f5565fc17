"""The record of one run: what was asked, what happened at each step, and how it ended.

It is written three ways: as the JSON result file (which the operator reads from the pod's
termination message, limited by Kubernetes to 4 KiB, hence `compact`), as the Markdown incident
report, and in the audit row. Pure data and shaping; nothing here touches a file or a database.

The runner records what the transaction did as it goes; whether that was kept depends on how
the run ended. Every rendering states only what was committed: archives and data loss of a
transaction that rolled back (a failure, or a dry run) are listed as undone, never as facts.
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from migration_rollback.jobresult import MigrationState
from migration_rollback.redact import clip
from migration_rollback.runner.exitcodes import ExitCode

TERMINATION_MESSAGE_LIMIT = 4096

# Fields dropped first: they are in the report, and too long for a termination message.
_VERBOSE = ("restore_hint", "tool_version", "detail")
# The lists shortened first when the document is too long, least important first.
_SHRINKABLE = (
    "impact",
    "blocking_sessions",
    "restore",
    "statements",
    "rolled_back",
    "dependents",
    "archived",
    "deferred",
    "notes",
    "warnings",
    "steps",
)
_ESSENTIAL = (
    "outcome",
    "exit_code",
    "exit_name",
    "retryable",
    "committed",
    "dry_run",
    "migrations",
    "migration_states",
    "database_identity",  # the rehearsal's: the operator pins the real run to it
)


class Outcome(enum.StrEnum):
    """Values of `outcome`, which the operator matches on."""

    SUCCEEDED = "succeeded"
    DRY_RUN_SUCCEEDED = "dry-run-succeeded"
    FAILED = "failed"
    COMMITTED_WITH_ERRORS = "committed-with-errors"
    UNKNOWN = "unknown"
    RUNNING = "running"


@dataclass
class StepTiming:
    step: str
    outcome: str
    duration_ms: int
    detail: str | None = None


@dataclass
class StatementOutcome:
    number: int
    version: str
    location: str
    kind: str
    action: str
    sql: str
    lock: str
    status: str = "pending"  # pending | done | failed | listed | skipped | kept
    command: str | None = None
    rows: int | None = None
    duration_ms: int | None = None
    error: str | None = None
    note: str | None = None  # why a kept statement was not run


@dataclass
class ImpactEntry:
    object: str
    kind: str
    statement: int
    action: str
    lock: str
    exists: bool
    rows: int | None = None
    rows_exact: bool = False
    note: str | None = None


@dataclass
class BackupInfo:
    mode: str
    path: str | None = None
    size_bytes: int | None = None
    verified: bool = False
    entries: int | None = None
    age_seconds: int | None = None
    note: str | None = None


@dataclass
class ArchivedObject:
    kind: str  # "table" or "column"
    source: str
    archive: str
    statement: int
    rows: int | None = None
    key_columns: list[str] = field(default_factory=list)
    restore_hint: str | None = None


@dataclass
class BlockingSessionInfo:
    """Another session that would block the rollback's locks (runner.preflight); never its
    query text, which may hold data."""

    pid: int
    state: str
    seconds: float
    user: str | None = None
    application: str | None = None
    relations: list[str] = field(default_factory=list)


@dataclass
class ErrorInfo:
    error_class: str
    message: str
    sqlstate: str | None = None
    statement: int | None = None
    location: str | None = None


@dataclass
class RunResult:
    """Everything the run did, filled in step by step by the orchestrator."""

    tool_version: str
    target: str
    dry_run: bool
    database: str
    started_at: datetime
    database_identity: str | None = None  # runner.identity: what a real run pins
    migrations: list[str] = field(default_factory=list)
    sha256: dict[str, str] = field(default_factory=dict)
    outcome: Outcome = Outcome.RUNNING
    committed: bool = False
    # A COMMIT whose answer was lost, read back: landed / not landed / unknown (None: answered).
    commit_read_back: str | None = None
    exit_code: ExitCode = ExitCode.OK
    retryable: bool = False
    finished_at: datetime | None = None
    steps: list[StepTiming] = field(default_factory=list)
    statements: list[StatementOutcome] = field(default_factory=list)
    deferred: list[StatementOutcome] = field(default_factory=list)
    impact: list[ImpactEntry] = field(default_factory=list)
    backup: BackupInfo | None = None
    archived: list[ArchivedObject] = field(default_factory=list)
    dependents: list[str] = field(default_factory=list)
    data_loss: list[str] = field(default_factory=list)
    # Data restored from `apply` captures, per object: loss and conflicts (runner/restore.py).
    restore: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Forward files a pinned Source-SHA256 was not checked against: for the summary and report
    # only (in the Job only rollbacks are mounted: every termination message would carry it).
    unchecked_sources: list[str] = field(default_factory=list)
    error: ErrorInfo | None = None
    blocking_sessions: list[BlockingSessionInfo] = field(default_factory=list)

    @property
    def duration_ms(self) -> int | None:
        if self.finished_at is None:
            return None
        return int((self.finished_at - self.started_at).total_seconds() * 1000)

    @property
    def migration_states(self) -> dict[str, str]:
        """Each migration's fate, by version: the run is one transaction, so all committed or
        none did; the one whose statement failed is Failed, the others Skipped. Empty while the
        COMMIT's outcome is unknown: no state would be true."""
        by_outcome = {
            Outcome.SUCCEEDED: MigrationState.ROLLED_BACK,
            Outcome.DRY_RUN_SUCCEEDED: MigrationState.PENDING,
            Outcome.RUNNING: MigrationState.PENDING,
            Outcome.COMMITTED_WITH_ERRORS: MigrationState.ROLLED_BACK,
            Outcome.FAILED: MigrationState.SKIPPED,
        }
        if self.outcome not in by_outcome:
            return {}
        states = {v: str(by_outcome[self.outcome]) for v in self.migrations}
        culprit = self._failed_version()
        if culprit in states:
            states[culprit] = str(MigrationState.FAILED)
        return states

    def _failed_version(self) -> str | None:
        """The migration whose statement failed (the error's, or a deferred one's)."""
        number = self.error.statement if self.error is not None else None
        for s in self.statements + self.deferred:
            if s.number == number or (s.status == "failed" and number is None):
                return s.version
        return None

    @property
    def rows_in_transaction(self) -> int:
        """Rows the statements touched inside the transaction, kept or not."""
        return sum(s.rows or 0 for s in self.statements if s.status == "done")

    @property
    def changes_kept(self) -> bool | None:
        """True once committed; None when the commit's outcome is unknown; False otherwise."""
        if self.committed or self.outcome in (Outcome.SUCCEEDED, Outcome.COMMITTED_WITH_ERRORS):
            return True
        return None if self.outcome is Outcome.UNKNOWN else False

    @property
    def rows_affected(self) -> int:
        """Rows changed for good: none unless the transaction committed."""
        return self.rows_in_transaction if self.changes_kept else 0

    @property
    def rolled_back(self) -> list[str]:
        """What the transaction did that its ROLLBACK undid (empty unless it rolled back)."""
        if self.changes_kept is not False:
            return []
        undone = [f"{a.kind} {a.source} archived to {a.archive}" for a in self.archived]
        undone += [f"data destroyed: {item}" for item in self.data_loss]
        undone += self.dependents
        return undone

    @property
    def notes(self) -> list[str]:
        """What a rollback of the transaction cannot undo: sequences a dry run advanced."""
        ran = [s for s in self.statements if s.status == "done"]
        if not self.dry_run or not ran:
            return []
        drawing = [s for s in ran if _may_draw_sequence_values(s)]
        if not drawing:
            return [
                "sequences: PostgreSQL does not roll back nextval(); a sequence the rehearsal "
                "advanced stays advanced (a harmless gap in generated ids). No statement here "
                "is known to draw sequence values."
            ]
        which = "; ".join(f"[{s.number}] {s.location}: {_shorten(s.sql, 80)}" for s in drawing)
        return [
            "sequences: PostgreSQL does not roll back nextval(), so the sequences these "
            f"statements drew values from stay advanced (a harmless gap in ids): {which}"
        ]

    def to_dict(self) -> dict[str, Any]:
        """The full JSON document, most important keys first."""
        doc: dict[str, Any] = {
            "outcome": str(self.outcome),
            "exit_code": int(self.exit_code),
            "exit_name": self.exit_code.name,
            "retryable": self.retryable,
            "committed": self.committed,
            "changed": self.changes_kept,
            "commit_read_back": self.commit_read_back,
            "dry_run": self.dry_run,
            "target": self.target,
            "migrations": list(self.migrations),
            "migration_states": self.migration_states,
            "error": _error_dict(self.error),
            "database": self.database,
            "database_identity": self.database_identity,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "duration_ms": self.duration_ms,
            "rows_affected": self.rows_affected,
            "rows_rolled_back": 0 if self.changes_kept else self.rows_in_transaction,
            "sha256": dict(self.sha256),
            "steps": [_compact_dict(asdict(s)) for s in self.steps],
            "backup": _compact_dict(asdict(self.backup)) if self.backup else None,
            # Only what may exist now; with an unknown commit it exists if the commit did.
            "archived": [_compact_dict(asdict(a)) for a in self._kept(self.archived)],
            "data_loss": self._kept(self.data_loss),
            "restore": [dict(entry) for entry in self.restore],
            "dependents": self._kept(self.dependents),
            "rolled_back": self.rolled_back,
            "notes": self.notes,
            "deferred": [_compact_dict(asdict(s)) for s in self.deferred],
            "statements": [_compact_dict(asdict(s)) for s in self.statements],
            "blocking_sessions": [_compact_dict(asdict(b)) for b in self.blocking_sessions],
            "impact": [_compact_dict(asdict(i)) for i in self.impact],
            "warnings": list(self.warnings),
            "tool_version": self.tool_version,
        }
        return doc

    def _kept(self, items: list[Any]) -> list[Any]:
        return [] if self.changes_kept is False else list(items)


# INSERT (identity and serial defaults), COPY, or an explicit nextval()/setval() call.
_SEQUENCE_USE = re.compile(r"\b(nextval|setval)\s*\(|^\s*(insert|copy)\b", re.IGNORECASE)


def _may_draw_sequence_values(statement: StatementOutcome) -> bool:
    return statement.kind in ("InsertStmt", "CopyStmt") or bool(_SEQUENCE_USE.search(statement.sql))


def _shorten(text: str, limit: int) -> str:
    return clip(" ".join(text.split()), limit)


def _error_dict(error: ErrorInfo | None) -> dict[str, Any] | None:
    if error is None:
        return None
    doc = _compact_dict(asdict(error))
    doc["class"] = doc.pop("error_class")
    return doc


def _compact_dict(doc: dict[str, Any]) -> dict[str, Any]:
    """Drop empty fields: the termination message has no room for nulls."""
    return {k: v for k, v in doc.items() if v is not None and v != [] and v != {}}


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False, default=str)


def _size(doc: dict[str, Any]) -> int:
    return len(dumps(doc).encode())


def _truncate(text: str, limit: int) -> str:
    return clip(text, limit)


def termination_text(doc: dict[str, Any]) -> str:
    """The result file's text: the Job's termination message, whose limit counts every byte,
    the closing newline included."""
    return dumps(compact(doc, TERMINATION_MESSAGE_LIMIT - 1)) + "\n"


def compact(doc: dict[str, Any], limit: int = TERMINATION_MESSAGE_LIMIT) -> dict[str, Any]:
    """The document shortened to fit `limit` bytes: lists cut (with a count of what was left
    out), then long strings; the outcome, exit code and error always survive."""
    out: dict[str, Any] = json.loads(dumps(doc))
    if _size(out) <= limit:
        return out
    _drop_keys(out, _VERBOSE)
    for cap in (20, 10, 5, 3, 1, 0):
        for key in _SHRINKABLE:
            items = out.get(key)
            if isinstance(items, list) and len(items) > cap:
                omitted = len(items) - cap + int(out.get(f"{key}_omitted", 0))
                out[key] = items[:cap]
                out[f"{key}_omitted"] = omitted
            if _size(out) <= limit:
                return out
    for text_limit in (1000, 300, 120):
        _shorten_strings(out, text_limit)
        if _size(out) <= limit:
            return out
    # Last resort: only what the operator needs to decide.
    minimal = {k: out[k] for k in _ESSENTIAL if k in out}
    error = out.get("error")
    if isinstance(error, dict):
        minimal["error"] = {
            "class": error.get("class"),
            "message": _truncate(str(error.get("message", "")), 300),
        }
    minimal["truncated"] = True
    return minimal


def _drop_keys(value: Any, keys: tuple[str, ...]) -> None:
    if isinstance(value, dict):
        for key in keys:
            value.pop(key, None)
        for item in value.values():
            _drop_keys(item, keys)
    elif isinstance(value, list):
        for item in value:
            _drop_keys(item, keys)


def _shorten_strings(value: Any, limit: int) -> Any:
    if isinstance(value, dict):
        for key, item in value.items():
            value[key] = (
                _truncate(item, limit) if isinstance(item, str) else _shorten_strings(item, limit)
            )
    elif isinstance(value, list):
        for index, item in enumerate(value):
            value[index] = (
                _truncate(item, limit) if isinstance(item, str) else _shorten_strings(item, limit)
            )
    return value
