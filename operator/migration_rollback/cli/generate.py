"""`migration-rollback generate`: write rollback SQL and docs beside each migration."""

from __future__ import annotations

from typing import Annotated

import typer

from migration_rollback.cli.app import (
    DEFAULT_DIR,
    DirOption,
    ShadowOption,
    advance,
    app,
    console,
    progress_bar,
)
from migration_rollback.errors import DatabaseUnavailableError, MigrationRollbackError
from migration_rollback.project.generation import Outcome, generate_one
from migration_rollback.project.migrations import discover
from migration_rollback.project.workspace import LoadedMigration, load


@app.command("generate")
def generate(
    directory: DirOption = DEFAULT_DIR,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite rollback files edited by hand.")
    ] = False,
    only: Annotated[
        str | None, typer.Option("--only", help="Only this migration (name or version).")
    ] = None,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify",
            help="Write state-aware rollbacks: replay on a shadow PostgreSQL, fill MANUAL items "
            "from the schema before each migration, and prove each rollback.",
        ),
    ] = False,
    shadow_url: ShadowOption = None,
) -> None:
    """Write <migration>_rollback.sql and <migration>_rollback.md beside each migration.

    Statements whose inverse needs a human are written as '-- MANUAL:' lines. Files edited by
    hand are kept unless --force. Exit code 1 when a migration does not parse.
    """
    try:
        total = len(discover(directory))
        with progress_bar(total, "parsing") as bar:
            loaded = load(directory, progress=lambda name: advance(bar, name))
    except MigrationRollbackError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    bodies = state_aware_bodies(loaded, shadow_url) if verify else {}
    failed = 0
    for item in loaded:
        if only and only not in (item.migration.name, item.migration.version):
            continue
        result = generate_one(item, force=force, body=bodies.get(item.migration.name))
        if result.outcome is Outcome.FAILED:
            failed += 1
            console.print(f"[red]✗[/red] {result.migration}: {result.message}")
            continue
        extras = []
        if result.manual_items:
            extras.append(f"{result.manual_items} manual")
        if result.destroys_data:
            extras.append("data loss")
        suffix = f" ({', '.join(extras)})" if extras else ""
        mark = "[yellow]![/yellow]" if result.outcome is Outcome.KEPT_HAND_EDITED else "✓"
        console.print(f"{mark} {result.migration}: {result.outcome}{suffix} {result.message}")
    if failed:
        raise typer.Exit(1)


def state_aware_bodies(loaded: list[LoadedMigration], shadow_url: str | None) -> dict[str, str]:
    """Rollback bodies proven on a shadow database (the static ones where it could not)."""
    from migration_rollback.verify import MigrationPair, generate_verified

    pairs = [MigrationPair(item.migration.name, item.migration.path) for item in loaded]
    try:
        with progress_bar(len(pairs), "verifying") as bar:
            generated = generate_verified(pairs, shadow_url, progress=lambda n: advance(bar, n))
    except DatabaseUnavailableError as exc:
        console.print(f"[red]error:[/red] shadow database: {exc}")
        raise typer.Exit(2) from None
    bodies: dict[str, str] = {}
    for g in generated:
        status = g.result.status
        console.print(f"  {status:15} {g.migration} ({len(g.filled)} filled from the shadow state)")
        if g.sql_body is not None:
            bodies[g.migration] = g.sql_body
    return bodies
