"""Round trips on a shadow PostgreSQL: does each rollback put the schema back exactly?

The replay is O(N) in the number of migrations: every forward migration runs once, and each
check costs what the migration touched, not the size of the schema. For migration i, on a
database holding migrations 1..i-1 (state S(i-1), whose model is kept in memory):

    BEGIN
      forward statements                      (one transaction per file, as Supabase runs it)
      SET CONSTRAINTS ALL IMMEDIATE           (what COMMIT would check)
      read the families the forward touched   -> their state S(i), for the kept model
      SAVEPOINT
        rollback statements                   (in a reset session, as a new connection would)
        read the families forward+rollback touched, compare with S(i-1)   -> the verdict
      ROLLBACK TO SAVEPOINT                   (the rollback is undone, the forward stays)
    COMMIT                                    (migration i is applied for real)

A migration or rollback with a statement that cannot run in a transaction block (CREATE INDEX
CONCURRENTLY...) is run the way it must be: statement groups in their own transactions and the
non-transactional statements alone; its rollback runs on a copy of the shadow database
(CREATE DATABASE ... TEMPLATE) so that a failed or wrong rollback leaves nothing behind, and
full snapshots are compared. When the change-capture triggers cannot be installed (the shadow
role is not a superuser), every check compares full snapshots: correct, O(schema) each.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import psycopg

from migration_rollback.errors import SqlSyntaxError
from migration_rollback.sql import Script, Statement, classify, parse_script
from migration_rollback.sql.parse import normalize_text
from migration_rollback.verify import capture, catalog
from migration_rollback.verify.as_apply import AsApply
from migration_rollback.verify.as_runner import AsRunner, StatementHook, make_archive_schema
from migration_rollback.verify.baseline import load_baseline
from migration_rollback.verify.causes import Cause, classify_failure, in_code_body
from migration_rollback.verify.dbsettings import copy_database_settings
from migration_rollback.verify.diff import Difference, diff_objects
from migration_rollback.verify.lenient import lenient_statements
from migration_rollback.verify.model import SchemaModel
from migration_rollback.verify.pipelined import run_statements
from migration_rollback.verify.replay_support import (
    DASHBOARD_EXTENSIONS,
    code_bodies,
    error_text,
    executable,
    member_differences,
    merged,
    statement_line,
    would_create,
)
from migration_rollback.verify.rollback_source import (
    Prepared,
    RollbackSource,
    file_rollback,
    read_text,
)
from migration_rollback.verify.shadow import ShadowDatabase
from migration_rollback.verify.snapshot import Snapshot, take_snapshot
from migration_rollback.verify.standins import standin
from migration_rollback.verify.standins.install import Members, Platform, uses
from migration_rollback.verify.standins.reach import may_change_members
from migration_rollback.verify.verdict import (
    Failure,
    MigrationPair,
    Outcome,
    Status,
    VerifyResult,
    verdict_of,
)

Progress = Callable[[str], None]

# Moved to their own modules; importers of this one keep working.
__all__ = [
    "Failure",
    "MigrationPair",
    "Prepared",
    "Progress",
    "Replayer",
    "RollbackSource",
    "Status",
    "VerifyResult",
    "file_rollback",
    "member_differences",
    "read_text",
    "would_create",
]

_SAVEPOINT = "_mr_forward"
_STATEMENT_SAVEPOINT = "_mr_statement"
# A rollback runs as a new session would: settings, role and search_path as the server gives.
_RESET_SESSION = ("RESET ALL", "RESET ROLE", "RESET SESSION AUTHORIZATION")


class Replayer:
    """A shadow database with the baseline loaded and a model of its committed schema."""

    def __init__(
        self,
        db: ShadowDatabase,
        *,
        progress: Progress | None = None,
        incremental: bool = True,
        baseline: str | None = None,
        strict_column_order: bool = False,
    ) -> None:
        self.db = db
        self.strict_column_order = strict_column_order
        self.progress = progress or (lambda _message: None)
        self.incremental = incremental
        self.baseline = baseline
        self.conn: psycopg.Connection[Any] | None = None
        self.capturing = False
        self.model = SchemaModel({})
        self.full_checks = 0
        self.scoped_checks = 0
        self.platform: Platform | None = None
        self.server_major: int | None = None
        # Migrations whose forward failed -> the names of what they would have created.
        self.failed: dict[str, frozenset[str]] = {}
        self.partial: list[str] = []  # failed migrations replayed in part (statements skipped)
        self._standins: set[str] = set()  # stand-ins the current migration installed or used
        self._notes: list[str] = []  # what the shadow did differently for it
        # A stand-in was installed: no event trigger reports it, so the checks of this
        # migration compare full snapshots.
        self._installed = False
        # The stand-ins' members by name, kept while migrations cannot change them (reach.py).
        self._members: Members | None = None
        self._members_kept = False
        # The event triggers of the platform and the verifier, enabled at open: a migration's
        # own may run on any DDL, so once there is one every migration reads member state.
        self._own_event_triggers: frozenset[str] = frozenset()

    # --- lifecycle -------------------------------------------------------------------------

    def open(self) -> None:
        with self.db.connect() as conn:
            for note in load_baseline(conn, self.baseline):
                self.progress(f"baseline: {note}")
            make_archive_schema(conn)
        self._connect(install=True)
        self._reload_model()
        self._own_event_triggers = self._stand_in_members().event_triggers

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def __enter__(self) -> Replayer:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _connect(self, *, install: bool) -> None:
        # A new session, so that the database-level search_path of the baseline applies.
        self.close()
        conn = self.db.connect()
        catalog.prepare_connection(conn)
        self.conn = conn
        if self.platform is None:
            self.platform = Platform(conn)
            self.server_major = int(conn.info.server_version) // 10000
        else:
            self.platform.rebind(conn)
        if not self.incremental:
            self.capturing = False
        elif install:
            self.capturing = capture.install(conn)
        elif self.capturing:
            capture.attach(conn)

    def _reload_model(self) -> None:
        conn = self._c()
        self.model = SchemaModel.from_snapshot(take_snapshot(conn))
        if self.capturing:
            with conn.pipeline():
                capture.queue_refs_reset(conn, self.model.objects.values())

    def _c(self) -> psycopg.Connection[Any]:
        if self.conn is None:
            raise RuntimeError("replayer is not open")
        return self.conn

    def consistency(self) -> list[Difference]:
        """The kept model against a fresh full snapshot (empty: the bookkeeping held)."""
        return diff_objects(self.model.objects, take_snapshot(self._c()).objects)

    # --- running SQL -----------------------------------------------------------------------

    def _run(
        self, script: Script, text: str, runner: StatementHook | None = None
    ) -> Failure | None:
        return self._run_on(self._c(), list(executable(script.statements)), text, runner)

    def _platform(self) -> Platform:
        if self.platform is None:
            raise RuntimeError("replayer is not open")
        return self.platform

    def _pipeline(self, *statements: str) -> None:
        conn = self._c()
        with conn.pipeline():
            for statement in statements:
                conn.execute(statement, prepare=False)

    # --- one migration ---------------------------------------------------------------------

    def replay(self, name: str, forward_path: Path, rollback: RollbackSource) -> VerifyResult:
        """Apply one forward migration (for real) and check its rollback on the way.

        A forward that fails is rolled back, its cause classified, then replayed again
        statement by statement with the failing statements skipped (_go_past), and what those
        would have created remembered, so that the next migrations still replay and a later
        failure that comes from this one says so.
        """
        started = time.perf_counter()
        self._standins, self._notes, self._installed = set(), [], False
        self._members_kept = False
        text = normalize_text(read_text(forward_path))
        try:
            forward = parse_script(text, str(forward_path))
        except SqlSyntaxError as exc:
            result = VerifyResult(name, "forward_failed", message=exc.message)
            result.location = str(exc.location)
            result.cause = Cause("migration_error", f"the migration does not parse: {exc.message}")
            self.failed[name] = frozenset()
            statements, unparsed = lenient_statements(text, str(forward_path))
            if statements:  # the pieces that parse alone, replayed for the later migrations
                pieces = Script(str(forward_path), tuple(statements))
                self._go_past(name, pieces, text, result, unparsed)
            return result
        outcome = self._trip(forward, text, rollback)
        enabled = self._enable_for(outcome)
        if enabled is not None:
            self._standins, self._notes = (
                {enabled},
                [
                    f"no migration creates {enabled}: it was enabled on the shadow the way the "
                    "dashboard enables it, and the migration replayed again"
                ],
            )
            outcome = self._trip(forward, text, rollback)
        result = verdict_of(name, outcome, self._tolerated)
        result.notes.extend(self._notes)
        if not (self._members_kept and outcome.forward_failure is None and enabled is None):
            self._members = None  # read again: they may have changed
        result.standins = self._relied_on(text, outcome)
        self._note_partial(result)
        if outcome.forward_failure is not None:
            result.cause = self._cause(outcome.forward_failure)
            self.failed[name] = would_create(forward)
            self._go_past(name, forward, text, result)
        result.elapsed_ms = (time.perf_counter() - started) * 1000.0
        if outcome.prepared is not None and outcome.prepared.sql_body is not None:
            result.rollback_sql = outcome.prepared.sql_body
        return result

    # --- going on past a failed forward ------------------------------------------------------

    def _note_partial(self, result: VerifyResult) -> None:
        if not self.partial:
            return
        names = ", ".join(self.partial[-3:])
        more = f" and {len(self.partial) - 3} more" if len(self.partial) > 3 else ""
        result.notes.append(
            f"ran after a partial replay of {names}{more}: their failing statements were "
            "skipped, the rest applied"
        )

    def _go_past(
        self,
        name: str,
        forward: Script,
        text: str,
        result: VerifyResult,
        unparsed: Sequence[str] = (),
    ) -> None:
        """The forward failed: replay it statement by statement, skipping only the statements
        that fail (and `unparsed`, the pieces of a file that does not parse), so that what the
        rest creates exists for the later migrations. (A migration run in statement groups
        keeps the groups before its failure; see _clone_trip.)"""
        if any(not classify(st).transactional for st in forward.statements):
            return
        skipped = self._replay_partly(forward, text)
        if skipped is None:
            result.notes.append("replaying it statement by statement failed too: not applied")
            return
        result.skipped_statements = [*unparsed, *(f"{f.location}: {f.message}" for _, f in skipped)]
        applied = sum(1 for _ in executable(forward.statements)) - len(skipped)
        self.failed[name] = would_create(Script(forward.source, tuple(st for st, _ in skipped)))
        if applied:
            self.partial.append(name)
        result.notes.append(
            f"replayed in part for the later migrations: {applied} statement(s) applied, "
            f"{len(result.skipped_statements)} skipped (skipped_statements)"
        )

    def _replay_partly(self, forward: Script, text: str) -> list[tuple[Statement, Failure]] | None:
        """Each statement under its own savepoint, the failing ones rolled back; committed.
        None: the migration could not be applied even so (nothing of it is)."""
        conn = self._c()
        skipped: list[tuple[Statement, Failure]] = []
        self._pipeline("BEGIN", *_RESET_SESSION, *self._clear())
        try:
            for st in executable(forward.statements):
                conn.execute(f"SAVEPOINT {_STATEMENT_SAVEPOINT}", prepare=False)
                failure = self._run_on(conn, [st], text)
                end = "ROLLBACK TO" if failure is not None else "RELEASE"
                conn.execute(f"{end} SAVEPOINT {_STATEMENT_SAVEPOINT}", prepare=False)
                if failure is not None:
                    skipped.append((st, failure))
            conn.execute("SET CONSTRAINTS ALL IMMEDIATE", prepare=False)
        except psycopg.Error:
            conn.execute("ROLLBACK", prepare=False)
            return None
        conn.execute("COMMIT", prepare=False)
        self._reload_model()
        return skipped

    def _trip(self, forward: Script, text: str, rollback: RollbackSource) -> Outcome:
        if any(not classify(st).transactional for st in forward.statements):
            return self._clone_trip(forward, text, rollback)
        return self._round_trip(forward, text, rollback)

    def _cause(self, failure: Failure) -> Cause:
        return classify_failure(
            failure.sqlstate, failure.primary or failure.message,
            server_major=self.server_major, failed=self.failed, context=failure.context,
            in_body=failure.in_body,
        )  # fmt: skip

    def _enable_for(self, outcome: Outcome) -> str | None:
        """A platform extension the dashboard enables (pg_cron, pg_net, pgmq) that the failed
        forward refers to but no migration created: install its stand-in, committed, as part
        of the platform, and say which (None: nothing to enable)."""
        failure = outcome.forward_failure
        if failure is None:
            return None
        cause = self._cause(failure)
        subject = (cause.subject or "").split(".", 1)[0].lower()
        extension = DASHBOARD_EXTENSIONS.get(subject)
        if cause.kind != "missing_platform_object" or extension is None:
            return None
        platform = self._platform()
        substitute = standin(extension)
        if substitute is None or not platform.superuser or extension in platform.installed():
            return None
        conn = self._c()
        self._pipeline("BEGIN", *_RESET_SESSION)
        try:
            platform.install(substitute)
        except psycopg.Error:
            conn.execute("ROLLBACK", prepare=False)
            return None
        conn.execute("COMMIT", prepare=False)
        self._reload_model()
        return extension

    def _relied_on(self, text: str, outcome: Outcome) -> list[str]:
        """The stand-ins this migration installed, or that its forward or rollback names."""
        found = set(self._standins)
        prepared = outcome.prepared
        both = text + "\n" + (prepared.text if prepared is not None else "")
        found.update(uses(both, self._stand_in_members().names))
        return sorted(found)

    def _round_trip(self, forward: Script, text: str, rollback: RollbackSource) -> Outcome:
        conn = self._c()
        out = Outcome()
        self._pipeline("BEGIN", *_RESET_SESSION, *self._clear())
        members = self._stand_in_members()
        member_words = members.words
        self._members_kept = members.event_triggers <= self._own_event_triggers and not (
            may_change_members(forward.statements, member_words)
        )
        members_before = None if self._members_kept else self._platform().member_state()
        as_apply = AsApply(forward)  # the capture steps `apply` takes (as_apply.py)
        failure = self._run(forward, text, as_apply)
        if failure is None:
            try:
                conn.execute("SET CONSTRAINTS ALL IMMEDIATE", prepare=False)
                as_apply.commit_records(conn)
            except psycopg.Error as exc:
                failure = Failure(f"at the end of the migration: {error_text(exc)}", None)
        if failure is not None:
            conn.execute("ROLLBACK", prepare=False)
            out.forward_failure = failure
            return out
        forward_nodes = [st.node for st in executable(forward.statements)]

        # The families the forward touched, in their new state (for the kept model).
        touched: capture.Check | None = None
        if self.capturing:
            with catalog.reading(conn):
                pending = capture.queue_check(conn, forward_nodes)
            touched = pending.collect()
        after_full: Snapshot | None = None
        if touched is None or touched.full_reason is not None or self._installed:
            after_full = take_snapshot(conn)

        def after_forward() -> Snapshot:
            if after_full is not None:
                return after_full
            assert touched is not None
            return merged(self.model, touched)

        offered = rollback(forward, self.model.snapshot(), after_forward)
        prepared = out.prepared = offered.first()
        attempts = 0
        undo: list[str] = []  # the rollback's undoing, sent with what comes next (one round trip)
        while prepared.script is not None:
            rollback_reach = may_change_members(prepared.script.statements, member_words)
            if members_before is None and rollback_reach:
                members_before = self._platform().member_state()  # the forward left them be
            self._pipeline(f"SAVEPOINT {_SAVEPOINT}", *_RESET_SESSION)
            as_runner = AsRunner(forward.source)
            failure = self._run(prepared.script, prepared.text, as_runner)
            state: Callable[[], Snapshot] | None = None
            if failure is not None:
                out.rollback_failure = failure
            else:
                out.rollback_failure = None
                as_runner.clear(conn)
                out.notes.extend(n for n in as_runner.notes() if n not in out.notes)
                rollback_nodes = [st.node for st in executable(prepared.script.statements)]
                out.differences, state = self._compare(forward_nodes + rollback_nodes, out.notes)
                if members_before is not None:
                    after = self._platform().member_state()
                    out.differences.extend(member_differences(members_before, after))
            undo = [f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}"]
            attempts += 1
            if failure is not None:
                self._pipeline(*undo)  # a new attempt may read the shadow: undone first
                undo = []
                replacement = offered.after_failure(prepared)
                if replacement is None or attempts > 2:
                    break
                out.notes.append(f"attempt {attempts} failed ({failure.message}); regenerated")
                prepared = out.prepared = replacement
                continue
            significant = [d for d in out.differences if not self._tolerated(d)]
            if not significant or state is None or not offered.repairable(prepared) or attempts > 2:
                break
            self._pipeline(*undo)
            undo = []
            again = offered.after_differences(prepared, significant, state)
            if again is None:
                break
            out.notes.append(
                f"attempt {attempts} left {len(out.differences)} difference(s); repaired"
            )
            prepared = out.prepared = again

        if out.rollback_failure is None and not any(
            not self._tolerated(d) for d in out.differences
        ):
            undo = self._restore_pass(forward, prepared, as_apply, out, undo)
        out.notes.extend(as_apply.notes)
        as_apply.clear(conn)
        # Keep the model: S(i) is what the forward left.
        if touched is not None and touched.full_reason is None and after_full is None:
            renamed = self.model.renamed(touched.found)
            removed = self.model.replace(touched.scope, touched.found)
            if renamed:
                self._pipeline(*undo, "COMMIT")
                self._reload_model()
            else:
                with conn.pipeline():
                    for statement in undo:
                        conn.execute(statement, prepare=False)
                    capture.queue_refs_update(conn, removed, touched.found.objects.values())
                    conn.execute("COMMIT", prepare=False)
        else:
            assert after_full is not None
            self._pipeline(*undo, "COMMIT")
            self.model = SchemaModel.from_snapshot(after_full)
            if self.capturing:
                with conn.pipeline():
                    capture.queue_refs_reset(conn, self.model.objects.values())
        return out

    def _stand_in_members(self) -> Members:
        if self._members is None:
            self._members = self._platform().members()
        return self._members

    def _restore_pass(
        self,
        forward: Script,
        prepared: Prepared,
        as_apply: AsApply,
        out: Outcome,
        undo: list[str],
    ) -> list[str]:
        """The verified rollback again, as `execute` runs it with apply's captures: the restore
        steps at their places must run, and the schema must still come back. (The first pass,
        without them, is what `execute` runs without captures: the schema verdict.) `undo` is
        the first pass's pending undoing; what is left of it is returned."""
        conn = self._c()
        script = prepared.script
        restore = as_apply.restore_for(conn, prepared.text, script) if script else None
        if script is None or restore is None:
            return undo
        self._pipeline(*undo, f"SAVEPOINT {_SAVEPOINT}", *_RESET_SESSION)
        as_runner = AsRunner(forward.source, restore)
        try:
            as_runner.start(conn)
            failure = self._run(script, prepared.text, as_runner)
            if failure is None:
                as_runner.finish(conn)
        except psycopg.Error as exc:
            failure = Failure(error_text(exc), None, exc.sqlstate)
        if failure is not None:
            failure.message = f"with the restores from apply's captures: {failure.message}"
            out.rollback_failure = failure
        else:
            as_runner.clear(conn)
            nodes = [st.node for st in executable([*forward.statements, *script.statements])]
            differences, _ = self._compare(nodes, out.notes)
            if any(not self._tolerated(d) for d in differences):
                out.differences = differences
                out.notes.append("the schema differs only with the restores from captures")
            else:
                name = Path(script.source).name
                out.data = as_apply.answer(as_runner.restore, prepared.text, name)
        conn.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}", prepare=False)
        return []

    def _tolerated(self, difference: Difference) -> bool:
        return (
            not self.strict_column_order
            and difference.attribute == "position"
            and difference.object.kind == "column"
        )

    def _clear(self) -> tuple[str, ...]:
        return (f"DELETE FROM {capture.CAPTURE_TABLE}",) if self.capturing else ()

    def _compare(
        self, executed: list[Any], notes: list[str]
    ) -> tuple[list[Difference], Callable[[], Snapshot]]:
        """Inside the round trip, after the rollback: what differs from S(i-1), and the state
        (built only when asked for: it costs O(schema))."""
        conn = self._c()
        if self._installed:
            notes.append("compared full snapshots: a stand-in extension was installed")
        elif self.capturing:
            with catalog.reading(conn):
                pending = capture.queue_check(conn, executed)
            check = pending.collect()
            if check.full_reason is None:
                self.scoped_checks += 1
                diffs = diff_objects(self.model.view(check.scope), check.found.objects)
                model = self.model
                return diffs, lambda: merged(model, check)
            notes.append(f"compared full snapshots: {check.full_reason}")
        self.full_checks += 1
        state = take_snapshot(conn)
        return diff_objects(self.model.objects, state.objects), lambda: state

    # --- migrations that cannot run in one transaction ---------------------------------------

    def _run_grouped(
        self,
        script: Script,
        text: str,
        conn: psycopg.Connection[Any],
        runner: AsRunner | None = None,
    ) -> Failure | None:
        """Consecutive transactional statements in a transaction; the others alone."""
        group: list[Statement] = []

        def flush() -> Failure | None:
            if not group:
                return None
            conn.execute("BEGIN", prepare=False)
            failure = self._run_on(conn, group, text, runner)
            conn.execute("ROLLBACK" if failure else "COMMIT", prepare=False)
            group.clear()
            return failure

        for st in executable(script.statements):
            if classify(st).transactional:
                group.append(st)
                continue
            failure = flush() or self._run_on(conn, [st], text)
            if failure is not None:
                return failure
        return flush()

    def _run_on(
        self,
        conn: psycopg.Connection[Any],
        statements: Sequence[Statement],
        text: str,
        runner: StatementHook | None = None,
    ) -> Failure | None:
        """Run statements as the shadow must (stand-ins for missing extensions, see
        standins/install.py); the first failure, with file:line:column. With `runner`, as
        `execute` runs a rollback (dropped tables archived, see as_runner.py)."""
        platform = self._platform()
        if conn is not self.conn:
            platform = Platform(conn)

        def alone(st: Statement) -> bool:  # anything but plain SQL: see pipelined.py
            acts = runner is not None and runner.acts_on(st)
            return acts or not (platform.plain(st) and classify(st).transactional)

        def run_alone(st: Statement) -> None:
            if runner is not None and runner.run(conn, st):
                return
            ran = platform.run(st)
            self._standins.update(ran.standins)
            self._installed = self._installed or ran.installed
            self._notes.extend(n for n in ran.notes if n not in self._notes)

        failed = run_statements(conn, statements, alone, run_alone)
        if failed is None:
            return None
        st, exc = failed
        position = int(exc.diag.statement_position or 0) or None
        return Failure(
            error_text(exc),
            statement_line(text, st, position),
            exc.sqlstate,
            exc.diag.message_primary or "",
            exc.diag.context or "",
            in_code_body(st.text, code_bodies(st.node), position),
        )

    def _clone_trip(self, forward: Script, text: str, rollback: RollbackSource) -> Outcome:
        out = Outcome(notes=["has statements that cannot run in a transaction: its rollback "
                              "was checked on a copy of the shadow database"])  # fmt: skip
        conn = self._c()
        before = self.model.snapshot()
        self._pipeline(*_RESET_SESSION)
        failure = self._run_grouped(forward, text, conn)
        if failure is not None:
            out.forward_failure = failure
            # Statement groups before the failure are committed: the model follows the database.
            self._pipeline(*_RESET_SESSION)
            self._reload_model()
            out.notes.append("the statement groups before the failure stayed applied")
            return out
        self._pipeline(*_RESET_SESSION)
        self._reload_model()
        after = self.model.snapshot()
        prepared = out.prepared = rollback(forward, before, lambda: after).first()
        if prepared.script is None:
            return out
        # The template of CREATE DATABASE must have no other session: step out meanwhile.
        self.close()
        server = self.db.server
        try:
            copy = server.create_database("mr_rollback", template=self.db.name)
            try:
                with psycopg.connect(
                    server.url_for(copy), autocommit=True, prepare_threshold=None
                ) as setup:  # the copy lacks the database-level settings (search_path...)
                    for lost in copy_database_settings(setup, self.db.name, copy):
                        out.notes.append(f"the copy could not take the setting {lost}")
                with psycopg.connect(
                    server.url_for(copy), autocommit=True, prepare_threshold=None
                ) as clone:
                    as_runner = AsRunner(forward.source)
                    failure = self._run_grouped(prepared.script, prepared.text, clone, as_runner)
                    if failure is not None:
                        out.rollback_failure = failure
                    else:
                        as_runner.clear(clone)
                        out.notes.extend(as_runner.notes())
                        self.full_checks += 1
                        out.differences = diff_objects(before.objects, take_snapshot(clone).objects)
            finally:
                server.drop_database(copy)
        finally:
            self._connect(install=False)
            if self.capturing:
                with self._c().pipeline():
                    capture.queue_refs_reset(self._c(), self.model.objects.values())
        return out
