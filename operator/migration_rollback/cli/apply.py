"""`migration-rollback apply`: apply pending migrations like `supabase db push`, keeping data.

Thin on purpose: parse the options, hand them to runner/apply.py, exit with its code.
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from migration_rollback.cli.app import (
    DEFAULT_DIR,
    DirOption,
    app,
    fail,
    input_output_problem,
    output_path_problem,
)

# Pure modules (no psycopg); the runner itself is imported when the command runs.
from migration_rollback.runner.exitcodes import ExitCode
from migration_rollback.runner.options import (
    DEFAULT_HISTORY_TABLE,
    check_timeout,
    check_version,
    parse_duration,
    parse_table_name,
)
from migration_rollback.url_env import DATABASE_URL_ENV as URL_ENV


def _usage_error(message: str) -> typer.Exit:
    return fail("apply", message, int(ExitCode.USAGE))


def _timeout(option: str, text: str) -> timedelta:
    try:
        value = parse_duration(text)
    except ValueError as exc:
        raise ValueError(f"{option}: {exc}") from None
    check_timeout(option, value)
    return value


@app.command("apply")
def apply(
    database_url: Annotated[
        str,
        typer.Option(
            "--database-url",
            envvar=URL_ENV,
            help=f"libpq URL of the target database. Prefer the {URL_ENV} environment variable.",
            show_default=False,
            show_envvar=True,
        ),
    ] = "",
    directory: DirOption = DEFAULT_DIR,
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            metavar="VERSION",
            help="Apply pending migrations up to and including VERSION only (0: apply none, the "
            "state before the first migration, as execute --to 0 rolls back to; a version no "
            "migration file has is refused, exit 3).",
            show_default=False,
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Apply every pending migration (with its capture) in one transaction, report, "
            "then ROLLBACK: nothing is kept. Statements that cannot run in a transaction are "
            "listed only.",
        ),
    ] = False,
    capture_max_rows: Annotated[
        int | None,
        typer.Option(
            "--capture-max-rows",
            help="Refuse (nothing applied) when one statement's capture would keep more rows.",
            show_default=False,
        ),
    ] = None,
    capture_max_bytes: Annotated[
        int | None,
        typer.Option(
            "--capture-max-bytes",
            help="Refuse (nothing applied) when one statement's capture would take more bytes.",
            show_default=False,
        ),
    ] = None,
    no_capture: Annotated[
        list[str] | None,
        typer.Option(
            "--no-capture",
            metavar="VERSION",
            help="Apply this migration without keeping its data changes (repeatable); its "
            "rollback then needs the backup, as before.",
            show_default=False,
        ),
    ] = None,
    lock_timeout: Annotated[
        str,
        typer.Option(
            "--lock-timeout",
            help="How long to wait for the run lock, and for any lock a statement needs (a "
            "migration's SET lock_timeout does not outlast its statement: see "
            "--keep-migration-timeouts).",
        ),
    ] = "5s",
    statement_timeout: Annotated[
        str, typer.Option("--statement-timeout", help="Longest any single statement may run.")
    ] = "30m",
    keep_migration_timeouts: Annotated[
        bool,
        typer.Option(
            "--keep-migration-timeouts",
            help="Let a migration's own SET lock_timeout / statement_timeout (0 included) hold "
            "to the end of its file. Default: apply puts its own back right after such a "
            "statement (a stricter one holds to the end of the file); never past the file.",
        ),
    ] = False,
    history_table: Annotated[
        str, typer.Option("--history-table", help="Table recording applied migrations.")
    ] = DEFAULT_HISTORY_TABLE,
    result_file: Annotated[
        Path | None,
        typer.Option("--result-file", help="Write the JSON result here.", show_default=False),
    ] = None,
) -> None:
    """Apply pending migrations in order, as `supabase db push` does, keeping their data.

    Pending: files whose version is not in the history table. Each file runs in one
    transaction under the same advisory lock as execute, and its history row (version,
    name, statements) is written in it. Before each statement that changes or destroys
    data (UPDATE, DELETE, MERGE, TRUNCATE, INSERT, DROP TABLE, DROP COLUMN, ALTER COLUMN
    TYPE), what it is about to change is kept in the migration_rollback_capture schema,
    so `execute` can restore the exact prior data. `captures list|prune` manage them.
    """
    if not database_url:
        raise _usage_error(f"give --database-url or set {URL_ENV}")
    problem = output_path_problem("--result-file", result_file) or input_output_problem(
        {"--result-file": result_file}, directory
    )
    if problem:
        raise _usage_error(problem)
    for value, option in (
        (capture_max_rows, "--capture-max-rows"),
        (capture_max_bytes, "--capture-max-bytes"),
    ):
        if value is not None and value < 0:
            raise _usage_error(f"{option} must be 0 or more")
    from migration_rollback.runner.apply import apply_migrations
    from migration_rollback.runner.apply_result import ApplyOptions
    from migration_rollback.runner.capture import CaptureLimits

    try:
        options = ApplyOptions(
            database_url=database_url,
            migrations_dir=directory,
            to_version=check_version("--to", to) if to is not None else None,
            dry_run=dry_run,
            history_table=parse_table_name(history_table),
            limits=CaptureLimits(max_rows=capture_max_rows, max_bytes=capture_max_bytes),
            no_capture=frozenset(check_version("--no-capture", v) for v in no_capture or ()),
            lock_timeout=_timeout("--lock-timeout", lock_timeout),
            statement_timeout=_timeout("--statement-timeout", statement_timeout),
            keep_migration_timeouts=keep_migration_timeouts,
            result_file=result_file,
        )
    except ValueError as exc:
        raise _usage_error(str(exc)) from None
    from migration_rollback.runner.run import install_signal_handlers

    install_signal_handlers()  # SIGTERM (a CI job cancelled) rolls back and reports, as execute
    result = apply_migrations(options, sys.stdout, sys.stderr, os.environ)
    raise typer.Exit(result.exit_code)


__all__ = ["apply"]
