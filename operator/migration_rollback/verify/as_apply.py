"""The forward run on the shadow the way `apply` runs it, so restores from captures are proven.

`apply` keeps what each data-changing statement is about to change (runner/capture.py, what to
keep decided by runner/capture_plan.py), and `execute` puts it back at that statement's place
in the rollback (runner/restore.py); the captures answer the rollback's `-- MANUAL:` markers
for that data. The round trip runs both with the runner's own functions: the forward with the
capture step before each capturable statement, the rollback with the restore steps where the
runner inserts them. So the restore SQL runs against the schema at its place in the rollback,
and a migration whose only MANUAL items are data a capture restores can be called verified.
The capture schema is the runner's bookkeeping: no snapshot reads it, and it is dropped before
the forward is committed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from migration_rollback.errors import MigrationRollbackError
from migration_rollback.runner.capture import (
    CaptureLimits,
    CaptureMismatchError,
    PendingCapture,
    run_checked,
    take_captures,
)
from migration_rollback.runner.capture_catalog import (
    CAPTURE_SCHEMA,
    CaptureRecord,
    ensure_capture_schema,
    new_applied_id,
    record_capture,
    stamp_transaction,
)
from migration_rollback.runner.capture_definition_plan import planned_captures
from migration_rollback.runner.plan import Plan, keeping, plan_statement
from migration_rollback.runner.restore import DataRestore
from migration_rollback.runner.restore_captures import groups_in, load_captures
from migration_rollback.sql import MANUAL_PREFIX, Script, Statement
from migration_rollback.sql.parse import split_comment_lines

_SAVEPOINT = "_mr_apply_capture"


def version_of(forward_source: str) -> str:
    """The migration's version as the runner names it (the file name's leading digits)."""
    return Path(forward_source).stem.split("_", 1)[0]


@dataclass(frozen=True, slots=True)
class DataAnswer:
    """The rollback's MANUAL markers, and which of them apply's captures answer."""

    answered: list[str] = field(default_factory=list)  # "file:line: marker text"
    markers: int = 0
    statements: int = 0  # forward statements whose data is restored from captures

    @property
    def complete(self) -> bool:
        return bool(self.answered) and len(self.answered) == self.markers

    def note(self) -> str:
        return (
            f"data: restored from apply's captures ({self.statements} statement(s)); without "
            "captures execute stops at the MANUAL markers"
        )


class AsApply:
    """Carries out one forward migration's capture steps as `apply` would (no size limits)."""

    runs_text = True  # run_checked executes the statement as written

    def __init__(self, forward: Script) -> None:
        self.version = version_of(forward.source)
        self.applied = new_applied_id()
        self.records: list[CaptureRecord] = []
        self.notes: list[str] = []
        self._numbers = {id(st): n for n, st in enumerate(forward.statements, start=1)}
        self._by_line = {st.location.line: st for st in forward.statements}
        self._schema_existed: bool | None = None

    @property
    def puts_back_definitions(self) -> bool:
        """A definition was kept that the restore recreates (or drops): the rollback's schema
        depends on the captures, not only its data."""
        return any(
            r.kind.keeps_definition and r.status == "captured" and (r.detail or {}).get("restore")
            for r in self.records
        )

    def acts_on(self, statement: Statement) -> bool:
        """`apply` would keep something before this statement. Not a capture of whether an
        object created IF NOT EXISTS was there: on the shadow such an object exists only when
        the platform made it, so it would prove nothing, while running the statement here
        instead of the caller would bypass what the shadow must do for it (a CREATE
        EXTENSION's stand-in)."""
        return any(
            spec.manual is None and not spec.kind.only_existence
            for spec in planned_captures(statement)
        )

    def run(self, conn: psycopg.Connection[Any], statement: Statement) -> bool:
        """Capture, run the statement and check it, as `apply` does (True: carried out here).
        A capture step that fails is noted and the statement runs alone (its item stays
        MANUAL); the statement's own failure is the forward's. False: not a statement of
        this kind, the caller runs it."""
        if not self.acts_on(statement):
            return False
        self._ensure(conn)
        number = self._numbers.get(id(statement), 0)
        pendings: list[PendingCapture] = []
        conn.execute(f"SAVEPOINT {_SAVEPOINT}", prepare=False)
        try:
            pendings = take_captures(
                conn, statement, number, version=self.version, applied=self.applied,
                limits=CaptureLimits(),
            )  # fmt: skip
        except (psycopg.Error, MigrationRollbackError) as exc:
            conn.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}", prepare=False)
            self.notes.append(f"{statement.location}: apply's capture step failed: {exc}")
        conn.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}", prepare=False)
        try:
            records = run_checked(conn, statement, pendings)
        except CaptureMismatchError as exc:
            self.notes.append(f"{statement.location}: {exc}")
            return True
        self.records += records
        self.notes += [
            f"{statement.location}: apply keeps nothing for {r.target}: {r.reason}"
            for r in records
            if r.status != "captured"
        ]
        return True

    def _ensure(self, conn: psycopg.Connection[Any]) -> None:
        if self._schema_existed is None:
            row = conn.execute(
                "SELECT pg_catalog.to_regnamespace(%s) IS NOT NULL", [CAPTURE_SCHEMA]
            ).fetchone()
            self._schema_existed = bool(row and row[0])
            ensure_capture_schema(conn)

    def commit_records(self, conn: psycopg.Connection[Any]) -> None:
        """The catalog rows and the transaction id, as `apply` writes them before COMMIT."""
        for record in self.records:
            record_capture(
                conn, record, applied=self.applied, version=self.version,
                migration=self.version, sha256="",
            )  # fmt: skip
        if self.records:
            stamp_transaction(conn, self.applied)

    def restore_for(
        self, conn: psycopg.Connection[Any], text: str, script: Script
    ) -> tuple[DataRestore, dict[int, int]] | None:
        """The runner's restore steps for this rollback, placed as `execute` places them, and
        the plan number of each rollback statement (None: nothing was captured)."""
        if not any(r.status == "captured" for r in self.records):
            return None
        restore = DataRestore(captures=load_captures(conn, [self.version]))
        markers = [line for line, _ in split_comment_lines(text, MANUAL_PREFIX)]
        lines = [st.location.line for st in script.statements]
        restore.add(self.version, groups_in(text, self.version), self._by_line, markers, lines)
        statements = [st for st in script.statements if st.kind != "TransactionStmt"]
        planned = tuple(
            plan_statement(n, self.version, st, purge=False)
            for n, st in enumerate(statements, start=1)
        )
        restore.schedule(keeping(Plan((self.version,), planned, (), ()), restore.keeps_step))
        return restore, {id(p.statement): p.number for p in planned}

    def answer(self, restore: DataRestore | None, text: str, name: str) -> DataAnswer:
        """Which MANUAL markers of the rollback (file `name`) the captures answer."""
        markers = split_comment_lines(text, MANUAL_PREFIX)
        if restore is None:
            return DataAnswer(markers=len(markers))
        answered = [
            f"{name}:{line}: {item}"
            for line, item in markers
            if restore.answers(self.version, line)
        ]
        statements = len(restore.covered_lines.get(self.version, set()))
        return DataAnswer(answered, len(markers), statements)

    def clear(self, conn: psycopg.Connection[Any]) -> None:
        """Drop what the capture steps added, before the forward is committed."""
        if self._schema_existed is False:
            conn.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(CAPTURE_SCHEMA)),
                prepare=False,
            )
