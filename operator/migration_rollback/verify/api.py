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
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migration_rollback.errors import SqlSyntaxError
from migration_rollback.sql import History, Script, parse_script
from migration_rollback.verify.diff import Difference, render
from migration_rollback.verify.generated_attempts import generated_source
from migration_rollback.verify.majors import MajorRequirement
from migration_rollback.verify.replayer import Progress, Replayer
from migration_rollback.verify.rollback_source import (
    Attempts,
    Prepared,
    RollbackSource,
    file_rollback,
)
from migration_rollback.verify.shadow import shadow_database
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


def _replay(
    migrations: Sequence[MigrationPair],
    shadow_url: str | None,
    progress: Progress | None,
    source_for: Callable[[MigrationPair], RollbackSource],
    *,
    incremental: bool = True,
    strict_column_order: bool = False,
    check_drift: bool = True,
    after_each: Callable[[MigrationPair, VerifyResult], None] | None = None,
    major: MajorRequirement | None = None,
) -> VerifyRun:
    say = progress or (lambda _message: None)
    started = time.perf_counter()
    results: list[VerifyResult] = []
    with shadow_database(shadow_url, major) as db:
        say(f"shadow database {db.name} on the {db.server.description}")
        with Replayer(
            db, progress=say, incremental=incremental, strict_column_order=strict_column_order
        ) as replayer:
            if not replayer.capturing and incremental:
                say("change capture unavailable (not a superuser): comparing full snapshots")
            for pair in migrations:
                result = replayer.replay(pair.name, pair.forward_path, source_for(pair))
                if db.server.off_major:  # allowed on another major: every verdict says so
                    result.notes.append(db.server.off_major)
                results.append(result)
                say(f"{pair.name}: {result.verdict} ({result.elapsed_ms:.0f} ms)")
                if after_each is not None:
                    after_each(pair, result)
            drift = replayer.consistency() if check_drift else []
            if drift:
                say("internal: the kept schema model drifted from the database:\n" + render(drift))
            return VerifyRun(
                results,
                db.server.description,
                (time.perf_counter() - started) * 1000.0,
                replayer.scoped_checks,
                replayer.full_checks,
                replayer.capturing,
                drift,
            )


def run_verification(
    migrations: Sequence[MigrationPair],
    shadow_url: str | None,
    progress: Progress | None = None,
    *,
    incremental: bool = True,
    strict_column_order: bool = False,
    major: MajorRequirement | None = None,
) -> VerifyRun:
    """`validate --verify`, with the replay's statistics.

    `incremental=False` compares full snapshots at every migration (O(schema) each; the
    reference the incremental checks are tested against). `strict_column_order=True` counts a
    column that came back in another position as a mismatch.
    """
    return _replay(
        migrations, shadow_url, progress, lambda p: file_rollback(p.rollback_path),
        incremental=incremental, strict_column_order=strict_column_order, major=major,
    )  # fmt: skip


def verify_project(
    migrations: Sequence[MigrationPair],
    shadow_url: str | None,
    progress: Progress | None = None,
    major: MajorRequirement | None = None,
    *,
    strict_column_order: bool = False,
) -> list[VerifyResult]:
    """`validate --verify`: replay the migrations and prove (or refute) each rollback file.

    `major`: the PostgreSQL major the shadow must run (see verify/majors.py)."""
    return run_verification(
        migrations, shadow_url, progress, major=major, strict_column_order=strict_column_order
    ).results


def generate_verified(
    migrations: Sequence[MigrationPair],
    shadow_url: str | None,
    progress: Progress | None = None,
    *,
    strict_column_order: bool = False,
    major: MajorRequirement | None = None,
) -> list[GeneratedRollback]:
    """`generate --verify`: state-aware rollback bodies, each proven by a round trip.

    For every migration: the static plan (with what earlier migrations built), its MANUAL steps
    filled from the shadow's schema before the migration, then checked; if the round trip still
    finds differences (objects a CASCADE removed, objects a DO block created...), repair SQL is
    appended and checked again (at most twice). `sql_body` is what to write as the rollback
    file's body (the CLI adds the header); its verdict is `result`.
    """
    history = History()
    sources: dict[str, Prepared] = {}

    def source_for(pair: MigrationPair) -> RollbackSource:
        inner = generated_source(pair.name, history)

        def provide(forward: Script, before: Snapshot, after: Callable[[], Snapshot]) -> Attempts:
            attempts = inner(forward, before, after)
            sources[pair.name] = attempts.first()
            return attempts

        return provide

    def learn(pair: MigrationPair, result: VerifyResult) -> None:
        try:
            forward = parse_script(_read(pair.forward_path), str(pair.forward_path))
        except SqlSyntaxError:
            return
        history.begin_file()
        for statement in forward.statements:
            history.observe(statement)

    run = _replay(
        migrations, shadow_url, progress, source_for,
        after_each=learn, strict_column_order=strict_column_order, major=major,
    )  # fmt: skip
    out: list[GeneratedRollback] = []
    for result in run.results:
        prepared = sources.get(result.migration)
        if prepared is None:
            out.append(GeneratedRollback(result.migration, None, result))
            continue
        out.append(
            GeneratedRollback(
                result.migration,
                result.rollback_sql or prepared.sql_body,
                result,
                list(prepared.filled),
                list(prepared.still_manual),
                list(prepared.data_loss),
            )
        )
    return out


def _read(path: Path) -> str:
    from migration_rollback.project.migrations import read_source

    return read_source(path).text
