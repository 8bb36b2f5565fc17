"""Load a migrations directory once: parsed forward scripts and the history before each one.

`generate`, `validate` and `emergency` all need the same view of the project, including what
earlier migrations built (so the generator can tell new objects from old ones). A file that
cannot be used carries its error and the others are loaded as usual.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from migration_rollback.errors import (
    InputLimitError,
    SourceFileError,
    SourceLocation,
    SqlSyntaxError,
)
from migration_rollback.input_limits import NESTING_OPTION
from migration_rollback.project.migrations import (
    Migration,
    SourceText,
    read_source,
    require_migrations,
    scan,
)
from migration_rollback.sql import History, RollbackPlan, Script, generate_rollback, parse_script
from migration_rollback.sql.checks import Finding, Severity, forward_session_findings
from migration_rollback.sql.copy_data import INLINE_COPY_ADVICE, CopyBlock
from migration_rollback.sql.long_names import long_name_findings, may_hold_cut_names
from migration_rollback.sql.metacommands import MetaCommand, normalize_text, scan_psql
from migration_rollback.sql.uncommitted import uncommitted

_UNREAD = SourceText("", "")


@dataclass(frozen=True)
class LoadedMigration:
    """A forward migration with its parse result (or error) and the plan to undo it."""

    migration: Migration
    source: SourceText
    script: Script | None
    error: SqlSyntaxError | SourceFileError | None
    plan: RollbackPlan | None
    meta_commands: tuple[MetaCommand, ...] = ()
    copy_blocks: tuple[CopyBlock, ...] = ()

    @property
    def display_path(self) -> str:
        return self.migration.path.name

    @property
    def error_code(self) -> str:
        """The finding code of `error`: a syntax error, or what is wrong with the file."""
        if isinstance(self.error, SourceFileError):
            return self.error.code
        return "TOO_LARGE" if isinstance(self.error, InputLimitError) else "FORWARD_SYNTAX"

    @property
    def usable(self) -> bool:
        """The forward file can be used: read as text, its version its own (it may not parse)."""
        return not isinstance(self.error, SourceFileError)

    @property
    def usable_rollback(self) -> Path | None:
        """The rollback file when it exists and reads as text (validate reports why not)."""
        path = self.migration.rollback_path
        try:
            read_source(path)
        except SourceFileError:
            return None
        return path


Progress = Callable[[str], None]


def load(directory: Path, progress: Progress | None = None) -> list[LoadedMigration]:
    """Parse every migration in order, learning history as we go."""
    found = scan(directory)
    require_migrations(directory, found)
    migrations = found.migrations
    loaded: list[LoadedMigration] = []
    history = History()
    with paused_gc():
        for migration in migrations:
            if progress:
                progress(migration.name)
            loaded.append(_load_one(migration, history))
    return loaded


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection while the project's parse trees are built and read.

    The trees stay alive until the command ends, and each full collection walks all of them:
    with the collector on, loading a large project spent about as long collecting as parsing.
    The trees hold no cycles (reference counting frees them), so the collector has nothing to
    do here. On the way out what was made is moved to the oldest generation unscanned (freeze,
    then unfreeze: nothing else here freezes objects), or the first young collection after
    the block would walk every tree once more; a later full collection still sees them.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.unfreeze()
        if was_enabled:
            gc.enable()


def _load_one(migration: Migration, history: History) -> LoadedMigration:
    if migration.problem is not None:
        return LoadedMigration(migration, _UNREAD, None, migration.problem, None)
    try:
        source = read_source(migration.path)
    except SourceFileError as exc:
        return LoadedMigration(migration, _UNREAD, None, exc, None)
    psql = scan_psql(source.text)
    meta, blocks = psql.meta_commands, psql.copy_blocks
    try:
        script = parse_script(source.text, migration.path.name)
    except SqlSyntaxError as exc:
        return LoadedMigration(migration, source, None, exc, None, meta, blocks)
    try:
        plan = _generate_and_learn(script, migration, history)
    except RecursionError:  # past what the nesting estimate foresaw: an error, no traceback
        error = InputLimitError(
            SourceLocation(migration.path.name, 1, 1), f"{_TOO_DEEP} ({NESTING_OPTION})"
        )
        return LoadedMigration(migration, source, None, error, None, meta, blocks)
    return LoadedMigration(migration, source, script, None, plan, meta, blocks)


_TOO_DEEP = "a statement is nested too deep for the engine to walk: simplify it"


def _generate_and_learn(script: Script, migration: Migration, history: History) -> RollbackPlan:
    # The generator only reads the history: no copy (copying it for every migration made
    # loading a long project quadratic).
    plan = generate_rollback(script, migration.name, history)
    history.begin_file()
    for statement in script.statements:
        history.observe(statement)
    return plan


def meta_command_notes(item: LoadedMigration) -> list[str]:
    """One line per psql meta-command and per block of inline COPY rows of the forward file:
    the engine never saw their effect."""
    text = normalize_text(item.source.text) if item.copy_blocks else ""
    notes = [
        (
            meta.line,
            f"psql meta-command '{meta.shown}' is not SQL: what it does is not "
            "analysed nor rolled back; review it by hand",
        )
        for meta in item.meta_commands
    ] + [
        (
            block.line,
            f"{block.describe(text)} is not SQL: apply cannot send it and its rows "
            f"are not rolled back; {INLINE_COPY_ADVICE}",
        )
        for block in item.copy_blocks
    ]
    notes.sort(key=lambda note: note[0])  # in file order (stable: a \copy before its rows)
    return [f"{item.display_path}:{line}: {note}" for line, note in notes]


# A file that was cut short, or saved before it was written, passes every other check.
_EMPTY = (
    "holds no SQL statement (empty, blank or only comments): was it saved whole? Applied as "
    "is, it records a version that changed nothing"
)


def forward_findings(item: LoadedMigration) -> list[Finding]:
    """What `validate` reports about the forward file itself: encoding, meta-commands, the
    session changes `apply` keeps, scopes or refuses."""
    found: list[Finding] = []
    duplicate = item.migration.duplicate
    if duplicate is not None:
        found.append(
            Finding(duplicate.code, Severity.WARNING, duplicate.message, None, item.display_path)
        )
    if item.source.warning:
        found.append(Finding("ENCODING", Severity.WARNING, item.source.warning))
    if item.script is not None and not item.script.statements and not item.meta_commands:
        found.append(Finding("EMPTY", Severity.WARNING, _EMPTY, None, item.display_path))
    lost = uncommitted(item.script.statements) if item.script is not None else None
    if lost is not None:
        line = lost.statement.location.line
        found.append(Finding(lost.kind, Severity.ERROR, lost.message, line, item.display_path))
    # Its long names (a generated rollback names what the trees hold: the names as cut).
    if item.script is not None and may_hold_cut_names(item.script.statements):
        found += long_name_findings(item.source.text, item.display_path, item.script.statements)
    if item.script is not None:
        found += forward_session_findings(item.script, item.display_path)
    found += [
        Finding(
            "META_COMMAND",
            Severity.MANUAL,
            f"psql meta-command '{meta.shown}' is not SQL: what it does is not analysed nor "
            "rolled back; review it by hand",
            meta.line,
            item.display_path,
        )
        for meta in item.meta_commands
    ]
    return found + copy_findings(item)


def copy_findings(item: LoadedMigration) -> list[Finding]:
    """Inline COPY rows: apply sends SQL statements only, so it refuses the file; an error here
    says so before apply does. The COPY itself is classified as any statement (manual)."""
    if not item.copy_blocks:
        return []
    text = normalize_text(item.source.text)
    return [
        Finding(
            "COPY_DATA",
            Severity.ERROR,
            f"{block.describe(text)}: apply cannot send inline COPY data, and its rows are "
            f"not rolled back; {INLINE_COPY_ADVICE}",
            block.line,
            item.display_path,
        )
        for block in item.copy_blocks
    ]


def rollback_findings(text: str, file: str) -> list[Finding]:
    """A rollback holding a psql meta-command or inline COPY rows cannot be run by `execute`:
    an error."""
    psql = scan_psql(text)
    normalized = normalize_text(text) if psql.copy_blocks else text
    copies = [
        Finding(
            "COPY_DATA",
            Severity.ERROR,
            f"{block.describe(normalized)} in the rollback: execute cannot send inline COPY "
            f"data; {INLINE_COPY_ADVICE}",
            block.line,
            file,
        )
        for block in psql.copy_blocks
    ]
    return copies + [
        Finding(
            "META_COMMAND",
            Severity.ERROR,
            f"psql meta-command '{meta.shown}' in the rollback: execute runs SQL only and would "
            "skip it; replace it with SQL",
            meta.line,
            file,
        )
        for meta in psql.meta_commands
    ]
