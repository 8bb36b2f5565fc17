"""The replay of a project's migrations, one at a time, each with its rollback checked.

Each migration gets the round trip its statements allow (roundtrip.py, or clone_trip.py when a
statement cannot run in a transaction), and a verdict. What a migration relies on that the
shadow lacks is dealt with here, between the trips: a dashboard extension enabled and the trip
run again.

A forward that fails would leave every later migration failing on what it did not create, so
the verdicts after it would say nothing. It is replayed again statement by statement, each under
its own savepoint, and only the failing statements are skipped (and the pieces of a file that
does not parse, lenient.py); what those would have created is remembered so that a later
failure that comes from this one says so, and the later verdicts note that they ran after a
partial replay.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

import psycopg

from migration_rollback.errors import SqlSyntaxError
from migration_rollback.sql import Script, Statement, classify, parse_script
from migration_rollback.sql.compose import quote_ident
from migration_rollback.sql.copy_data import blank_blocks, without_inline_copies
from migration_rollback.sql.uncommitted import Found, uncommitted
from migration_rollback.verify.causes import Cause, Placement, classify_failure
from migration_rollback.verify.clone_trip import clone_trip
from migration_rollback.verify.dashboard import DASHBOARD_SCHEMA, dashboard_extension
from migration_rollback.verify.lenient import lenient_statements
from migration_rollback.verify.made import ProjectNames
from migration_rollback.verify.made_in_code import made_in_code
from migration_rollback.verify.parsed_files import ParsedFiles
from migration_rollback.verify.replay_support import executable, would_create
from migration_rollback.verify.rollback_source import RollbackSource
from migration_rollback.verify.roundtrip import round_trip
from migration_rollback.verify.scratch import ShadowResourcesError
from migration_rollback.verify.session import (
    RESET_SESSION,
    STATEMENT_SAVEPOINT,
    Progress,
    ShadowSession,
)
from migration_rollback.verify.session_lost import guarded
from migration_rollback.verify.shadow import ShadowDatabase
from migration_rollback.verify.standins import CURRENT_SCHEMA, standin
from migration_rollback.verify.standins.install import Ran
from migration_rollback.verify.standins.members import uses
from migration_rollback.verify.verdict import Failure, Outcome, VerifyResult, verdict_of

__all__ = ["Progress", "Replayer"]


class Replayer(ShadowSession):
    """A shadow database with the baseline loaded; replay() checks one migration after another."""

    def __init__(
        self,
        db: ShadowDatabase,
        *,
        progress: Progress | None = None,
        incremental: bool = True,
        baseline: str | None = None,
        strict_column_order: bool = False,
        read_model: bool = True,
        project: ProjectNames | None = None,
        files: ParsedFiles | None = None,
    ) -> None:
        super().__init__(
            db,
            progress=progress,
            incremental=incremental,
            baseline=baseline,
            strict_column_order=strict_column_order,
            read_model=read_model,
        )
        # Migrations whose forward failed -> the names of what they would have created.
        self.failed: dict[str, frozenset[str]] = {}
        self.partial: list[str] = []  # failed migrations replayed in part (statements skipped)
        # Forwards applied, rollbacks not checked, the model not kept (a worker's catch-up:
        # see `catch_up`).
        self.forward_only = False
        # What every migration makes (None: not known): a missing object none makes, or only
        # a later one, is said so (placement.py).
        self.project = project
        self.current = ""  # the migration being replayed
        self.files = files or ParsedFiles()  # the run's reads and parses, shared by its workers

    def replay(self, name: str, forward_path: Path, rollback: RollbackSource) -> VerifyResult:
        """Apply one forward migration (for real) and check its rollback on the way.

        A forward that fails is rolled back, its cause classified, then replayed again
        statement by statement with the failing statements skipped (go_past), and what those
        would have created remembered, so that the next migrations still replay and a later
        failure that comes from this one says so.
        """
        started = time.perf_counter()
        self.current = name
        self.begin_migration()
        text = self.files.text(forward_path)
        try:
            try:
                forward = self.files.script(str(forward_path), text)
            except SqlSyntaxError as exc:
                return self._unparsed(name, forward_path, text, exc)
            lost = uncommitted(forward.statements)
            if lost is not None:
                return self._never_committed(name, forward, lost)
            forward, skipped_rows = without_inline_copies(forward)
            text = blank_blocks(text, forward.copy_blocks)
            result = self._checked(name, forward, text, rollback)
            result.notes.extend([skipped_rows] if skipped_rows else [])
        except ShadowResourcesError as exc:  # no verdict: the run stops (room.py)
            raise ShadowResourcesError(f"while replaying {name}, {exc}") from None
        result.elapsed_ms = (time.perf_counter() - started) * 1000.0
        return result

    def _never_committed(self, name: str, forward: Script, lost: Found) -> VerifyResult:
        """A BEGIN no COMMIT ends, a ROLLBACK...: where psql and the Supabase CLI leave part
        of it uncommitted, nothing is applied here (committed, it was verified, and the later
        migrations replayed over objects the database never got: a false `verified`)."""
        result = VerifyResult(name, "forward_failed", message=lost.message)
        result.location = str(lost.statement.location)
        result.cause = Cause("migration_error", lost.message)
        self.failed[name] = would_create(forward)  # a later failure on it says so
        return result

    def _unparsed(
        self, name: str, forward_path: Path, text: str, exc: SqlSyntaxError
    ) -> VerifyResult:
        result = VerifyResult(name, "forward_failed", message=exc.message)
        result.location = str(exc.location)
        result.cause = Cause("migration_error", f"the migration does not parse: {exc.message}")
        self.failed[name] = frozenset()
        statements, unparsed = lenient_statements(text, str(forward_path))
        if statements:  # the pieces that parse alone, replayed for the later migrations
            pieces = Script(str(forward_path), tuple(statements))
            go_past(self, name, pieces, text, result, self, unparsed)
        # What the pieces that do not parse may make: a later failure on it comes from this one.
        self.failed[name] |= made_in_code([text])
        return result

    def _checked(
        self, name: str, forward: Script, text: str, rollback: RollbackSource
    ) -> VerifyResult:
        outcome = self._trip(forward, text, rollback)
        enabled: list[tuple[str, bool]] = []
        # One extension a failure: a migration may rely on a few (pg_trgm, then citext). What
        # the failed trips noted is gone with them.
        while len(enabled) < _MOST_ENABLED and (found := self._enable_for(outcome)) is not None:
            enabled.append(found)
            self.standins = {extension for extension, stand_in in enabled if stand_in}
            self.notes = [_enabled_note(extension) for extension, _ in enabled]
            outcome = self._trip(forward, text, rollback)
        result = verdict_of(name, outcome, self.tolerated)
        result.notes.extend(self.notes)
        if not (self.members_kept and outcome.forward_failure is None and not enabled):
            self.members = None  # read again: they may have changed
        result.standins = self._relied_on(text, outcome)
        self._note_partial(result)
        if outcome.forward_failure is not None and outcome.forward_failure.own:
            self.failed[name] = would_create(forward)  # not applied: later failures say so
        elif outcome.forward_failure is not None:
            result.cause = self._cause(outcome.forward_failure)
            self.failed[name] = would_create(forward)
            go_past(self, name, forward, text, result, self)
        if outcome.prepared is not None and outcome.prepared.sql_body is not None:
            result.rollback_sql = outcome.prepared.sql_body
        return result

    def _note_partial(self, result: VerifyResult) -> None:
        note_partial(self.partial, result)

    def _trip(self, forward: Script, text: str, rollback: RollbackSource) -> Outcome:
        if any(not classify(st).transactional for st in forward.statements):
            return guarded(self, lambda: clone_trip(self, forward, text, rollback), forward, text)
        only = self.forward_only
        trip = lambda: round_trip(self, forward, text, rollback, forward_only=only)  # noqa: E731
        return guarded(self, trip, forward, text)

    @contextmanager
    def catch_up(self) -> Iterator[None]:
        """Replays in the block apply the forwards as a checked replay does (failures,
        partial replays, dashboard extensions alike) but check no rollback and keep no model:
        it is read once at the end."""
        self.forward_only = True
        try:
            yield
        finally:
            self.forward_only = False
        self.reload_model()

    def _cause(self, failure: Failure) -> Cause:
        placement = None
        if self.project is not None:
            placement = Placement(self.project, self.current, self._on_shadow)
        return classify_failure(
            failure.sqlstate, failure.primary or failure.message,
            server_major=self.server_major, failed=self.failed, context=failure.context,
            in_body=failure.in_body, placement=placement,
        )  # fmt: skip

    def _on_shadow(self, kind: str, name: str) -> bool:
        """Whether a relation, routine or type of that (bare) name is on the shadow in any
        schema: then the failure is a call's argument types or a search_path, not a missing
        object. (Run after the failed forward was rolled back.)"""
        query = _NAMED.get(kind)
        if query is None:
            return False
        try:
            row = self.c().execute(query, (name.rsplit(".", 1)[-1],), prepare=False).fetchone()
        except psycopg.Error:
            return False
        return bool(row and row[0])

    def _enable_for(self, outcome: Outcome) -> tuple[str, bool] | None:
        """An extension the dashboard enables (dashboard.py) that the failed forward relies on
        but no migration created: created as a migration's CREATE EXTENSION would be (the
        server's, else its stand-in), committed, as part of the platform; which, and whether
        by a stand-in (None: nothing to enable)."""
        failure = outcome.forward_failure
        if failure is None:
            return None
        cause = self._cause(failure)
        extension = dashboard_extension(failure.sqlstate, failure.primary or failure.message, cause)
        platform = self.active_platform()
        if extension is None or not platform.superuser or not platform.can_create(extension):
            return None
        if extension in platform.installed():
            return None
        substitute = standin(extension)
        # Into `extensions` as the dashboard does, unless the extension fixes its schema; with
        # what it requires, as the dashboard enables it.
        relocatable = substitute is None or substitute.schema == CURRENT_SCHEMA
        where = f" WITH SCHEMA {DASHBOARD_SCHEMA}" if relocatable else ""
        create = parse_script(
            f"CREATE EXTENSION IF NOT EXISTS {quote_ident(extension)}{where} CASCADE", "dashboard"
        ).statements[0]
        ran = self._committed(lambda: platform.run(create))
        return None if ran is None else (extension, bool(ran.standins))

    def _committed(self, act: Callable[[], Ran]) -> Ran | None:
        """`act` in a transaction of its own, committed (None: it failed, nothing kept)."""
        conn = self.c()
        self.pipeline("BEGIN", *RESET_SESSION)
        try:
            ran = act()
        except psycopg.Error:
            conn.execute("ROLLBACK", prepare=False)
            return None
        conn.execute("COMMIT", prepare=False)
        self.reload_model()
        return ran

    def _relied_on(self, text: str, outcome: Outcome) -> list[str]:
        """The stand-ins this migration installed, or that its forward or rollback names."""
        found = set(self.standins)
        prepared = outcome.prepared
        both = text + "\n" + (prepared.text if prepared is not None else "")
        found.update(uses(both, self.stand_in_members().names))
        return sorted(found)


_NAMED = {
    "relation": "SELECT EXISTS (SELECT FROM pg_catalog.pg_class WHERE relname = %s)",
    "function": "SELECT EXISTS (SELECT FROM pg_catalog.pg_proc WHERE proname = %s)",
    "procedure": "SELECT EXISTS (SELECT FROM pg_catalog.pg_proc WHERE proname = %s)",
    "type": "SELECT EXISTS (SELECT FROM pg_catalog.pg_type WHERE typname = %s)",
}


_MOST_ENABLED = 4  # dashboard extensions enabled for one migration, at most


def _enabled_note(extension: str) -> str:
    return (
        f"no migration creates {extension}: it was enabled on the shadow the way the "
        "dashboard enables it, and the migration replayed again"
    )


# --- going on past a failed forward ---------------------------------------------------------

Skipped = list[tuple[Statement, Failure]]


class Past(Protocol):
    """What the replay remembers of the failed migrations before this one."""

    failed: dict[str, frozenset[str]]  # failed migration -> what it would have created
    partial: list[str]  # failed migrations replayed in part (statements skipped)


def note_partial(partial: Sequence[str], result: VerifyResult) -> None:
    """The note a verdict carries when it ran after partial replays (none: no note)."""
    if not partial:
        return
    names = ", ".join(partial[-3:])
    more = f" and {len(partial) - 3} more" if len(partial) > 3 else ""
    result.notes.append(
        f"ran after a partial replay of {names}{more}: their failing statements were "
        "skipped, the rest applied"
    )


def go_past(
    s: ShadowSession,
    name: str,
    forward: Script,
    text: str,
    result: VerifyResult,
    past: Past,
    unparsed: Sequence[str] = (),
) -> None:
    """The forward failed: replay it statement by statement, skipping only the statements
    that fail (and `unparsed`), so that what the rest creates exists for the later migrations.
    (A migration run in statement groups keeps the groups before its failure; see
    clone_trip.py.)"""
    if any(not classify(st).transactional for st in forward.statements):
        return
    skipped = replay_partly(s, forward, text)
    if skipped is None:
        result.notes.append("replaying it statement by statement failed too: not applied")
        return
    result.skipped_statements = [*unparsed, *(f"{f.location}: {f.message}" for _, f in skipped)]
    applied = sum(1 for _ in executable(forward.statements)) - len(skipped)
    past.failed[name] = would_create(Script(forward.source, tuple(st for st, _ in skipped)))
    if applied:
        past.partial.append(name)
    result.notes.append(
        f"replayed in part for the later migrations: {applied} statement(s) applied, "
        f"{len(result.skipped_statements)} skipped (skipped_statements)"
    )


def replay_partly(s: ShadowSession, forward: Script, text: str) -> Skipped | None:
    """Each statement under its own savepoint, the failing ones rolled back; committed.
    None: the migration could not be applied even so (nothing of it is)."""
    conn = s.c()
    skipped: Skipped = []
    s.pipeline("BEGIN", *RESET_SESSION, *s.clear())
    try:
        for st in executable(forward.statements):
            conn.execute(f"SAVEPOINT {STATEMENT_SAVEPOINT}", prepare=False)
            failure = s.run_on(conn, [st], text)
            end = "ROLLBACK TO" if failure is not None else "RELEASE"
            conn.execute(f"{end} SAVEPOINT {STATEMENT_SAVEPOINT}", prepare=False)
            if failure is not None:
                skipped.append((st, failure))
        conn.execute("SET CONSTRAINTS ALL IMMEDIATE", prepare=False)
    except psycopg.Error:
        conn.execute("ROLLBACK", prepare=False)
        return None
    conn.execute("COMMIT", prepare=False)
    s.reload_model()
    return skipped
