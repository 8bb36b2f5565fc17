"""`migration-rollback apply`: apply pending migrations as `supabase db push` does, keeping data.

Pending migrations are the files of the migrations folder whose version is not in the history
table, applied oldest first (up to `--to`). Like the Supabase CLI: one transaction per file, the
history row (version, name, statements) written in it; statements PostgreSQL refuses inside a
transaction (`CREATE INDEX CONCURRENTLY`...) run after its COMMIT, as `execute` runs them.

Unlike it, before every statement that changes or destroys data, what the statement is about to
change is kept in the capture schema (see capture.py), so the migration's rollback can put the
data back exactly. The same per-database advisory lock as `execute` keeps a rollback and an
apply from interleaving, and is checked right before each COMMIT and each statement after it
(the lock lives on a session of its own, which can end while the work session goes on). The
statements after COMMIT are recorded as pending with the history row, so a run stopped between
them is finished or named by the next (deferred_steps.py). The password never appears in any
output: every line is scrubbed with the redactor of the parsed URL.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Mapping
from functools import partial
from typing import Any, TextIO

import psycopg
from psycopg import sql

from migration_rollback.project.migrations import (
    require_migrations,
    scan,
)
from migration_rollback.redact import Redactor
from migration_rollback.runner.apply_pending import Loaded, pending_migrations
from migration_rollback.runner.apply_result import (
    AppliedMigration,
    ApplyOptions,
    ApplyResult,
    brief,
    fail,
    report_apply,
)
from migration_rollback.runner.apply_session import SessionKeeper, session_warnings
from migration_rollback.runner.apply_steps import (
    body_of,
    committed_then_lost,
    deferred_step,
    landed_probe,
    opted_out,
    record_history,
    run_after_commit,
    tally,
)
from migration_rollback.runner.capture import run_checked, take_captures
from migration_rollback.runner.capture_catalog import (
    CaptureRecord,
    ensure_capture_schema,
    new_applied_id,
    record_capture,
    sequence_records,
    sequence_values,
    stamp_transaction,
)
from migration_rollback.runner.capture_definition_plan import planned_captures
from migration_rollback.runner.catalog_path import CatalogPath, guard_session
from migration_rollback.runner.catalog_trust import seal_capture_schema
from migration_rollback.runner.commit_readback import commit_or_read_back, raise_for, read_back
from migration_rollback.runner.deferred_steps import Step, pending_steps, record_pending
from migration_rollback.runner.errors import (
    CommittedSessionLostError,
    InterruptedRunError,
)
from migration_rollback.runner.history import applied_versions, history_recorded
from migration_rollback.runner.leftovers import dead_runs, settle_for_apply
from migration_rollback.runner.session import (
    Connection,
    acquire_run_lock,
    backend_pid,
    check_run_lock,
    close_sessions,
    connect,
    parse_target,
    set_timeouts,
    translate,
)
from migration_rollback.sql import Statement, classify


def apply_migrations(
    options: ApplyOptions, stdout: TextIO, stderr: TextIO, env: Mapping[str, str]
) -> ApplyResult:
    """Apply every pending migration; never raises for a failed run (see the result)."""
    target, url_error = parse_target(options.database_url)
    if target is None:
        redactor = Redactor.none().with_env(env)
        result = ApplyResult(database="(not parsed)", dry_run=options.dry_run)
        assert url_error is not None  # parse_target gives one or the other
        fail(result, url_error, redactor)
        return report_apply(result, options.result_file, (stdout, stderr), redactor)
    redactor = target.redactor().with_env(env)
    result = ApplyResult(database=target.display, dry_run=options.dry_run)
    result.warnings += target.notes_with(env)
    applier = _Applier(options, result, redactor, stderr, target.dsn)
    try:
        applier.run()
    except BaseException as exc:  # every way out is reported, scrubbed
        if isinstance(exc, KeyboardInterrupt):  # SIGINT, or SIGTERM turned into it
            exc = InterruptedRunError(f"stopped by {exc.args[0] if exc.args else 'SIGINT'}")
        fail(result, exc, redactor)
    finally:
        applier.close()
    return report_apply(result, options.result_file, (stdout, stderr), redactor)


class _Applier:
    def __init__(
        self,
        options: ApplyOptions,
        result: ApplyResult,
        redactor: Redactor,
        stderr: TextIO,
        dsn: str,
    ) -> None:
        self.options = options
        self.dsn = dsn  # the parsed string: the one shown is the one connected to
        self.result = result
        self.redactor = redactor
        self.stderr = stderr
        self.control: Connection | None = None
        self.work: Connection | None = None
        self.control_pid = 0
        self.keeper: SessionKeeper | None = None

    def log(self, **fields: Any) -> None:
        # The values scrubbed, then serialized: a mask never lands inside JSON syntax.
        scrubbed = self.redactor.scrub_obj(json.loads(json.dumps(fields, default=str)))
        self.stderr.write(json.dumps(scrubbed) + "\n")

    def run(self) -> None:
        found = scan(self.options.migrations_dir)  # before connecting: a wrong --dir is named
        self.result.warnings += found.ignored  # the lines validate and generate print
        require_migrations(self.options.migrations_dir, found)
        work = self._connect()
        self._leftovers(work)
        pending = pending_migrations(
            work, found.migrations, self.options, self.redactor, found.unpaired
        )
        self.result.pending = [m.migration.name for m in pending]
        if pending:
            self._apply_all(work, pending)

    def _connect(self) -> Connection:
        url = self.dsn
        self.control = connect(url, self.redactor, purpose="lock")
        self.work = connect(url, self.redactor, purpose="apply")
        for conn in (self.control, self.work):
            set_timeouts(conn, self.options.lock_timeout, self.options.statement_timeout)
        acquire_run_lock(self.control, self.options.lock_timeout)
        self.control_pid = backend_pid(self.control)
        keep = self.options.keep_migration_timeouts
        self.keeper = SessionKeeper.taken(self.work, keep_migration_timeouts=keep)
        return self.work

    def check_lock(self) -> None:
        """Right before each COMMIT and each statement after it (as execute does)."""
        assert self.work is not None
        check_run_lock(self.work, self.control_pid)

    def _leftovers(self, work: Connection) -> None:
        table = self.options.history_table
        recorded = history_recorded(work, table)
        try:
            self.result.warnings += dead_runs(
                work, None, self.options.lock_timeout, dry_run=self.options.dry_run
            )
            self.result.warnings += settle_for_apply(
                work,
                pending_steps(work, table),
                applied=applied_versions(work, table) if recorded else [],
                dry_run=self.options.dry_run,
                check_lock=self.check_lock,
                redactor=self.redactor,
            )
        except psycopg.Error as exc:
            raise translate(exc, self.redactor, context="finishing an earlier run") from None

    def _apply_all(self, work: Connection, pending: list[Loaded]) -> None:
        work.autocommit = False
        try:
            self._prepare(work)
            for loaded in pending:
                self._apply_one(work, loaded)
            if self.options.dry_run:
                work.rollback()
        except BaseException:
            # A session ended by a COMMIT's read-back fails here: the error said is the first.
            with contextlib.suppress(psycopg.Error):
                if not (work.closed or work.broken):
                    work.rollback()
            raise
        finally:
            with contextlib.suppress(psycopg.Error):
                if not (work.closed or work.broken):
                    work.autocommit = True

    def close(self) -> None:
        close_sessions(self.control, self.work)

    def _prepare(self, conn: Connection) -> None:
        """The history table (as the Supabase CLI creates it) and the capture schema."""
        table = self.options.history_table
        # Only when missing: IF NOT EXISTS asks for CREATE on the database even when it is there.
        if not history_recorded(conn, table):
            conn.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(table.schema))
            )
            conn.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (version text PRIMARY KEY, statements text[], "
                    "name text)"
                ).format(sql.Identifier(table.schema, table.name))
            )
        ensure_capture_schema(conn)

    # --- one migration ---------------------------------------------------------------------

    def _apply_one(self, conn: Connection, loaded: Loaded) -> None:
        migration = loaded.migration
        start = time.monotonic()
        item = AppliedMigration(
            version=migration.version,
            name=migration.name[len(migration.version) + 1 :],
            statements=0,
        )
        self.result.applied.append(item)
        opts = self.options
        self.result.warnings += session_warnings(
            loaded.script, opts.lock_timeout, opts.statement_timeout, opts.keep_migration_timeouts
        )
        steps = self._write(conn, loaded, item)
        if not self.options.dry_run:
            self._commit(conn, migration.version, steps)
        item.duration_ms = int((time.monotonic() - start) * 1000)
        self.log(step="migration", version=migration.version, **brief(item))

    def _write(self, conn: Connection, loaded: Loaded, item: AppliedMigration) -> list[Step]:
        """The migration's statements, captures and history row, in its transaction; the
        statements that must run after COMMIT, as steps."""
        migration, applied_id = loaded.migration, new_applied_id()
        statements, records, deferred = self._run_body(conn, loaded, applied_id)
        for record in records:
            record_capture(conn, record, applied=applied_id, version=migration.version,
                           migration=migration.name, sha256=loaded.sha256)  # fmt: skip
        record_history(conn, self.options.history_table, item, [s.text for _, s in statements])
        stamp_transaction(conn, applied_id)
        seal_capture_schema(conn)
        tally(item, len(statements), deferred, records)
        return [deferred_step(migration.version, number, stmt) for number, stmt in deferred]

    def _commit(self, conn: Connection, version: str, steps: list[Step]) -> None:
        """COMMIT (its outcome read back when its answer is lost), then the deferred steps."""
        # With the history row: a stop after COMMIT shows.
        ids = record_pending(conn, "apply", self.options.history_table, steps)
        self.check_lock()
        probe = landed_probe(self.options.history_table, version, ids)
        answer = commit_or_read_back(conn, partial(read_back, self.dsn, self.redactor, probe))
        if answer.read_back is not None:
            self.result.commit_read_back[version] = str(answer.read_back)
        if answer.landed:
            self.result.committed.append(version)
        landed_on_a_lost_session = raise_for(answer, f"migration {version}")
        if landed_on_a_lost_session is not None:
            self._stop_after(landed_on_a_lost_session, steps)
            return
        guard_session(conn)  # a plain SET search_path of the migration outlives its COMMIT
        run_after_commit(conn, list(zip(ids, steps, strict=True)), self.check_lock, self.redactor)

    def _stop_after(self, landed: str, steps: list[Step]) -> None:
        """A broken COMMIT read back as landed: the session is gone, so nothing more runs on
        it. The last migration with nothing after its COMMIT is done (the warning says how);
        else the run stops, saying it committed and what did not run."""
        later = self.result.pending[len(self.result.applied) :]
        if not steps and not later:
            self.result.warnings.append(landed)
            return
        raise CommittedSessionLostError(committed_then_lost(landed, len(steps), later))

    def _run_body(
        self, conn: Connection, loaded: Loaded, applied_id: str
    ) -> tuple[list[tuple[int, Statement]], list[CaptureRecord], list[tuple[int, Statement]]]:
        """Run the transactional statements, each with its captures; the others are deferred."""
        version, file = loaded.migration.version, str(loaded.migration.path)
        capturing = version not in self.options.no_capture
        assert self.keeper is not None  # taken at connect
        self.keeper.settle(file)  # what the previous file's statements after COMMIT set
        path = CatalogPath(conn)
        path.guard()  # a role's search_path may already put another schema first
        sequences_before = sequence_values(conn)
        statements = body_of(loaded.script)
        deferred: list[tuple[int, Statement]] = []
        records: list[CaptureRecord] = []
        for number, stmt in statements:
            if not classify(stmt).transactional:
                deferred.append((number, stmt))
                continue
            records += self._run_statement(path, stmt, number, (version, applied_id), capturing)
        self.keeper.settle(file)  # before apply's own bookkeeping and COMMIT
        if capturing:
            records += sequence_records(sequences_before, sequence_values(conn))
        return statements, records, deferred

    def _run_statement(
        self,
        path: CatalogPath,
        stmt: Statement,
        number: int,
        run: tuple[str, str],
        capturing: bool,
    ) -> list[CaptureRecord]:
        version, applied_id = run
        conn = path.conn
        try:
            if capturing:
                pendings = take_captures(
                    conn, stmt, number, version=version, applied=applied_id,
                    limits=self.options.limits,
                )  # fmt: skip
            else:
                pendings = [
                    opted_out(stmt, number, s.kind, s.table) for s in planned_captures(stmt)
                ]
            records = run_checked(conn, stmt, pendings, path)
            assert self.keeper is not None
            self.keeper.after(stmt)  # apply's timeouts back before the next statement
            return records
        except psycopg.Error as exc:
            raise translate(
                exc, self.redactor, statement=number, location=str(stmt.location)
            ) from None
