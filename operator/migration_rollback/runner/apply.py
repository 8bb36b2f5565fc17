"""`migration-rollback apply`: apply pending migrations as `supabase db push` does, keeping data.

Pending migrations are the files of the migrations folder whose version is not in the history
table, applied oldest first (up to `--to`). Like the Supabase CLI: one transaction per file, the
history row (version, name, statements) written in it; statements PostgreSQL refuses inside a
transaction (`CREATE INDEX CONCURRENTLY`...) run after its COMMIT, as `execute` runs them.

Unlike it, before every statement that changes or destroys data, what the statement is about to
change is kept in the capture schema (see capture.py), so the migration's rollback can put the
data back exactly. The same per-database advisory lock as `execute` keeps a rollback and an
apply from interleaving. The password never appears in any output: every line is scrubbed with
the redactor of the parsed URL.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TextIO

import psycopg
from pglast import ast
from pglast.enums.parsenodes import TransactionStmtKind as TK
from psycopg import sql

from migration_rollback.conninfo import InvalidDatabaseUrlError, parse_database_url
from migration_rollback.errors import MigrationRollbackError
from migration_rollback.jobresult import version_key
from migration_rollback.project.migrations import Migration, discover, read_regular_file
from migration_rollback.redact import Redactor
from migration_rollback.runner.capture import (
    CaptureLimits,
    PendingCapture,
    run_checked,
    take_captures,
)
from migration_rollback.runner.capture_catalog import (
    CaptureRecord,
    ensure_capture_schema,
    new_applied_id,
    record_capture,
    sequence_records,
    sequence_values,
    stamp_transaction,
)
from migration_rollback.runner.capture_plan import capture_specs
from migration_rollback.runner.errors import (
    ConnectionFailedError,
    PreconditionError,
    exit_code_for,
)
from migration_rollback.runner.exitcodes import ExitCode
from migration_rollback.runner.history import applied_versions
from migration_rollback.runner.options import TableName
from migration_rollback.runner.rollback_file import sha256_hex
from migration_rollback.runner.session import (
    Connection,
    acquire_run_lock,
    connect,
    release_run_lock,
    set_timeouts,
    translate,
)
from migration_rollback.sql import Script, Statement, classify, parse_script

URL_WHERE = "the database URL (--database-url or MIGRATION_ROLLBACK_DATABASE_URL)"
_OPENERS = {TK.TRANS_STMT_BEGIN, TK.TRANS_STMT_START}


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
    exit_code: int = 0
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Loaded:
    migration: Migration
    script: Script
    sha256: str


def apply_migrations(
    options: ApplyOptions, stdout: TextIO, stderr: TextIO, env: Mapping[str, str]
) -> ApplyResult:
    """Apply every pending migration; never raises for a failed run (see the result)."""
    try:
        target = parse_database_url(options.database_url, where=URL_WHERE)
        redactor = target.redactor().with_env(env)
        result = ApplyResult(database=target.display, dry_run=options.dry_run)
    except InvalidDatabaseUrlError as exc:
        redactor = Redactor.none().with_env(env)
        result = ApplyResult(database="(not parsed)", dry_run=options.dry_run)
        _fail(result, ConnectionFailedError(str(exc), transient=False), redactor)
        return _finish(result, options, stdout, redactor)
    applier = _Applier(options, result, redactor, stderr)
    try:
        applier.run()
    except BaseException as exc:  # every way out is reported, scrubbed
        if isinstance(exc, KeyboardInterrupt):
            exc = PreconditionError("interrupted")
        _fail(result, exc, redactor)
    finally:
        applier.close()
    return _finish(result, options, stdout, redactor)


def _fail(result: ApplyResult, exc: BaseException, redactor: Redactor) -> None:
    error = translate(exc, redactor) if isinstance(exc, psycopg.Error) else exc
    result.exit_code = int(exit_code_for(error))
    message = getattr(error, "message", None) or str(error)
    if not isinstance(error, MigrationRollbackError):
        message = f"{type(error).__name__}: {message}"
        result.exit_code = int(ExitCode.INTERNAL_ERROR)
    result.error = redactor.scrub(message)


def _finish(
    result: ApplyResult, options: ApplyOptions, stdout: TextIO, redactor: Redactor
) -> ApplyResult:
    stdout.write(redactor.scrub(render_apply(result)))
    stdout.flush()
    if options.result_file is not None:
        doc = redactor.scrub_obj(result.to_dict())
        options.result_file.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    return result


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
    if result.error:
        lines.append(f"  error: {result.error}")
    return "\n".join(lines) + "\n"


class _Applier:
    def __init__(
        self, options: ApplyOptions, result: ApplyResult, redactor: Redactor, stderr: TextIO
    ) -> None:
        self.options = options
        self.result = result
        self.redactor = redactor
        self.stderr = stderr
        self.control: Connection | None = None
        self.work: Connection | None = None

    def log(self, **fields: Any) -> None:
        self.stderr.write(self.redactor.scrub(json.dumps(fields, default=str)) + "\n")

    def run(self) -> None:
        url = self.options.database_url
        self.control = connect(url, self.redactor, purpose="lock")
        self.work = connect(url, self.redactor, purpose="apply")
        for conn in (self.control, self.work):
            set_timeouts(conn, self.options.lock_timeout, self.options.statement_timeout)
        acquire_run_lock(self.control, self.options.lock_timeout)
        pending = self._pending(self.work)
        self.result.pending = [m.migration.name for m in pending]
        if not pending:
            return
        work = self.work
        work.autocommit = False
        try:
            self._prepare(work)
            for loaded in pending:
                self._apply_one(work, loaded)
            if self.options.dry_run:
                work.rollback()
        except BaseException:
            if not (work.closed or work.broken):
                work.rollback()
            raise
        finally:
            if not (work.closed or work.broken):
                work.autocommit = True

    def close(self) -> None:
        if self.control is not None and not (self.control.closed or self.control.broken):
            with contextlib.suppress(psycopg.Error):  # closing the session releases it anyway
                release_run_lock(self.control)
        for conn in (self.work, self.control):
            if conn is not None:
                conn.close()

    # --- what to apply -----------------------------------------------------------------

    def _pending(self, conn: Connection) -> list[_Loaded]:
        table = self.options.history_table
        row = conn.execute(
            "SELECT to_regclass(%s) IS NOT NULL",
            [sql.Identifier(table.schema, table.name).as_string(conn)],
        ).fetchone()
        applied = applied_versions(conn, table) if row and row[0] else []
        latest = max(applied, key=version_key, default=None)
        pending = []
        for migration in discover(self.options.migrations_dir):
            if migration.version in applied:
                continue
            if self.options.to_version is not None and version_key(migration.version) > (
                version_key(self.options.to_version)
            ):
                continue
            # A shared version is ambiguous on a live database: its history row holds one file.
            problem = migration.problem or migration.duplicate
            if problem is not None:
                raise PreconditionError(f"{migration.path}: {problem}")
            if latest is not None and version_key(migration.version) < version_key(latest):
                raise PreconditionError(
                    f"{migration.name} is older than the last applied migration {latest}: "
                    "applying it out of order is refused (as supabase db push does); rename it "
                    "with a newer version"
                )
            pending.append(self._load(migration))
        return pending

    def _load(self, migration: Migration) -> _Loaded:
        data = read_regular_file(migration.path)
        script = parse_script(data.decode("utf-8"), str(migration.path))
        return _Loaded(migration, script, sha256_hex(data))

    def _prepare(self, conn: Connection) -> None:
        """The history table (as the Supabase CLI creates it) and the capture schema."""
        table = self.options.history_table
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(table.schema)))
        conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (version text PRIMARY KEY, statements text[], "
                "name text)"
            ).format(sql.Identifier(table.schema, table.name))
        )
        ensure_capture_schema(conn)

    # --- one migration ---------------------------------------------------------------------

    def _apply_one(self, conn: Connection, loaded: _Loaded) -> None:
        migration = loaded.migration
        start = time.monotonic()
        item = AppliedMigration(
            version=migration.version,
            name=migration.name[len(migration.version) + 1 :],
            statements=0,
        )
        self.result.applied.append(item)
        applied_id = new_applied_id()
        capturing = migration.version not in self.options.no_capture
        sequences_before = sequence_values(conn)
        deferred: list[Statement] = []
        records: list[CaptureRecord] = []
        statements = _body(loaded.script)
        for number, stmt in statements:
            if not classify(stmt).transactional:
                deferred.append(stmt)
                continue
            records += self._run_statement(
                conn, stmt, number, (migration.version, applied_id), capturing
            )
        if capturing:
            records += sequence_records(sequences_before, sequence_values(conn))
        for record in records:
            record_capture(
                conn,
                record,
                applied=applied_id,
                version=migration.version,
                migration=migration.name,
                sha256=loaded.sha256,
            )
        self._record_history(conn, item, [s.text for _, s in statements])
        stamp_transaction(conn, applied_id)
        item.statements = len(statements)
        item.deferred = len(deferred)
        item.captures = [_describe(r) for r in records]
        item.captured_rows = sum(r.rows for r in records)
        item.captured_bytes = sum(r.bytes for r in records)
        if not self.options.dry_run:
            conn.commit()
            self.result.committed.append(migration.version)
            self._run_deferred(conn, deferred)
        item.duration_ms = int((time.monotonic() - start) * 1000)
        self.log(step="migration", version=migration.version, **_brief(item))

    def _run_statement(
        self,
        conn: Connection,
        stmt: Statement,
        number: int,
        run: tuple[str, str],
        capturing: bool,
    ) -> list[CaptureRecord]:
        version, applied_id = run
        try:
            if capturing:
                pendings = take_captures(
                    conn, stmt, number, version=version, applied=applied_id,
                    limits=self.options.limits,
                )  # fmt: skip
            else:
                pendings = [_opted_out(stmt, number, s.kind, s.table) for s in capture_specs(stmt)]
            return run_checked(conn, stmt, pendings)
        except psycopg.Error as exc:
            raise translate(
                exc, self.redactor, statement=number, location=str(stmt.location)
            ) from None

    def _record_history(
        self, conn: Connection, item: AppliedMigration, statements: list[str]
    ) -> None:
        """The row as the Supabase CLI writes it: version, name and the statements array."""
        table = self.options.history_table
        present = {
            str(r[0])
            for r in conn.execute(
                "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) "
                "AND attnum > 0 AND NOT attisdropped",
                [sql.Identifier(table.schema, table.name).as_string(conn)],
            )
        }
        values: dict[str, Any] = {"version": item.version}
        if "name" in present:
            values["name"] = item.name
        if "statements" in present:
            values["statements"] = statements
        conn.execute(
            sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                sql.Identifier(table.schema, table.name),
                sql.SQL(", ").join(sql.Identifier(k) for k in values),
                sql.SQL(", ").join(sql.Placeholder() for _ in values),
            ),
            list(values.values()),
        )

    def _run_deferred(self, conn: Connection, deferred: list[Statement]) -> None:
        """After COMMIT, one by one, each in its own implicit transaction (as execute does)."""
        if not deferred:
            return
        conn.autocommit = True
        try:
            for stmt in deferred:
                try:
                    conn.execute(stmt.text)
                except psycopg.Error as exc:
                    raise translate(
                        exc,
                        self.redactor,
                        location=str(stmt.location),
                        context="committed, but a statement that runs after COMMIT failed",
                    ) from None
        finally:
            conn.autocommit = False


def _body(script: Script) -> list[tuple[int, Statement]]:
    """Numbered statements without the file's own BEGIN/COMMIT (apply owns the transaction)."""
    numbered = list(enumerate(script.statements, start=1))
    kept = []
    for position, (number, stmt) in enumerate(numbered):
        node = stmt.node
        if isinstance(node, ast.TransactionStmt):
            first = position == 0 and node.kind in _OPENERS
            last = position == len(numbered) - 1 and node.kind == TK.TRANS_STMT_COMMIT
            if first or last:
                continue
            raise PreconditionError(
                f"{stmt.location}: {stmt.first_line!r}: apply runs each migration in one "
                "transaction; a migration may only wrap itself in one BEGIN ... COMMIT"
            )
        kept.append((number, stmt))
    return kept


def _opted_out(stmt: Statement, number: int, kind: Any, table: tuple[str, ...]) -> PendingCapture:
    return PendingCapture(
        CaptureRecord(
            statement=number,
            line=stmt.location.line,
            kind=kind,
            status="opted-out",
            table=".".join(table),
            reason="--no-capture: not kept; the rollback restores from the backup",
        )
    )


def _describe(record: CaptureRecord) -> dict[str, Any]:
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
    return doc


def _brief(item: AppliedMigration) -> dict[str, Any]:
    return {
        "statements": item.statements,
        "deferred": item.deferred,
        "captured_rows": item.captured_rows,
        "captured_bytes": item.captured_bytes,
        "duration_ms": item.duration_ms,
    }
