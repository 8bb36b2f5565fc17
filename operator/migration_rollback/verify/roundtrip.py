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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import psycopg

from migration_rollback.errors import SqlSyntaxError
from migration_rollback.sql import MANUAL_PREFIX, Script, Statement, classify, parse_script
from migration_rollback.sql.parse import normalize_text, split_comment_lines
from migration_rollback.verify import capture, catalog
from migration_rollback.verify.as_apply import AsApply, DataAnswer
from migration_rollback.verify.as_runner import AsRunner, StatementHook, make_archive_schema
from migration_rollback.verify.baseline import load_baseline
from migration_rollback.verify.causes import Cause, classify_failure, in_code_body
from migration_rollback.verify.dbsettings import copy_database_settings
from migration_rollback.verify.diff import Difference, diff_objects, render, summarize
from migration_rollback.verify.lenient import lenient_statements
from migration_rollback.verify.model import SchemaModel
from migration_rollback.verify.pipelined import run_statements
from migration_rollback.verify.shadow import ShadowDatabase
from migration_rollback.verify.snapshot import ObjectId, Snapshot, SnapshotObject, take_snapshot
from migration_rollback.verify.standins import standin
from migration_rollback.verify.standins.install import Members, Platform, uses
from migration_rollback.verify.standins.reach import may_change_members
from migration_rollback.verify.stateful.members import STANDIN_MEMBER

Status = Literal["verified", "manual", "mismatch", "rollback_failed", "forward_failed", "skipped"]
Progress = Callable[[str], None]

_SAVEPOINT = "_mr_forward"
_STATEMENT_SAVEPOINT = "_mr_statement"
# A rollback runs as a new session would: settings, role and search_path as the server gives.
_RESET_SESSION = ("RESET ALL", "RESET ROLE", "RESET SESSION AUTHORIZATION")


@dataclass(frozen=True, slots=True)
class MigrationPair:
    """A forward migration file and its rollback file (None: there is none)."""

    name: str
    forward_path: Path
    rollback_path: Path | None = None


@dataclass
class VerifyResult:
    """The verdict on one migration's rollback."""

    migration: str
    status: Status
    differences: list[Difference] = field(default_factory=list)
    message: str = ""
    location: str | None = None  # file:line of the statement that failed
    # Differences that do not count against the verdict: column order (PostgreSQL cannot put a
    # re-added column back in its place; see `strict_column_order`).
    tolerated: list[Difference] = field(default_factory=list)
    manual: list[str] = field(default_factory=list)  # MANUAL items nobody filled
    # MANUAL items (data) that the restore from apply's captures answers, proven on the shadow.
    restored: list[str] = field(default_factory=list)
    data_loss: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    elapsed_ms: float = 0.0
    rollback_sql: str | None = None  # the rollback that was checked, when generated
    # Extensions that were stand-ins on the shadow and that this migration (or its rollback)
    # created or used: the verdict holds for the stand-ins' definitions, not the real ones.
    standins: list[str] = field(default_factory=list)
    cause: Cause | None = None  # why the forward migration failed (forward_failed only)
    # forward_failed: the statements a partial replay skipped ("file:line:col: error"); the
    # others were applied, so that later migrations find what they created.
    skipped_statements: list[str] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        return self.status == "verified"

    @property
    def order_note(self) -> str:
        """`, column order differs` when a column came back in another place (tolerated)."""
        return ", column order differs" if self.tolerated else ""

    @property
    def verdict(self) -> str:
        """The status, with what it tolerated and the stand-ins it relied on: `verified, column
        order differs (stand-ins: pg_cron)`."""
        if not self.standins:
            return self.status + self.order_note
        return f"{self.status}{self.order_note} (stand-ins: {', '.join(self.standins)})"

    @property
    def depends_on(self) -> str | None:
        """The earlier failed migration this one's failure comes from, if that is the cause."""
        return self.cause.subject if self.cause and self.cause.kind == "depends_on" else None

    def report(self) -> str:
        """Human-readable: the verdict, then the differences or the error."""
        lines = [
            f"{self.migration}: {self.verdict}" + (f" - {self.message}" if self.message else "")
        ]
        if self.location:
            lines.append(f"  at {self.location}")
        if self.cause is not None:
            lines.append(f"  cause: {self.cause}")
        if self.differences:
            lines.append(render(self.differences))
        if self.tolerated:
            lines.append("  tolerated (column order):")
            lines.append(render(self.tolerated, indent="    "))
        lines.extend(f"  MANUAL: {item}" for item in self.manual)
        lines.extend(f"  restored from captures: {item}" for item in self.restored)
        lines.extend(f"  data loss: {item}" for item in self.data_loss)
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "migration": self.migration,
            "status": self.status,
            "verdict": self.verdict,
            "standins": list(self.standins),
            "cause": self.cause.to_json() if self.cause is not None else None,
            "depends_on": self.depends_on,
            "message": self.message,
            "location": self.location,
            "differences": [d.to_json() for d in self.differences],
            "column_order_differs": bool(self.tolerated),
            "tolerated": [d.to_json() for d in self.tolerated],
            "manual": list(self.manual),
            "restored_from_captures": list(self.restored),
            "data_loss": list(self.data_loss),
            "notes": list(self.notes),
            "elapsed_ms": round(self.elapsed_ms, 2),
            "skipped_statements": list(self.skipped_statements),
        }


@dataclass
class Prepared:
    """A rollback ready to run: its statements and what is known about it beforehand."""

    script: Script | None  # None: no rollback at all
    text: str = ""  # the SQL the script was parsed from (for file:line in errors)
    manual: list[str] = field(default_factory=list)
    data_loss: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sql_body: str | None = None
    problem: str | None = None  # why there is no script (e.g. it does not parse)
    location: str | None = None
    # Another attempt, given the differences the last one left and the state it left.
    retry: Callable[[list[Difference], Snapshot], Prepared | None] | None = None
    # Another attempt after this one failed to run.
    on_failure: Callable[[], Prepared | None] | None = None
    filled: list[Any] = field(default_factory=list)  # state-aware steps (stateful.Filled)
    still_manual: list[Any] = field(default_factory=list)  # (stateful.StillManual)


# Given the forward script, S(i-1) (the model) and a way to get S(i) (the state after the
# forward), produce the rollback.
RollbackSource = Callable[[Script, Snapshot, Callable[[], Snapshot]], Prepared]


def file_rollback(path: Path | None) -> RollbackSource:
    """The rollback written in a file (validate --verify)."""

    def provide(forward: Script, before: Snapshot, after: Callable[[], Snapshot]) -> Prepared:
        if path is None:
            return Prepared(None, problem="no rollback file")
        text = normalize_text(read_text(path))
        manual = [f"{path.name}:{line}: {item}" for line, item in split_comment_lines(
            text, MANUAL_PREFIX
        )]  # fmt: skip
        try:
            script = parse_script(text, str(path))
        except SqlSyntaxError as exc:
            return Prepared(None, text, manual, problem=exc.message, location=str(exc.location))
        data_loss = [
            f"{st.location}: {st.first_line}"
            for st in script.statements
            if classify(st).destroys_data
        ]
        return Prepared(script, text, manual, data_loss, list(script.warnings))

    return provide


def read_text(path: Path) -> str:
    from migration_rollback.project.migrations import read_source

    return read_source(path).text


@dataclass
class Failure:
    message: str
    location: str | None
    sqlstate: str | None = None
    primary: str = ""  # the server's primary message alone (for classification)
    context: str = ""  # the server's error context ("compilation of PL/pgSQL function …")
    in_body: bool = False  # the error's position is inside a DO block's or function's code


@dataclass
class _Outcome:
    prepared: Prepared | None = None
    forward_failure: Failure | None = None
    rollback_failure: Failure | None = None
    differences: list[Difference] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data: DataAnswer | None = None  # the MANUAL markers apply's captures answer


def _statement_line(text: str, statement: Statement, position: int | None) -> str:
    """file:line:column of a statement (or of the error position inside it)."""
    loc = statement.location
    lines = text.splitlines(keepends=True)
    start = sum(len(line) for line in lines[: max(loc.line - 1, 0)])
    found = text.find(statement.text, start)
    if found < 0:
        return f"{loc.file}:{loc.line}"
    offset = found + (max(position - 1, 0) if position else 0)
    line_start = text.rfind(chr(10), 0, offset) + 1
    return f"{loc.file}:{text.count(chr(10), 0, offset) + 1}:{offset - line_start + 1}"


def _executable(statements: Sequence[Statement]) -> Iterator[Statement]:
    for st in statements:
        if st.kind != "TransactionStmt":
            yield st


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
        return self._run_on(self._c(), list(_executable(script.statements)), text, runner)

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
        result = _verdict(name, outcome, self._tolerated)
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
        applied = sum(1 for _ in _executable(forward.statements)) - len(skipped)
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
            for st in _executable(forward.statements):
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

    def _trip(self, forward: Script, text: str, rollback: RollbackSource) -> _Outcome:
        if any(not classify(st).transactional for st in forward.statements):
            return self._clone_trip(forward, text, rollback)
        return self._round_trip(forward, text, rollback)

    def _cause(self, failure: Failure) -> Cause:
        return classify_failure(
            failure.sqlstate, failure.primary or failure.message,
            server_major=self.server_major, failed=self.failed, context=failure.context,
            in_body=failure.in_body,
        )  # fmt: skip

    def _enable_for(self, outcome: _Outcome) -> str | None:
        """A platform extension the dashboard enables (pg_cron, pg_net, pgmq) that the failed
        forward refers to but no migration created: install its stand-in, committed, as part
        of the platform, and say which (None: nothing to enable)."""
        failure = outcome.forward_failure
        if failure is None:
            return None
        cause = self._cause(failure)
        subject = (cause.subject or "").split(".", 1)[0].lower()
        extension = _DASHBOARD_EXTENSIONS.get(subject)
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

    def _relied_on(self, text: str, outcome: _Outcome) -> list[str]:
        """The stand-ins this migration installed, or that its forward or rollback names."""
        found = set(self._standins)
        prepared = outcome.prepared
        both = text + "\n" + (prepared.text if prepared is not None else "")
        found.update(uses(both, self._stand_in_members().names))
        return sorted(found)

    def _round_trip(self, forward: Script, text: str, rollback: RollbackSource) -> _Outcome:
        conn = self._c()
        out = _Outcome()
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
                failure = Failure(f"at the end of the migration: {_error_text(exc)}", None)
        if failure is not None:
            conn.execute("ROLLBACK", prepare=False)
            out.forward_failure = failure
            return out
        forward_nodes = [st.node for st in _executable(forward.statements)]

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
            return _merged(self.model, touched)

        prepared = rollback(forward, self.model.snapshot(), after_forward)
        out.prepared = prepared
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
                rollback_nodes = [st.node for st in _executable(prepared.script.statements)]
                out.differences, state = self._compare(forward_nodes + rollback_nodes, out.notes)
                if members_before is not None:
                    after = self._platform().member_state()
                    out.differences.extend(member_differences(members_before, after))
            undo = [f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}"]
            attempts += 1
            if failure is not None:
                self._pipeline(*undo)  # a new attempt may read the shadow: undone first
                undo = []
                replacement = prepared.on_failure() if prepared.on_failure else None
                if replacement is None or attempts > 2:
                    break
                out.notes.append(f"attempt {attempts} failed ({failure.message}); regenerated")
                prepared = out.prepared = replacement
                continue
            significant = [d for d in out.differences if not self._tolerated(d)]
            if not significant or state is None or prepared.retry is None or attempts > 2:
                break
            self._pipeline(*undo)
            undo = []
            again = prepared.retry(significant, state())
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
        out: _Outcome,
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
            failure = Failure(_error_text(exc), None, exc.sqlstate)
        if failure is not None:
            failure.message = f"with the restores from apply's captures: {failure.message}"
            out.rollback_failure = failure
        else:
            as_runner.clear(conn)
            nodes = [st.node for st in _executable([*forward.statements, *script.statements])]
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
                return diffs, lambda: _merged(model, check)
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

        for st in _executable(script.statements):
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
            _error_text(exc),
            _statement_line(text, st, position),
            exc.sqlstate,
            exc.diag.message_primary or "",
            exc.diag.context or "",
            in_code_body(st.text, _code_bodies(st.node), position),
        )

    def _clone_trip(self, forward: Script, text: str, rollback: RollbackSource) -> _Outcome:
        out = _Outcome(notes=["has statements that cannot run in a transaction: its rollback "
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
        prepared = rollback(forward, before, lambda: after)
        out.prepared = prepared
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


# Platform schemas whose extension Supabase enables from its dashboard (often never in a migration).
_DASHBOARD_EXTENSIONS = {"cron": "pg_cron", "net": "pg_net", "pgmq": "pgmq"}

_CREATING = ("Create", "View", "Index", "Define", "CompositeType")


def member_differences(
    before: dict[tuple[str, str], str], after: dict[tuple[str, str], str]
) -> list[Difference]:
    """Differences inside stand-ins' own objects (extensions present before and after): a
    verdict with one is never `verified`, whatever the real extension would do."""
    common = {ext for ext, _ in before} & {ext for ext, _ in after}
    out: list[Difference] = []
    for key in sorted(set(before) | set(after)):
        ext, member = key
        if ext not in common or before.get(key) == after.get(key):
            continue
        obj = ObjectId(STANDIN_MEMBER, f"{member} (extension {ext})")
        if key not in after or key not in before:
            out.append(Difference(obj, "exists", key in before, key in after))
        else:
            out.append(Difference(obj, "definition", before[key], after[key]))
    return out


def would_create(script: Script) -> frozenset[str]:
    """What a migration would have created, as names a later error message may carry: each
    target qualified and bare (schema.table, table, column...)."""
    names: set[str] = set()
    for st in script.statements:
        creates = st.kind.startswith(_CREATING)
        for target in classify(st).targets:
            if target.column:
                names.add(target.column.lower())
            if not creates:
                continue  # ALTER TABLE ... ADD COLUMN names its column; the table was there
            names.add(target.name.lower())
            if target.schema:
                names.add(f"{target.schema}.{target.name}".lower())
    return frozenset(names)


def _merged(model: SchemaModel, touched: capture.Check) -> Snapshot:
    """S(i) without reading it whole: the model with the touched families replaced."""
    objects: dict[ObjectId, SnapshotObject] = {
        k: o for k, o in model.objects.items() if not touched.scope.covers(o.family)
    }
    objects.update(touched.found.objects)
    return Snapshot(objects)


def _code_bodies(node: Any) -> list[str]:
    """The code strings of a DO block or CREATE FUNCTION/PROCEDURE (their `AS` arguments)."""
    options = getattr(node, "args", None) or getattr(node, "options", None) or ()
    out: list[str] = []
    for option in options:
        if getattr(option, "defname", None) != "as":
            continue
        arg = option.arg
        items = getattr(arg, "items", None) or (arg,)
        out += [str(i.sval) for i in items if getattr(i, "sval", None)]
    return out


def _error_text(exc: psycopg.Error) -> str:
    primary = exc.diag.message_primary or str(exc).strip().splitlines()[0]
    detail = exc.diag.message_detail
    state = f" [{exc.sqlstate}]" if exc.sqlstate else ""
    return f"{primary}{state}" + (f" ({detail})" if detail else "")


def _verdict(name: str, out: _Outcome, tolerated: Callable[[Difference], bool]) -> VerifyResult:
    prepared = out.prepared
    result = VerifyResult(name, "verified", notes=list(out.notes))
    if prepared is not None:
        result.manual = list(prepared.manual)
        result.data_loss = list(prepared.data_loss)
        result.notes.extend(prepared.notes)
    if out.forward_failure is not None:
        result.status = "forward_failed"
        result.message = f"the forward migration failed: {out.forward_failure.message}"
        result.location = out.forward_failure.location
        return result
    if prepared is None or prepared.script is None:
        result.status = (
            "manual" if prepared is None or prepared.location is None else "rollback_failed"
        )
        problem = prepared.problem if prepared is not None else None
        result.message = problem or "no rollback"
        if prepared is not None and prepared.location is not None:
            result.message = f"the rollback does not parse: {problem}"
            result.location = prepared.location
        return result
    if out.rollback_failure is not None:
        result.status = "rollback_failed"
        result.message = f"the rollback failed: {out.rollback_failure.message}"
        result.location = out.rollback_failure.location
        return result
    result.differences = [d for d in out.differences if not tolerated(d)]
    result.tolerated = [d for d in out.differences if tolerated(d)]
    order = ""
    if result.tolerated:
        tables = sorted({str(d.parent.name) for d in result.tolerated if d.parent is not None})
        order = (
            f"; column order differs in {', '.join(tables)} (a re-added column comes last: "
            "SELECT *, INSERT without a column list and COPY see another order; "
            "--exact-column-order rebuilds the table)"
        )
        result.notes.append(order[2:])
    if result.differences:
        result.status = "mismatch"
        result.message = "the rollback does not restore the schema: " + summarize(
            result.differences
        )
    elif result.manual and _restored(result, out.data):
        result.message = "the rollback restores the schema exactly, and the data from captures"
    elif result.manual:
        result.status = "manual"
        result.message = (
            f"the schema round trip matches, but {len(result.manual)} MANUAL item(s) remain "
            "(data or steps a human must supply)" + order
        )
    elif order:
        result.message = "the rollback restores the schema" + order
    else:
        result.message = "the rollback restores the schema exactly"
    return result


def _restored(result: VerifyResult, data: DataAnswer | None) -> bool:
    """Every MANUAL item is data that the restore from apply's captures answers (proven by
    the round trip): verified, with the items moved to `restored` and a note saying so."""
    if data is None or not data.complete or len(result.manual) > data.markers:
        return False
    result.restored, result.manual = list(data.answered), []
    result.notes.append(data.note())
    return True
