"""`migration-rollback validate`: check every rollback; exit 0 only when all can be trusted."""

from __future__ import annotations

import enum
import json
from typing import Annotated

import typer

from migration_rollback.cli.app import DEFAULT_DIR, DirOption, advance, app, console, progress_bar
from migration_rollback.errors import MigrationRollbackError
from migration_rollback.project.migrations import discover
from migration_rollback.project.validation import MigrationReport, Status, validate_all
from migration_rollback.project.workspace import load


class Format(enum.StrEnum):
    TEXT = "text"
    JSON = "json"


_COLOR = {
    Status.VALID: "green",
    Status.MANUAL: "yellow",
    Status.INVALID: "red",
    Status.MISSING: "red",
    Status.STALE: "red",
}


@app.command("validate")
def validate(
    directory: DirOption = DEFAULT_DIR,
    output: Annotated[Format, typer.Option("--format", help="text or json.")] = Format.TEXT,
) -> None:
    """Check that each rollback exists, parses, covers the migration, runs in a sound order and
    is current; report data-loss and lock hazards.

    Exit 0 only when no rollback is invalid, missing or stale ('manual' still passes: the
    items are listed for a human).
    """
    try:
        total = len(discover(directory))
        with progress_bar(total, "validating") as bar:
            loaded = load(directory, progress=lambda name: advance(bar, name))
    except MigrationRollbackError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    reports = validate_all(loaded)
    if output is Format.JSON:
        print(json.dumps(_json(reports), indent=2))
    else:
        _print_text(reports)
    if any(r.status.blocks for r in reports):
        raise typer.Exit(1)


def _json(reports: list[MigrationReport]) -> dict[str, object]:
    counts = {str(s): sum(1 for r in reports if r.status is s) for s in Status}
    return {
        "ok": not any(r.status.blocks for r in reports),
        "summary": counts,
        "migrations": [r.to_json() for r in reports],
    }


def _print_text(reports: list[MigrationReport]) -> None:
    for report in reports:
        color = _COLOR[report.status]
        console.print(f"[{color}]{report.status:8}[/{color}] {report.migration}")
        for f in report.findings:
            where = (
                f"{f.file}:{f.line}: " if f.file and f.line else (f"{f.file}: " if f.file else "")
            )
            console.print(f"           {f.severity}: {f.code}: {where}{f.message}", soft_wrap=True)
    counts = ", ".join(
        f"{sum(1 for r in reports if r.status is s)} {s}"
        for s in Status
        if any(r.status is s for r in reports)
    )
    console.print(f"{len(reports)} migrations: {counts or 'none'}")
