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

Each migration costs the client a few messages, not a statement each (batch.py): BEGIN, the
session reset, the forward, SET CONSTRAINTS, the reads and the SAVEPOINT go as one; the reset,
the rollback and its comparison's reads as another (what the runner archives runs in its place,
between them); the undoing, the references' update and COMMIT as a third.

A migration or rollback with a statement that cannot run in a transaction block is checked on a
copy of the shadow instead (clone_trip.py). When the change-capture triggers cannot be installed
(the shadow role is not a superuser), every check compares full snapshots: correct, O(schema)
each.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from migration_rollback.sql import Script
from migration_rollback.verify import capture, ran_code
from migration_rollback.verify.as_apply import AsApply
from migration_rollback.verify.as_runner import AsRunner
from migration_rollback.verify.batch import Batch
from migration_rollback.verify.model import SchemaModel
from migration_rollback.verify.pipelined import Lead, TailError
from migration_rollback.verify.replay_support import (
    error_text,
    executable,
    member_differences,
    merged,
)
from migration_rollback.verify.rollback_source import Attempts, Prepared, RollbackSource
from migration_rollback.verify.session import (
    RESET_SESSION,
    SAVEPOINT,
    QueuedCompare,
    ShadowSession,
)
from migration_rollback.verify.snapshot import Snapshot, take_snapshot
from migration_rollback.verify.snapshot.kinds import EVENT_TRIGGERS
from migration_rollback.verify.standins.members import PendingMemberState
from migration_rollback.verify.standins.reach import may_change_members
from migration_rollback.verify.verdict import Failure, Outcome

_SAVE = f"SAVEPOINT {SAVEPOINT}"
_UNDO = f"ROLLBACK TO SAVEPOINT {SAVEPOINT}"
_END_FORWARD = ("SET CONSTRAINTS ALL IMMEDIATE",)  # what COMMIT would check, checked now
_MAX_ATTEMPTS = 3  # the first rollback, then at most two regenerated or repaired


def round_trip(
    s: ShadowSession,
    forward: Script,
    text: str,
    rollback: RollbackSource,
    *,
    forward_only: bool = False,
) -> Outcome:
    """Migration i applied for real, its rollback checked inside (the protocol above).
    `forward_only`: applied and committed, nothing read nor checked, the model left as it
    was (a worker's catch-up, api.py: it reads the model again once at its end)."""
    trip = _RoundTrip(s, forward)
    trip.forward_only = forward_only
    as_apply = AsApply(forward)  # the capture steps `apply` takes (as_apply.py)
    if not trip.run_forward(text, as_apply):
        return trip.out
    if forward_only:
        if not trip.read_with_forward:  # else COMMIT went with the forward
            as_apply.clear(s.c())
            s.pipeline("COMMIT")
        return trip.out
    touched, after_full = trip.after_forward()
    prepared = trip.attempts(rollback, touched, after_full)
    out = trip.out
    # A definition apply kept changes the schema the rollback leaves: tried even on a mismatch.
    clean = not any(not s.tolerated(d) for d in out.differences)
    if out.rollback_failure is None and (clean or as_apply.puts_back_definitions):
        trip.undo = restore_pass(s, forward, prepared, as_apply, out, trip.undo, clean=clean)
    out.notes.extend(as_apply.notes)
    as_apply.clear(s.c())
    trip.keep_model(touched, after_full)
    return out


class _RoundTrip:
    """One migration's round trip: the transaction it holds open and what it found so far."""

    def __init__(self, s: ShadowSession, forward: Script) -> None:
        self.s = s
        self.conn = s.c()
        self.forward = forward
        self.out = Outcome()
        self.undo: list[str] = []  # the rollback's undoing, sent with what comes next
        self.member_words: frozenset[str] = frozenset()
        # The stand-ins' member state before the forward, read when it may change.
        self.members_before: dict[tuple[str, str], str] | None = None
        self.members_pending: PendingMemberState | None = None  # its read, sent with BEGIN
        self.forward_nodes: list[Any] = []
        # The reads after the forward (`after_forward`), sent with it when they may be.
        self.reads = Batch(self.conn)
        self.read_with_forward = False
        self.pending: capture.PendingCheck | None = None
        # The after-forward check does not read the code that ran: the comparison after the
        # rollback reads it, the forward's calls with the rollback's (`keep_model`).
        self.forward_code_clean = False
        # Its scripts may go as batches (batch.py): no event trigger but the verifier's and the
        # platform's own is enabled, nor made or altered by the forward (they would read the
        # whole batch as current_query()).
        self.batching = False
        self.forward_only = False  # nothing read after the forward (see round_trip)

    # --- the forward ---------------------------------------------------------------------------

    def run_forward(self, text: str, as_apply: AsApply) -> bool:
        """In the open transaction; False: it failed (rolled back, out.forward_failure)."""
        lead = self._begin()
        rewind = ("ROLLBACK",) if self.batching else None
        self.forward_nodes = [st.node for st in executable(self.forward.statements)]
        then = self._queue_reads(as_apply)
        try:
            failure = self.s.run(
                self.forward, text, as_apply, lead=lead, tail=_END_FORWARD, rewind=rewind, then=then
            )
        except TailError as exc:
            failure = _at_end(exc.error)
        if failure is None:
            failure = self._commit_records(as_apply)
        if failure is not None:
            self.conn.execute("ROLLBACK", prepare=False)
            self.out.forward_failure = failure
            return False
        if self.members_pending is not None:
            self.members_before = self.members_pending()
        return True

    def _commit_records(self, as_apply: AsApply) -> Failure | None:
        try:
            as_apply.commit_records(self.conn)
        except psycopg.Error as exc:
            return _at_end(exc)
        return None

    def _begin(self) -> tuple[Lead, ...]:
        """What opens the transaction, to send with the forward's first statements: with the
        stand-ins' member state read when the forward may change it (in the reset session,
        before the forward; collected by `run_forward`)."""
        s = self.s
        begin = ("BEGIN", *RESET_SESSION, *s.clear())
        members = s.stand_in_members()
        self.member_words = members.words
        self.batching = members.event_triggers <= s.own_event_triggers and not any(
            st.kind in _EVENT_TRIGGER_KINDS for st in self.forward.statements
        )
        s.members_kept = members.event_triggers <= s.own_event_triggers and not (
            may_change_members(self.forward.statements, self.member_words)
        )
        if s.members_kept:
            return begin

        def read_members(conn: psycopg.Connection[Any]) -> psycopg.Cursor[Any]:
            self.members_pending = s.active_platform().queue_member_state()
            cursor = self.members_pending.cursor
            assert isinstance(cursor, psycopg.Cursor)  # queued on the connection
            return cursor

        return (*begin, read_members)

    def _queue_reads(self, as_apply: AsApply) -> Batch | None:
        """Queue the reads of `after_forward`, and the savepoint the attempts go back to; to
        go with the forward (None) unless apply's records may come between (they are written
        after the forward, and must stay when an attempt is undone)."""
        acting = any(as_apply.acts_on(st) for st in executable(self.forward.statements))
        self.read_with_forward = not acting
        if self.forward_only:  # nothing to read: COMMIT goes with the forward when it may
            self.reads.execute("COMMIT")
            return None if acting else self.reads
        if self.s.capturing:
            model = self.s.model
            self.pending = capture.queue_check(
                self.reads,
                self.forward_nodes,
                model.routine_code,
                model.code_by_ref,
                model.catalog_views,
                read_ran=False,
                event_triggers=model.holds(EVENT_TRIGGERS.label),
            )
        self.reads.execute(_SAVE)
        return None if acting else self.reads

    def after_forward(self) -> tuple[capture.Check | None, Snapshot | None]:
        """The families the forward touched, in their new state (for the kept model); a full
        snapshot too when those cannot be trusted alone."""
        if not self.read_with_forward:
            self.reads.send()
        touched = self.pending.collect() if self.pending is not None else None
        if touched is None or touched.full_reason is not None or self.s.installed:
            return touched, take_snapshot(self.conn)
        return touched, None

    # --- the rollback attempts ------------------------------------------------------------------

    def attempts(
        self, rollback: RollbackSource, touched: capture.Check | None, after_full: Snapshot | None
    ) -> Prepared:
        """The rollback, regenerated after a failure or repaired after differences; the last."""

        def after_forward() -> Snapshot:
            if after_full is not None:
                return after_full
            assert touched is not None
            return merged(self.s.model, touched)

        offered = rollback(self.forward, self.s.model.snapshot, after_forward)
        prepared = self.out.prepared = offered.first()
        attempts = 0
        while prepared.script is not None:
            failure, state = self._attempt(prepared, prepared.script)
            attempts += 1
            following = self._following(offered, prepared, failure, state, attempts)
            if following is None:
                break
            prepared = self.out.prepared = following
        return prepared

    def _attempt(
        self, prepared: Prepared, script: Script
    ) -> tuple[Failure | None, Callable[[], Snapshot] | None]:
        """Run it under the savepoint (left for `undo`); its failure, or the state it left."""
        s = self.s
        if self.members_before is None and may_change_members(script.statements, self.member_words):
            self.members_before = s.active_platform().member_state()  # the forward left them be
        as_runner = AsRunner(self.forward.source)
        rollback_nodes = [st.node for st in executable(script.statements)]
        executed = self.forward_nodes + rollback_nodes
        queued, then = self._queue_compare(executed)
        # Under the savepoint `after_forward` made (an undone attempt leaves it there).
        rewind = (_UNDO,) if self.batching else None
        failure = s.run(
            script, prepared.text, as_runner, lead=RESET_SESSION, rewind=rewind, then=then
        )
        self.undo = [_UNDO]
        self.out.rollback_failure = failure
        if failure is not None:
            return failure, None
        return None, self._compare(as_runner, executed, queued)

    def _queue_compare(self, executed: list[Any]) -> tuple[QueuedCompare | None, Batch | None]:
        """The comparison's reads, to go with the rollback's statements, when what they read
        is known before it runs: a scoped check."""
        s = self.s
        if not s.capturing or s.installed:
            return None, None
        then = Batch(self.conn)
        members = self.members_before is not None
        return s.queue_compare(then, executed, members=members), then

    def _compare(
        self, as_runner: AsRunner, executed: list[Any], queued: QueuedCompare | None
    ) -> Callable[[], Snapshot]:
        out = self.out
        out.notes.extend(n for n in as_runner.notes() if n not in out.notes)
        before = self.members_before
        compared = self.s.compare(executed, out.notes, members=before is not None, queued=queued)
        self.forward_code_clean |= compared.ran_clean
        out.differences = compared.differences
        if before is not None and compared.members is not None:
            out.differences.extend(member_differences(before, compared.members))
        return compared.state

    def _following(
        self,
        offered: Attempts,
        prepared: Prepared,
        failure: Failure | None,
        state: Callable[[], Snapshot] | None,
        attempts: int,
    ) -> Prepared | None:
        """The next attempt (its undoing sent first: it may read the shadow), or None."""
        if failure is not None:
            self._undo_now()
            replacement = offered.after_failure(prepared)
            if replacement is None or attempts >= _MAX_ATTEMPTS:
                return None
            self.out.notes.append(f"attempt {attempts} failed ({failure.message}); regenerated")
            return replacement
        significant = [d for d in self.out.differences if not self.s.tolerated(d)]
        if not significant or state is None or not offered.repairable(prepared):
            return None
        if attempts >= _MAX_ATTEMPTS:
            return None
        self._undo_now()
        again = offered.after_differences(prepared, significant, state)
        if again is not None:
            count = len(self.out.differences)
            self.out.notes.append(f"attempt {attempts} left {count} difference(s); repaired")
        return again

    def _undo_now(self) -> None:
        self.s.pipeline(*self.undo)
        self.undo = []

    # --- committing migration i -----------------------------------------------------------------

    def keep_model(self, touched: capture.Check | None, after_full: Snapshot | None) -> None:
        """Commit (the pending undo first) and keep the model: S(i) is what the forward left."""
        s = self.s
        if touched is None or touched.full_reason is not None or after_full is not None:
            assert after_full is not None
            s.pipeline(*self.undo, "COMMIT")
            s.model = SchemaModel.from_snapshot(after_full)
            s.reset_refs()
            return
        if s.model.renamed(touched.found) or self._forward_code_hidden(touched):
            s.pipeline(*self.undo, "COMMIT")
            s.reload_model()  # renamed; or the forward's families may not be all it changed
            return
        removed, added = s.model.replace(touched.scope, touched.found)
        batch = Batch(self.conn)
        for statement in self.undo:
            batch.execute(statement)
        capture.queue_refs_update(batch, removed, added)
        batch.execute("COMMIT")
        try:
            batch.send()
        except psycopg.Error:
            # The model is S(i) already; the database may still be S(i-1) (start_over reads it).
            s.model_unsure = True
            raise

    def _forward_code_hidden(self, touched: capture.Check) -> bool:
        """Whether code that ran may have changed what no event trigger reports, when no
        comparison read it clean (no rollback ran, or what it found may be the forward's):
        read after the attempts are undone (every call of the transaction counted), against
        the model of S(i-1), whose code a dropped function or view is known by."""
        if self.forward_code_clean or touched.ran_hidden is not None:
            return False
        model = self.s.model
        batch = Batch(self.conn)
        for statement in self.undo:
            batch.execute(statement)
        ran = ran_code.queue_read(batch, self.forward_nodes, model.code_by_ref, model.catalog_views)
        batch.send()
        self.undo = []
        return bool(ran.reasons())


_EVENT_TRIGGER_KINDS = frozenset({"CreateEventTrigStmt", "AlterEventTrigStmt"})


def _at_end(exc: psycopg.Error) -> Failure:
    return Failure(f"at the end of the migration: {error_text(exc)}", None)


def restore_pass(
    s: ShadowSession,
    forward: Script,
    prepared: Prepared,
    as_apply: AsApply,
    out: Outcome,
    undo: list[str],
    *,
    clean: bool = True,
) -> list[str]:
    """The verified rollback again, as `execute` runs it with apply's captures: the restore
    steps at their places must run, and the schema must still come back. (The first pass,
    without them, is what `execute` runs without captures: the schema verdict.) `undo` is
    the first pass's pending undoing; what is left of it is returned."""
    conn = s.c()
    script = prepared.script
    restore = as_apply.restore_for(conn, prepared.text, script) if script else None
    if script is None or restore is None or not (clean or restore[0].definitions_due):
        return undo  # a mismatch is tried again only when kept definitions are put back
    s.pipeline(*undo, _SAVE, *RESET_SESSION)
    as_runner = AsRunner(forward.source, restore)
    failure = _run_restoring(s, script, prepared.text, as_runner)
    if failure is not None:
        _restoring_failed(failure, out, clean=clean)
    else:
        _judge_restored(s, forward, script, as_apply, as_runner, prepared.text, out)
    conn.execute(f"ROLLBACK TO SAVEPOINT {SAVEPOINT}", prepare=False)
    return []


def _restoring_failed(failure: Failure, out: Outcome, *, clean: bool) -> None:
    """The second pass failed. After a clean first pass that is the verdict (what `execute`
    runs with the captures fails); after a mismatch the first pass's verdict stays (the
    rollback is wrong already, the captures did not make it right) and the failure is its
    detail: reported as a failure it hid what the schema round trip found."""
    message = f"with the restores from apply's captures: {failure.message}"
    if clean:
        failure.message = message
        out.rollback_failure = failure
    else:
        out.notes.append(f"tried again {message}")


def _run_restoring(
    s: ShadowSession, script: Script, text: str, as_runner: AsRunner
) -> Failure | None:
    conn = s.c()
    try:
        as_runner.start(conn)
        failure = s.run(script, text, as_runner)
        if failure is None:
            as_runner.finish(conn)
    except psycopg.Error as exc:
        return Failure(error_text(exc), None, exc.sqlstate)
    return failure


def _judge_restored(
    s: ShadowSession,
    forward: Script,
    script: Script,
    as_apply: AsApply,
    as_runner: AsRunner,
    text: str,
    out: Outcome,
) -> None:
    """The schema must still come back; then the MANUAL markers the captures answer."""
    nodes = [st.node for st in executable([*forward.statements, *script.statements])]
    differences = s.compare(nodes, out.notes).differences
    clean = not any(not s.tolerated(d) for d in out.differences)  # without the restores
    if any(not s.tolerated(d) for d in differences):
        if clean:
            out.differences = differences
            out.notes.append("the schema differs only with the restores from captures")
        return
    if not clean:
        out.differences = differences
        out.notes.append("the schema comes back with the definitions apply kept restored")
    out.data = as_apply.answer(as_runner.restore, text, Path(script.source).name)
