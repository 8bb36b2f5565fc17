"""What the CLI calls: `validate --verify` and `generate --verify`.

Both replay the project's migrations, in order, on a shadow PostgreSQL loaded with the
Supabase baseline (see roundtrip.py for the transaction protocol). Extensions the shadow server
lacks are stand-ins (verify/standins/), and verdicts that relied on one name it. A forward
migration that fails is `forward_failed` with a classified cause (verify/causes.py); it is then
replayed statement by statement with the failing statements skipped (`skipped_statements`, each
with its file:line; a file that does not parse is cut into the statements that do, see
verify/lenient.py), so that later migrations find what the rest of it created. Their verdicts
note that they ran after a partial replay, and a later failure that comes from a skipped
statement says it depends on that migration.

With `jobs` the migrations are split across shadow databases of the same server (parallel.py):
each worker replays the migrations before its share forward only (`Replayer.catch_up`: the same
code path, so failures, partial replays and dashboard extensions come out the same), then checks
its share as one database would; the results and the progress come back in migration order.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from migration_rollback.errors import SqlSyntaxError
from migration_rollback.sql import History, Script
from migration_rollback.verify.diff import Difference, render
from migration_rollback.verify.generated_attempts import generated_source
from migration_rollback.verify.made import ProjectNames
from migration_rollback.verify.majors import MajorRequirement
from migration_rollback.verify.parallel import (
    OrderedProgress,
    Stopped,
    resolve_jobs,
    run_workers,
    split,
)
from migration_rollback.verify.parsed_files import ParsedFiles
from migration_rollback.verify.replayer import Progress, Replayer
from migration_rollback.verify.rollback_source import (
    Attempts,
    Once,
    Prepared,
    RollbackSource,
    file_rollback,
)
from migration_rollback.verify.session import prepare_shadow
from migration_rollback.verify.shadow import (
    ShadowDatabase,
    ShadowServer,
    prepared_template,
    scratch_database,
    shadow_server,
)
from migration_rollback.verify.shared_effects import first_shared_effect
from migration_rollback.verify.snapshot import Snapshot
from migration_rollback.verify.stateful import Filled, StillManual
from migration_rollback.verify.verdict import MigrationPair, VerifyResult


@dataclass
class VerifyRun:
    """Results of a replay and how it went."""

    results: list[VerifyResult]
    shadow: str = ""
    elapsed_ms: float = 0.0
    scoped_checks: int = 0
    full_checks: int = 0
    capture: bool = False
    drift: list[Difference] = field(default_factory=list)  # model vs fresh snapshot at the end

    def to_json(self) -> dict[str, Any]:
        return {
            "shadow": self.shadow,
            "elapsed_ms": round(self.elapsed_ms, 1),
            "incremental": self.capture,
            "scoped_checks": self.scoped_checks,
            "full_checks": self.full_checks,
            "bookkeeping_drift": [d.to_json() for d in self.drift],
            "results": [r.to_json() for r in self.results],
        }


@dataclass
class GeneratedRollback:
    """A state-aware rollback body for `generate --verify`, and its verdict."""

    migration: str
    sql_body: str | None  # None: the forward failed or was skipped; keep the static rollback
    result: VerifyResult
    filled: list[Filled] = field(default_factory=list)
    still_manual: list[StillManual] = field(default_factory=list)
    data_loss: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "migration": self.migration,
            "result": self.result.to_json(),
            "filled": [f.to_json() for f in self.filled],
            "still_manual": [str(m) for m in self.still_manual],
            "data_loss": list(self.data_loss),
        }


class Plan(Protocol):
    """What one worker asks of its caller: each migration's rollback source, and what to learn
    from each forward it replays (its catch-up's too)."""

    def source_for(self, pair: MigrationPair) -> RollbackSource: ...

    def learn(self, pair: MigrationPair) -> None: ...


@dataclass(frozen=True)
class _Files:
    """`validate --verify`: the rollback files, nothing to learn."""

    files: ParsedFiles

    def source_for(self, pair: MigrationPair) -> RollbackSource:
        return file_rollback(pair.rollback_path, pair.rollback_text, pair.plan, self.files)

    def learn(self, pair: MigrationPair) -> None:
        return None


@dataclass(frozen=True)
class _Options:
    incremental: bool = True
    strict_column_order: bool = False
    check_drift: bool = True
    project: ProjectNames | None = None  # what every migration makes (causes.py)


def _replay(
    migrations: Sequence[MigrationPair],
    shadow_url: str | None,
    progress: Progress | None,
    plan: Callable[[ParsedFiles], Plan],
    *,
    options: _Options = _Options(),
    major: MajorRequirement | None = None,
    jobs: int | None = None,
) -> VerifyRun:
    """The replay on one shadow database, or split across `jobs` (parallel.py): one run."""
    say = progress or (lambda _message: None)
    started = time.perf_counter()
    files = ParsedFiles()
    with shadow_server(shadow_url, major) as server, contextlib.ExitStack() as stack:
        count, template = _workers_and_template(stack, server, (migrations, files), jobs, say)
        ranges = split(len(migrations), count)
        ordered = OrderedProgress(say, len(ranges))

        def work(k: int, stop: threading.Event) -> VerifyRun:
            try:
                worker = _Worker(
                    server, migrations, ranges[k], ordered.of(k), stop, files, template
                )
                return worker.run(plan(files), options, first=k == 0)
            finally:
                ordered.done(k)

        parts = run_workers(len(ranges), work)
    return _joined(parts, server.description, (time.perf_counter() - started) * 1000.0)


def _workers_and_template(
    stack: contextlib.ExitStack,
    server: ShadowServer,
    read: tuple[Sequence[MigrationPair], ParsedFiles],
    jobs: int | None,
    say: Progress,
) -> tuple[int, str | None]:
    """The workers, and the template they copy when there may be several: the files are read
    and parsed for shared effects (client CPU), and kept for the workers, while the server
    loads the template (its own CPU)."""
    migrations, files = read
    wanted = resolve_jobs(jobs, len(migrations))
    if wanted == 1:
        return 1, None
    with ThreadPoolExecutor(1, thread_name_prefix="verify_scan") as scan:
        reason = scan.submit(first_shared_effect, migrations, files)
        template = _template(stack, server, say)
        return _workers(wanted, reason.result(), say), template


def _workers(jobs: int, reason: str | None, say: Progress) -> int:
    """`jobs`, unless a migration reaches outside its shadow database (shared_effects.py):
    then one, said once (an explicit --jobs too: the verdicts must be those of one database)."""
    if reason is None:
        return jobs
    say(f"verifying with one shadow database: {reason}")
    return 1


def _template(stack: contextlib.ExitStack, server: ShadowServer, say: Progress) -> str:
    """The baseline loaded once, in a database the workers copy (issue #17: loaded by each,
    under the server's lock, it was a fifth of a two-worker run); dropped with `stack`."""
    return stack.enter_context(prepared_template(server, lambda db: prepare_shadow(db, say)))


_NO_CAPTURE = "change capture unavailable (not a superuser): comparing full snapshots"


def _joined(parts: Sequence[VerifyRun], shadow: str, elapsed_ms: float) -> VerifyRun:
    return VerifyRun(
        [r for part in parts for r in part.results],
        shadow,
        elapsed_ms,
        sum(part.scoped_checks for part in parts),
        sum(part.full_checks for part in parts),
        all(part.capture for part in parts),
        [d for part in parts for d in part.drift],
    )


@dataclass
class _Worker:
    """Migrations [a, b) checked on a shadow database of their own, after the catch-up."""

    server: ShadowServer
    migrations: Sequence[MigrationPair]
    span: tuple[int, int]
    say: Progress
    stop: threading.Event
    files: ParsedFiles  # the run's reads and parses (parsed_files.py)
    template: str | None = None  # the prepared database to copy (several workers)

    def run(self, plan: Plan, options: _Options, *, first: bool) -> VerifyRun:
        with scratch_database(self.server, self.template) as db:
            self.say(self._opening(db))
            with Replayer(
                db,
                progress=self.say if first else None,  # the baseline's notes: said once
                incremental=options.incremental,
                strict_column_order=options.strict_column_order,
                read_model=self.span[0] == 0,  # else the catch-up reads it, at its end
                project=options.project,
                files=self.files,
            ) as replayer:
                if first and not replayer.capturing and options.incremental:
                    self.say(_NO_CAPTURE)
                self._catch_up(replayer, plan)
                results = [self._check(replayer, plan, pair) for pair in self._own()]
                drift = replayer.consistency() if options.check_drift else []
                if drift:
                    self.say(
                        "internal: the kept schema model drifted from the database:\n"
                        + render(drift)
                    )
                return VerifyRun(
                    results, db.server.description, 0.0, replayer.scoped_checks,
                    replayer.full_checks, replayer.capturing, drift,
                )  # fmt: skip

    def _opening(self, db: ShadowDatabase) -> str:
        a, b = self.span
        whole = (a, b) == (0, len(self.migrations))
        which = "" if whole else f" (migrations {a + 1}-{b} of {len(self.migrations)})"
        return f"shadow database {db.name}{which} on the {db.server.description}"

    def _own(self) -> Sequence[MigrationPair]:
        return self.migrations[self.span[0] : self.span[1]]

    def _catch_up(self, replayer: Replayer, plan: Plan) -> None:
        """Migrations [0, a) applied as the checked replay applies them, rollbacks unchecked."""
        if self.span[0] == 0:
            return
        with replayer.catch_up():
            for pair in self.migrations[: self.span[0]]:
                self._step()
                replayer.replay(pair.name, pair.forward_path, FORWARD_ONLY)
                plan.learn(pair)

    def _check(self, replayer: Replayer, plan: Plan, pair: MigrationPair) -> VerifyResult:
        self._step()
        result = replayer.replay(pair.name, pair.forward_path, plan.source_for(pair))
        if self.server.off_major:  # allowed on another major: every verdict says so
            result.notes.append(self.server.off_major)
        self.say(f"{pair.name}: {result.verdict} ({result.elapsed_ms:.0f} ms)")
        plan.learn(pair)
        return result

    def _step(self) -> None:
        if self.stop.is_set():
            raise Stopped


def run_verification(
    migrations: Sequence[MigrationPair],
    shadow_url: str | None,
    progress: Progress | None = None,
    *,
    incremental: bool = True,
    strict_column_order: bool = False,
    major: MajorRequirement | None = None,
    jobs: int | None = None,
    project: ProjectNames | None = None,
) -> VerifyRun:
    """`validate --verify`, with the replay's statistics.

    `incremental=False` compares full snapshots at every migration (O(schema) each; the
    reference the incremental checks are tested against). `strict_column_order=True` counts a
    column that came back in another position as a mismatch. `jobs`: the shadow databases
    checking at once (None: chosen from the CPUs and the project's size, parallel.py).
    `project`: what every migration makes (made.project_names), so that a forward failing on
    an object no migration makes, or only a later one, says so (None: it cannot).
    """
    options = _Options(
        incremental=incremental, strict_column_order=strict_column_order, project=project
    )
    return _replay(
        migrations, shadow_url, progress, _Files, options=options, major=major, jobs=jobs
    )


def verify_project(
    migrations: Sequence[MigrationPair],
    shadow_url: str | None,
    progress: Progress | None = None,
    major: MajorRequirement | None = None,
    *,
    strict_column_order: bool = False,
    jobs: int | None = None,
    project: ProjectNames | None = None,
) -> list[VerifyResult]:
    """`validate --verify`: replay the migrations and prove (or refute) each rollback file.

    `major`: the PostgreSQL major the shadow must run (see verify/majors.py); `project`: as
    `run_verification`'s."""
    return run_verification(
        migrations, shadow_url, progress, major=major, strict_column_order=strict_column_order,
        jobs=jobs, project=project,
    ).results  # fmt: skip


class _Generated:
    """`generate --verify`'s plan for one worker: the generator, with the static-plan history
    of every forward the worker replayed; what it offered first, kept by migration."""

    def __init__(self, sources: dict[str, Prepared], files: ParsedFiles) -> None:
        self.history = History()
        self.sources = sources  # shared by the workers: each writes its own migrations
        self.files = files

    def source_for(self, pair: MigrationPair) -> RollbackSource:
        inner = generated_source(pair.name, self.history)
        sources = self.sources

        def provide(
            forward: Script, before: Callable[[], Snapshot], after: Callable[[], Snapshot]
        ) -> Attempts:
            attempts = inner(forward, before, after)
            sources[pair.name] = attempts.first()
            return attempts

        return provide

    def learn(self, pair: MigrationPair) -> None:
        path = pair.forward_path
        try:
            forward = self.files.script(str(path), self.files.text(path))
        except SqlSyntaxError:
            return
        self.history.begin_file()
        for statement in forward.statements:
            self.history.observe(statement)


def generate_verified(
    migrations: Sequence[MigrationPair],
    shadow_url: str | None,
    progress: Progress | None = None,
    *,
    strict_column_order: bool = False,
    major: MajorRequirement | None = None,
    jobs: int | None = None,
    project: ProjectNames | None = None,
) -> list[GeneratedRollback]:
    """`generate --verify`: state-aware rollback bodies, each proven by a round trip.

    For every migration: the static plan (with what earlier migrations built), its MANUAL steps
    filled from the shadow's schema before the migration, then checked; if the round trip still
    finds differences (objects a CASCADE removed, objects a DO block created...), repair SQL is
    appended and checked again (at most twice). `sql_body` is what to write as the rollback
    file's body (the CLI adds the header); its verdict is `result`. `jobs`, `project`: as
    `run_verification`'s.
    """
    sources: dict[str, Prepared] = {}
    options = _Options(strict_column_order=strict_column_order, project=project)
    run = _replay(
        migrations, shadow_url, progress, lambda files: _Generated(sources, files),
        options=options, major=major, jobs=jobs,
    )  # fmt: skip
    return [_generated(result, sources.get(result.migration)) for result in run.results]


def _generated(result: VerifyResult, prepared: Prepared | None) -> GeneratedRollback:
    if prepared is None:
        return GeneratedRollback(result.migration, None, result)
    return GeneratedRollback(
        result.migration,
        result.rollback_sql or prepared.sql_body,
        result,
        list(prepared.filled),
        list(prepared.still_manual),
        list(prepared.data_loss),
    )


def _forward_only(
    forward: Script, before: Callable[[], Snapshot], after: Callable[[], Snapshot]
) -> Attempts:
    """The catch-up's source: no rollback, so the trip applies the forward and nothing else."""
    return Once(Prepared(None, problem="catch-up: not checked"))


FORWARD_ONLY: RollbackSource = _forward_only
