"""The typer application every subcommand registers on, and shared CLI helpers."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from migration_rollback import __version__

app = typer.Typer(
    name="migration-rollback",
    help=(
        "Generate, validate and safely execute rollbacks of PostgreSQL (Supabase) migrations.\n\n"
        "Run from the project root (the folder holding supabase/migrations)."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

DirOption = Annotated[
    Path,
    typer.Option(
        "--dir",
        "-d",
        help="Folder of forward migrations (<timestamp>_<name>.sql).",
        envvar="MIGRATION_ROLLBACK_DIR",
    ),
]
DEFAULT_DIR = Path("supabase/migrations")


def _version(value: bool) -> None:
    if value:
        console.print(f"migration-rollback {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Generate, validate and safely execute rollbacks of PostgreSQL (Supabase) migrations."""


@contextmanager
def progress_bar(total: int, label: str) -> Iterator[Progress]:
    """A progress bar on a terminal; silent when output is piped (CI logs stay clean)."""
    progress = Progress(
        TextColumn(f"{label} [dim]{{task.description}}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err_console,
        transient=True,
        disable=not sys.stderr.isatty(),
    )
    with progress:
        progress.add_task("", total=total)
        yield progress


def advance(progress: Progress, description: str) -> None:
    task = progress.task_ids[0]
    progress.update(task, advance=1, description=description)
