"""`migration-rollback captures list|prune`: the data `apply` kept, and its explicit cleanup."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import asdict
from typing import Annotated, Any, TypeVar

import typer

from migration_rollback.cli.app import app, fail
from migration_rollback.cli.stdout_guard import silence_stdout

# Pure module; psycopg (conninfo, session) and the capture queries load when a command runs.
from migration_rollback.runner.exitcodes import ExitCode
from migration_rollback.shown import shown, shown_lines
from migration_rollback.url_env import DATABASE_URL_ENV as URL_ENV

T = TypeVar("T")
captures_app = typer.Typer(
    help="The data `apply` kept for restoring: list it, prune it (never removed silently).",
    no_args_is_help=True,
)
app.add_typer(captures_app, name="captures")

UrlOption = Annotated[
    str,
    typer.Option(
        "--database-url",
        envvar=URL_ENV,
        help=f"libpq URL of the database. Prefer the {URL_ENV} environment variable.",
        show_default=False,
        show_envvar=True,
    ),
]


def _fail(message: str, code: ExitCode) -> typer.Exit:
    return fail("captures", message, int(code))


def _on_database(database_url: str, work: Callable[[Any], T]) -> T:
    """Run `work` on a connection to the database; every failure one scrubbed line."""
    from migration_rollback.conninfo import InvalidDatabaseUrlError, parse_database_url
    from migration_rollback.runner.errors import RunnerError
    from migration_rollback.runner.session import connect

    try:
        target = parse_database_url(database_url or os.environ.get(URL_ENV, ""))
    except InvalidDatabaseUrlError as exc:
        raise _fail(str(exc), ExitCode.USAGE) from None
    redactor = target.redactor().with_env(os.environ)
    for note in target.notes:
        typer.echo(f"warning: {shown_lines(note)}", err=True)
    try:
        with connect(target.dsn, redactor, purpose="captures") as conn:
            return work(conn)
    except RunnerError as exc:
        raise _fail(redactor.scrub(exc.message), exc.exit_code) from None


@captures_app.command("list")
def list_command(
    database_url: UrlOption = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every capture: migration, statement, kind, status, table, rows and bytes."""
    from migration_rollback.runner.capture_admin import list_captures

    found = _on_database(database_url, list_captures)
    if as_json:
        typer.echo(json.dumps([asdict(c) for c in found], indent=2))
        return
    if not found:
        typer.echo("no captures")
    for c in found:
        typer.echo(
            f"{c.version} #{c.statement} {c.kind} {shown(c.target)}: {c.status}, {c.rows} row(s), "
            f"{c.bytes} bytes{', ' + shown(c.capture_table) if c.capture_table else ''}"
        )
    typer.echo(f"total: {sum(c.rows for c in found)} row(s), {sum(c.bytes for c in found)} bytes")


@captures_app.command("prune")
def prune_command(
    database_url: UrlOption = "",
    version: Annotated[
        list[str] | None,
        typer.Option("--version", help="Prune this migration's captures (repeatable)."),
    ] = None,
    restored: Annotated[
        bool, typer.Option("--restored", help="Prune every capture already restored.")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list what would go.")] = False,
) -> None:
    """Drop captures explicitly: by --version, or every --restored one."""
    if not version and not restored:
        raise _fail("say what to prune: --version VERSION and/or --restored", ExitCode.USAGE)
    from migration_rollback.runner.capture_admin import prune_captures
    from migration_rollback.runner.options import check_version, parse_duration

    try:
        versions = [check_version("--version", v) for v in version or ()]
    except ValueError as exc:
        raise _fail(str(exc), ExitCode.USAGE) from None

    dropped = _on_database(
        database_url,
        lambda conn: prune_captures(
            conn,
            versions=versions,
            restored=restored,
            dry_run=dry_run,
            lock_timeout=parse_duration("5s"),
        ),
    )
    verb = "would drop" if dry_run else "dropped"
    lines = [
        f"{verb} {c.version} #{c.statement} {c.kind} {shown(c.target)} ({c.rows} row(s))"
        for c in dropped  # names read from the database: nothing raw
    ]
    _print_after_commit([*lines, f"{verb} {len(dropped)} capture(s)"], committed=not dry_run)


def _print_after_commit(lines: list[str], *, committed: bool) -> None:
    """The list on stdout; when stdout fails, the drop stands all the same (its transaction
    committed before): stderr says what went, not only that the command stopped."""
    try:
        for line in lines:
            typer.echo(line)
        sys.stdout.flush()
    except OSError as exc:  # stdout_guard.StdoutFailed, or the stream's own
        silence_stdout()  # what is still buffered goes nowhere, not into the exit code
        done = "committed" if committed else "dry run: nothing was dropped"
        reason = exc.strerror or str(exc)
        message = f"{lines[-1]} ({done}); could not write the list to stdout: {reason}"
        raise _fail(message, ExitCode.OUTPUT_FAILED) from None
