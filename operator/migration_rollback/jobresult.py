"""The rollback Job's result: the one contract between the runner and the operator (pure).

The runner (`runner.result.RunResult.to_dict`, cut to 4 KiB by `compact`) writes it as JSON to
the pod's termination message; the operator reads it back with `JobResult.from_dict`. Both use
the key names and the step name below, so neither can drift from the other (a unit test feeds
the runner's document to the reader).
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from migration_rollback.exitcodes import ExitCode

# The runner's step that runs the statements in one transaction; its duration is the SQL time.
SQL_STEP = "transaction"


class MigrationState(enum.StrEnum):
    """What became of one migration of the set (`migration_states` in the result, and
    `status.migrations[].state`)."""

    PENDING = "Pending"  # not run yet, or only rehearsed (a dry run commits nothing)
    ROLLED_BACK = "RolledBack"  # its rollback committed
    FAILED = "Failed"  # its rollback failed: the whole transaction rolled back
    SKIPPED = "Skipped"  # another migration's failure (or a refusal) left it untouched


def version_key(version: str) -> tuple[int, int | str]:
    """Sort key for history versions: numeric when they are digits, text otherwise. The runner's
    `--to` and the operator's `spec.targetVersion` order the set by it."""
    return (0, int(version)) if version.isascii() and version.isdigit() else (1, version)


def before_all(version: str) -> bool:
    """`--to 0` (or 00...): the state before the first migration, for execute and apply alike:
    execute rolls back every applied migration, apply applies none."""
    return version.isascii() and version.isdigit() and not version.strip("0")


@dataclass(frozen=True, slots=True)
class SetMember:
    """One rollback of a set: the migration (file stem) it undoes and the sha256 of its file."""

    version: str
    name: str
    sha256: str


def set_sha256(members: Sequence[SetMember]) -> str:
    """The digest a set of rollbacks is approved and pinned by: each member's version, name and
    file sha256 in run order (newest first), so a file changed, added, dropped or reordered
    changes it. The operator computes it from its ConfigMap, the runner from the files it runs."""
    text = "".join(f"{m.version} {m.name} {m.sha256}\n" for m in members)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class JobError:
    error_class: str = ""
    message: str = ""
    statement: int | None = None
    sqlstate: str | None = None


@dataclass(frozen=True)
class JobBackup:
    path: str | None = None
    size_bytes: int | None = None
    verified: bool = False


@dataclass(frozen=True)
class BlockingSession:
    """A session that would block the rollback's locks (the runner's preflight)."""

    pid: int
    state: str
    seconds: float
    user: str | None = None
    application: str | None = None
    relations: tuple[str, ...] = ()

    def to_status(self) -> dict[str, Any]:
        out: dict[str, Any] = {"pid": self.pid, "state": self.state, "seconds": self.seconds}
        if self.user:
            out["user"] = self.user
        if self.application:
            out["application"] = self.application
        if self.relations:
            out["relations"] = list(self.relations)
        return out

    def describe(self) -> str:
        who = " ".join(x for x in (self.user, self.application) if x)
        on = f" on {', '.join(self.relations)}" if self.relations else ""
        return f"pid {self.pid}{f' ({who})' if who else ''} {self.state} for {self.seconds:g}s{on}"


@dataclass(frozen=True)
class JobResult:
    exit_code: ExitCode
    outcome: str = ""
    committed: bool = False
    dry_run: bool = False
    migrations: tuple[str, ...] = ()
    error: JobError | None = None
    duration_ms: int | None = None
    rows_affected: int | None = None
    sql_seconds: float | None = None
    statements: int | None = None  # counted before the 4 KiB cut
    impact: tuple[Mapping[str, Any], ...] = ()
    backup: JobBackup | None = None
    blocking_sessions: tuple[BlockingSession, ...] = ()
    truncated: bool = False
    migration_states: Mapping[str, MigrationState] = field(default_factory=dict)
    database_identity: str | None = None  # runner.identity of the database it connected to
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def retryable(self) -> bool:
        return self.exit_code.retryable

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> JobResult:
        """Tolerant: a cut document, an unknown exit name or a missing field still reads."""
        exit_code = _exit_code(doc)
        error = doc.get("error")
        statements = doc.get("statements")
        count = (
            len(statements) + int(doc.get("statements_omitted", 0) or 0)
            if isinstance(statements, list)
            else None
        )
        backup = doc.get("backup")
        return cls(
            exit_code=exit_code,
            outcome=str(doc.get("outcome") or ""),
            committed=bool(doc.get("committed")),
            dry_run=bool(doc.get("dry_run")),
            migrations=tuple(str(m) for m in doc.get("migrations") or ()),
            error=JobError(
                error_class=str(error.get("class") or ""),
                message=str(error.get("message") or ""),
                statement=_int(error.get("statement")),
                sqlstate=str(error["sqlstate"]) if error.get("sqlstate") else None,
            )
            if isinstance(error, Mapping)
            else None,
            duration_ms=_int(doc.get("duration_ms")),
            rows_affected=_int(doc.get("rows_affected")),
            sql_seconds=_sql_seconds(doc.get("steps")),
            statements=count,
            impact=tuple(i for i in doc.get("impact") or () if isinstance(i, Mapping)),
            backup=JobBackup(
                path=str(backup["path"]) if backup.get("path") else None,
                size_bytes=_int(backup.get("size_bytes")),
                verified=bool(backup.get("verified")),
            )
            if isinstance(backup, Mapping)
            else None,
            blocking_sessions=tuple(
                BlockingSession(
                    pid=int(s.get("pid", 0)),
                    state=str(s.get("state", "")),
                    seconds=float(s.get("seconds", 0)),
                    user=str(s["user"]) if s.get("user") else None,
                    application=str(s["application"]) if s.get("application") else None,
                    relations=tuple(str(r) for r in s.get("relations") or ()),
                )
                for s in doc.get("blocking_sessions") or ()
                if isinstance(s, Mapping)
            ),
            truncated=bool(doc.get("truncated")),
            migration_states=_states(doc.get("migration_states")),
            database_identity=str(doc["database_identity"])
            if doc.get("database_identity")
            else None,
            extra={k: doc[k] for k in ("target", "sha256") if k in doc},
        )

    def summary(self) -> dict[str, Any]:
        """What goes into status.result: small, no free text but the error's."""
        out: dict[str, Any] = {
            "outcome": self.outcome,
            "exit_name": self.exit_code.name,
            "committed": self.committed,
            "dry_run": self.dry_run,
            "migrations": list(self.migrations),
        }
        if self.rows_affected is not None:
            out["rows_affected"] = self.rows_affected
        if self.duration_ms is not None:
            out["duration_ms"] = self.duration_ms
        if self.error is not None:
            err: dict[str, Any] = {"class": self.error.error_class, "message": self.error.message}
            if self.error.statement is not None:
                err["statement"] = self.error.statement
            if self.error.sqlstate:
                err["sqlstate"] = self.error.sqlstate
            out["error"] = err
        return out


def _exit_code(doc: Mapping[str, Any]) -> ExitCode:
    name = doc.get("exit_name")
    if isinstance(name, str) and name in ExitCode.__members__:
        return ExitCode[name]
    number = doc.get("exit_code")
    if isinstance(number, int) and number in ExitCode._value2member_map_:
        return ExitCode(number)
    if name in (None, "") and number is None:
        # Neither (an old runner, or a hand-written document): the outcome decides.
        failed = doc.get("outcome") in ("failed", "unknown", "committed-with-errors")
        return ExitCode.INTERNAL_ERROR if failed else ExitCode.OK
    return ExitCode.INTERNAL_ERROR


def _states(value: object) -> dict[str, MigrationState]:
    """version -> state; an unknown state (a newer runner) reads as Pending, never as done."""
    if not isinstance(value, Mapping):
        return {}
    known = {str(s) for s in MigrationState}
    return {
        str(v): MigrationState(str(s)) if str(s) in known else MigrationState.PENDING
        for v, s in value.items()
    }


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    return None


def _sql_seconds(steps: object) -> float | None:
    if not isinstance(steps, list):
        return None
    for step in steps:
        if isinstance(step, Mapping) and step.get("step") == SQL_STEP:
            return float(step.get("duration_ms", 0) or 0) / 1000
    return None
