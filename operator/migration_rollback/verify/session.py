"""The shadow session a replay works in: one connection, the kept model of the committed schema.

Every way of checking a migration (the round trip in one transaction, roundtrip.py; the round
trip on a copy, clone_trip.py; the partial replay past a failure, replayer.py) runs SQL on the
shadow the same way: stand-ins for missing extensions, the runner's archiving for a rollback,
file:line:column for a failure. And each compares with, then updates, the same model S(i-1) of
what is committed. This module holds that shared state and those shared steps, once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, Self

import psycopg

from migration_rollback.sql import Script, Statement, classify
from migration_rollback.verify import capture, catalog
from migration_rollback.verify.as_runner import StatementHook, make_archive_schema
from migration_rollback.verify.baseline import load_baseline
from migration_rollback.verify.batch import Batch
from migration_rollback.verify.causes import in_code_body
from migration_rollback.verify.diff import Difference, diff_objects
from migration_rollback.verify.made import code_bodies
from migration_rollback.verify.model import SchemaModel
from migration_rollback.verify.pipelined import Lead, run_statements
from migration_rollback.verify.replay_support import (
    error_text,
    executable,
    merged,
    statement_line,
)
from migration_rollback.verify.shadow import ShadowDatabase
from migration_rollback.verify.snapshot import Snapshot, take_snapshot
from migration_rollback.verify.snapshot.kinds import EVENT_TRIGGERS
from migration_rollback.verify.standins.install import Platform
from migration_rollback.verify.standins.members import Members, PendingMemberState
from migration_rollback.verify.verdict import Failure

Progress = Callable[[str], None]

SAVEPOINT = "_mr_forward"
STATEMENT_SAVEPOINT = "_mr_statement"
# A rollback runs as a new session would: settings, role and search_path as the server gives.
RESET_SESSION = ("RESET ALL", "RESET ROLE", "RESET SESSION AUTHORIZATION")


class Compared(NamedTuple):
    """What `ShadowSession.compare` found."""

    differences: list[Difference]
    state: Callable[[], Snapshot]  # the state compared (built when called: O(schema))
    members: dict[tuple[str, str], str] | None  # the stand-ins' member state, when asked for
    # The code that ran in the transaction (the forward's too) was read, and none of it may
    # have changed what no event trigger reports (capture.py `Check.ran_hidden`).
    ran_clean: bool = False


class QueuedCompare(NamedTuple):
    """The reads of a scoped comparison, queued in a batch (`ShadowSession.queue_compare`)."""

    check: capture.PendingCheck
    members: PendingMemberState | None


def prepare_shadow(db: ShadowDatabase, progress: Progress, baseline: str | None = None) -> None:
    """The baseline and the archive schema loaded in `db`, its notes said; under the server's
    lock, as the baseline alters the cluster's roles."""
    with db.server.baseline_lock, db.connect() as conn:
        for note in load_baseline(conn, baseline):
            progress(f"baseline: {note}")
        make_archive_schema(conn)


class ShadowSession:
    """A shadow database with the baseline loaded and a model of its committed schema."""

    def __init__(
        self,
        db: ShadowDatabase,
        *,
        progress: Progress | None = None,
        incremental: bool = True,
        baseline: str | None = None,
        strict_column_order: bool = False,
        read_model: bool = True,
    ) -> None:
        self.db = db
        # False: the caller reads the model itself before it is needed (a worker's catch-up
        # reads it at its end: read at the start too, it cost that worker a full snapshot).
        self.read_model = read_model
        self.strict_column_order = strict_column_order
        self.progress = progress or (lambda _message: None)
        self.incremental = incremental
        self.baseline = baseline
        self.conn: psycopg.Connection[Any] | None = None
        self.capturing = False
        self.model = SchemaModel({})
        # The model was changed for a commit that then failed: it may not be what is committed.
        self.model_unsure = False
        self.full_checks = 0
        self.scoped_checks = 0
        self.platform: Platform | None = None
        self.server_major: int | None = None
        self.standins: set[str] = set()  # stand-ins the current migration installed or used
        self.notes: list[str] = []  # what the shadow did differently for it
        # A stand-in was installed: no event trigger reports it, so the checks of this
        # migration compare full snapshots.
        self.installed = False
        # The stand-ins' members by name, kept while migrations cannot change them (reach.py).
        self.members: Members | None = None
        self.members_kept = False
        # The event triggers of the platform and the verifier, enabled at open: a migration's
        # own may run on any DDL, so once there is one every migration reads member state.
        self.own_event_triggers: frozenset[str] = frozenset()
        # Each statement run alone and the verifier's reads prepared again after it: a trip run
        # again after a migration took them in a way not seen (session_lost.py).
        self.careful = False

    # --- lifecycle -------------------------------------------------------------------------

    def open(self) -> None:
        if not self.db.prepared:  # a copy of a prepared template has it already
            prepare_shadow(self.db, self.progress, self.baseline)
        self.connect(install=True)
        if self.read_model:
            self.reload_model()
        self.own_event_triggers = self.stand_in_members().event_triggers

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def connect(self, *, install: bool) -> None:
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
            if self.capturing:  # a new session takes the database's settings install made
                self.connect(install=False)
        elif self.capturing:
            capture.attach(conn)

    def start_over(self) -> None:
        """A fresh session, the open transaction (a trip's) dropped with the old one, after the
        verifier's own reads failed: S(i-1) is what is committed, as the model says."""
        self.connect(install=False)
        if self.model_unsure:
            self.reload_model()  # read again from what is committed, and the refs with it
            self.model_unsure = False
        else:
            self.reset_refs()
        self.begin_migration()

    def begin_migration(self) -> None:
        """Forget what the previous migration's statements did to the shadow."""
        self.standins, self.notes, self.installed = set(), [], False
        self.members_kept = False

    # --- the kept model ----------------------------------------------------------------------

    def reload_model(self) -> None:
        conn = self.c()
        self.model = SchemaModel.from_snapshot(take_snapshot(conn))
        self.reset_refs()

    def reset_refs(self) -> None:
        """The capture's references follow the model (nothing to do without capture)."""
        if self.capturing:
            batch = Batch(self.c())
            capture.queue_refs_reset(batch, self.model.objects.values())
            batch.send()

    def consistency(self) -> list[Difference]:
        """The kept model against a fresh full snapshot (empty: the bookkeeping held)."""
        return diff_objects(self.model.objects, take_snapshot(self.c()).objects)

    def stand_in_members(self) -> Members:
        if self.members is None:
            self.members = self.active_platform().members()
        return self.members

    def tolerated(self, difference: Difference) -> bool:
        return (
            not self.strict_column_order
            and difference.attribute == "position"
            and difference.object.kind == "column"
        )

    def queue_compare(
        self,
        batch: Batch,
        executed: list[Any],
        *,
        members: bool = False,
    ) -> QueuedCompare:
        """The reads of a scoped `compare` (capturing), queued in `batch`: the check, and with
        `members` the stand-ins' member state, read in the session's own settings after it."""
        model = self.model
        pending = capture.queue_check(
            batch,
            executed,
            model.routine_code,
            model.code_by_ref,
            model.catalog_views,
            event_triggers=model.holds(EVENT_TRIGGERS.label),
        )
        platform = self.active_platform()
        return QueuedCompare(pending, platform.queue_member_state(batch) if members else None)

    def compare(
        self,
        executed: list[Any],
        notes: list[str],
        *,
        members: bool = False,
        queued: QueuedCompare | None = None,
    ) -> Compared:
        """Inside the round trip, after the rollback: what differs from S(i-1), the state
        (built only when asked for: it costs O(schema)), and with `members` the stand-ins'
        member state. `queued`: its reads were sent already (`queue_compare`)."""
        conn = self.c()
        after: dict[tuple[str, str], str] | None = None
        ran_clean = False
        if self.installed:
            notes.append("compared full snapshots: a stand-in extension was installed")
        elif self.capturing:
            if queued is None:
                batch = Batch(conn)  # one statement sent, one round trip, whatever is read
                queued = self.queue_compare(batch, executed, members=members)
                batch.send()
            check = queued.check.collect()
            after = queued.members() if queued.members is not None else None
            ran_clean = check.ran_hidden == ()
            if check.full_reason is None:
                self.scoped_checks += 1
                diffs = diff_objects(self.model.view(check.scope), check.found.objects)
                model = self.model
                return Compared(diffs, lambda: merged(model, check), after, ran_clean)
            notes.append(f"compared full snapshots: {check.full_reason}")
        self.full_checks += 1
        state = take_snapshot(conn)
        if members and after is None:  # read with the scoped check, it stands (read once)
            after = self.active_platform().member_state()
        differences = diff_objects(self.model.objects, state.objects)
        return Compared(differences, lambda: state, after, ran_clean)

    # --- running SQL -----------------------------------------------------------------------

    def c(self) -> psycopg.Connection[Any]:
        if self.conn is None:
            raise RuntimeError("replayer is not open")
        return self.conn

    def active_platform(self) -> Platform:
        if self.platform is None:
            raise RuntimeError("replayer is not open")
        return self.platform

    def pipeline(self, *statements: str) -> None:
        conn = self.c()
        with conn.pipeline():
            for statement in statements:
                conn.execute(statement, prepare=False)

    def clear(self) -> tuple[str, ...]:
        """The statement that empties the change capture (none without capture)."""
        return (f"DELETE FROM {capture.CAPTURE_TABLE}",) if self.capturing else ()

    def run(
        self,
        script: Script,
        text: str,
        runner: StatementHook | None = None,
        *,
        lead: Sequence[Lead] = (),
        tail: Sequence[str] = (),
        rewind: Sequence[str] | None = None,
        then: Batch | None = None,
    ) -> Failure | None:
        """Run a script in the open transaction (`lead` may open it; `rewind` undoes it;
        `then` is read after it: see pipelined.py)."""
        statements = list(executable(script.statements))
        return self.run_on(
            self.c(), statements, text, runner, lead=lead, tail=tail, rewind=rewind, then=then
        )

    def run_on(
        self,
        conn: psycopg.Connection[Any],
        statements: Sequence[Statement],
        text: str,
        runner: StatementHook | None = None,
        *,
        lead: Sequence[Lead] = (),
        tail: Sequence[str] = (),
        rewind: Sequence[str] | None = None,
        then: Batch | None = None,
    ) -> Failure | None:
        """Run statements as the shadow must (stand-ins for missing extensions, see
        standins/install.py); the first failure, with file:line:column. With `runner`, as
        `execute` runs a rollback (dropped tables archived, see as_runner.py)."""
        platform = self.active_platform() if conn is self.conn else Platform(conn)

        def alone(st: Statement) -> bool:  # anything but plain SQL: see pipelined.py
            acts = runner is not None and runner.acts_on(st)
            deallocates = self.careful or st.kind in catalog.DEALLOCATING  # reads prepared again
            return acts or deallocates or not (platform.plain(st) and classify(st).transactional)

        def hooked(st: Statement) -> bool:
            # A stand-in's statement (an hnsw index IF NOT EXISTS) is the shadow's to rewrite:
            # a runner that would execute its text as written does not get it.
            if runner is None or (runner.runs_text and not platform.plain(st)):
                return False
            return runner.run(conn, st)

        def run_alone(st: Statement) -> None:
            if hooked(st):
                return
            ran = platform.run(st)
            self.standins.update(ran.standins)
            self.installed = self.installed or ran.installed
            self.notes.extend(n for n in ran.notes if n not in self.notes)
            if self.careful or st.kind in catalog.DEALLOCATING:
                catalog.prepare_again(conn)

        failed = run_statements(
            conn, statements, alone, run_alone, lead=lead, tail=tail, rewind=rewind, then=then
        )
        return None if failed is None else _failure(text, *failed)


def _failure(text: str, st: Statement, exc: psycopg.Error, position: int | None) -> Failure:
    return Failure(
        error_text(exc),
        statement_line(text, st, position),
        exc.sqlstate,
        exc.diag.message_primary or "",
        exc.diag.context or "",
        in_code_body(st.text, code_bodies(st.node), position),
    )
