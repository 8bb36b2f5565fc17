"""Load a migrations directory once: parsed forward scripts and the history before each one.

`generate`, `validate` and `emergency` all need the same view of the project, including what
earlier migrations built (so the generator can tell new objects from old ones).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from migration_rollback.errors import SqlSyntaxError
from migration_rollback.project.migrations import Migration, SourceText, discover, read_source
from migration_rollback.sql import History, RollbackPlan, Script, generate_rollback, parse_script


@dataclass(frozen=True)
class LoadedMigration:
    """A forward migration with its parse result (or error) and the plan to undo it."""

    migration: Migration
    source: SourceText
    script: Script | None
    error: SqlSyntaxError | None
    plan: RollbackPlan | None

    @property
    def display_path(self) -> str:
        return self.migration.path.name


Progress = Callable[[str], None]


def load(directory: Path, progress: Progress | None = None) -> list[LoadedMigration]:
    """Parse every migration in order, learning history as we go."""
    loaded: list[LoadedMigration] = []
    history = History()
    for migration in discover(directory):
        if progress:
            progress(migration.name)
        loaded.append(_load_one(migration, history))
    return loaded


def _load_one(migration: Migration, history: History) -> LoadedMigration:
    source = read_source(migration.path)
    try:
        script = parse_script(source.text, migration.path.name)
    except SqlSyntaxError as exc:
        return LoadedMigration(migration, source, None, exc, None)
    plan = generate_rollback(script, migration.name, history.copy())
    history.begin_file()
    for statement in script.statements:
        history.observe(statement)
    return LoadedMigration(migration, source, script, None, plan)
