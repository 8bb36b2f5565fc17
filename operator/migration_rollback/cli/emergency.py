"""`migration-rollback emergency`: write the project's emergency rollback plan."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from migration_rollback.cli.app import DEFAULT_DIR, DirOption, app, console
from migration_rollback.errors import MigrationRollbackError
from migration_rollback.project.emergency import render_emergency_plan
from migration_rollback.project.validation import validate_all
from migration_rollback.project.workspace import load


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
    try:
        loaded = load(directory)
    except MigrationRollbackError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    plan = render_emergency_plan(
        loaded, validate_all(loaded), generated_at=datetime.now(UTC), latest=latest
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(plan, encoding="utf-8")
    console.print(f"wrote {output} ({min(latest, len(loaded))} migrations)")
