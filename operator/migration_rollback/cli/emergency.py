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
    response phases."""
    from migration_rollback.project.emergency import render_emergency_plan
    from migration_rollback.project.validation import validate_all

    loaded = load_project(directory, "reading")
    plan = render_emergency_plan(
        loaded, validate_all(loaded), generated_at=datetime.now(UTC), latest=latest
    )
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(plan, encoding="utf-8")
    except OSError as exc:
        console.print(error_markup(f"cannot write the plan: {_why(exc, output)}"))
        raise typer.Exit(2) from None
    console.print(f"wrote {escape(str(output))} ({min(latest, len(loaded))} migrations)")


def _why(exc: OSError, output: Path) -> str:
    where = exc.filename or output
    if isinstance(exc, FileExistsError):  # from mkdir: a file sits where a folder must be
        return f"{where} exists and is not a folder"
    return f"{where}: {exc.strerror or exc}"
