"""`migration-rollback emergency`: write the project's emergency rollback plan."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from migration_rollback.cli.app import (
    DEFAULT_DIR,
    DirOption,
    app,
    console,
    error_markup,
    escape,
    load_project,
)
from migration_rollback.exitcodes import ExitCode


@app.command("emergency")
def emergency(
    directory: DirOption = DEFAULT_DIR,
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the plan.")] = Path(
        "scripts/EMERGENCY_ROLLBACK_PLAN.md"
    ),
    latest: Annotated[int, typer.Option(help="How many recent migrations to cover.", min=1)] = 5,
) -> None:
    """Write an incident plan for this project: the latest migrations with their rollback
    state, the exact commands and a ready MigrationRollback manifest for each, and the
    response phases. Exit 2 when --output names no file (a folder, a path under a file),
    15 when writing it fails (a full disk)."""
    from migration_rollback.project.emergency import render_emergency_plan
    from migration_rollback.project.validation import validate_all

    refused = _refused_output(output, directory)
    if refused:
        console.print(error_markup(f"not writing the plan: {refused}"))
        raise typer.Exit(2)
    loaded = load_project(directory, "reading")
    plan = render_emergency_plan(
        loaded, validate_all(loaded), generated_at=datetime.now(UTC), latest=latest
    )
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(plan, encoding="utf-8")
    except OSError as exc:
        console.print(error_markup(f"cannot write the plan: {_why(exc, output)}"))
        raise typer.Exit(_exit_for(exc)) from None
    console.print(f"wrote {escape(str(output))} ({min(latest, len(loaded))} migrations)")


# A path that names no file (a folder, under a file) is a mistake in the command: USAGE, as
# execute's check before any work says. Anything else failed in the writing (a full disk).
_PATH_MISTAKES = (FileExistsError, IsADirectoryError, NotADirectoryError)


def _exit_for(exc: OSError) -> int:
    return int(ExitCode.USAGE if isinstance(exc, _PATH_MISTAKES) else ExitCode.OUTPUT_FAILED)


def _why(exc: OSError, output: Path) -> str:
    where = exc.filename or output
    if isinstance(exc, FileExistsError):  # from mkdir: a file sits where a folder must be
        return f"{where} exists and is not a folder"
    return f"{where}: {exc.strerror or exc}"


def _refused_output(output: Path, directory: Path) -> str | None:
    """Why the plan must not go to `output`: a migration or a rollback (a .sql file, anything
    in the migrations folder: the next apply or execute would read Markdown), or another
    file that is not an earlier plan (it would be lost)."""
    if output.suffix.lower() == ".sql":
        return f"{escape(str(output))} is an SQL file; choose a .md path"
    if output.resolve().parent == directory.resolve():
        return f"{escape(str(output))} is in the migrations folder; choose a path outside it"
    if output.is_file() and not _is_plan(output):
        return f"{escape(str(output))} exists and is not an emergency plan; choose another path"
    return None


def _is_plan(path: Path) -> bool:
    from migration_rollback.project.emergency import PLAN_HEADING

    try:
        with path.open(encoding="utf-8", errors="replace") as f:
            return f.readline().rstrip("\n") == PLAN_HEADING
    except OSError:
        return False
