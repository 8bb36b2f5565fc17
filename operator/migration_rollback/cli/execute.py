"""`migration-rollback execute`: roll back an applied migration on a live database, safely.

Thin on purpose: parse the options, hand them to the runner, exit with its code. The
operator's Job runs exactly this command with the same flags.
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
    same_output_problem,
)
from migration_rollback.errors import MigrationRollbackError

# Pure modules (no psycopg): the options and the exit codes of the help text. The runner
# itself is imported when the command runs.
from migration_rollback.runner.exitcodes import ExitCode, exit_code_help
from migration_rollback.runner.options import (
    DEFAULT_HISTORY_TABLE,
    BackupMode,
    MigrationId,
    RunOptions,
    parse_duration,
    parse_table_name,
)
from migration_rollback.url_env import DATABASE_URL_ENV as URL_ENV


def _duration(option: str, text: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise ValueError(f"{option}: {exc}") from None


def _usage_error(message: str) -> typer.Exit:
    return fail("execute", message, int(ExitCode.USAGE))


def _epilog() -> str:
    # Rich help reflows single newlines; blank lines keep one exit code per line.
    return exit_code_help().replace("\n", "\n\n")


@app.command("execute", epilog=_epilog())
def execute(
    migration: Annotated[
        str | None,
        typer.Argument(
            help="Migration to roll back: the file stem, e.g. 20251113000001_timeline_social"
            " (its version is the leading digits). Omit it with --to.",
            show_default=False,
        ),
    ] = None,
    database_url: Annotated[
        str,
        typer.Option(
            "--database-url",
            envvar=URL_ENV,
            help=f"libpq URL of the target database. Prefer the {URL_ENV} environment variable: "
            "a command-line URL is visible in the process list. Never printed unredacted.",
            show_default=False,
            show_envvar=True,
        ),
    ] = "",
    directory: DirOption = DEFAULT_DIR,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Do everything inside the transaction, then ROLLBACK: reports what would "
            "happen; only the audit row is written. Takes the same locks as a real run.",
        ),
    ] = False,
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            metavar="VERSION",
            help="Roll back every applied migration newer than VERSION, newest first, in one "
            "transaction (instead of <migration>). VERSION must be applied or have a migration "
            "file in --dir (0: roll back all, to the state before the first migration, which "
            "apply --to 0 keeps); another (a typo, '2025') is refused, exit 3.",
            show_default=False,
        ),
    ] = None,
    rollback_file: Annotated[
        Path | None,
        typer.Option(
            "--rollback-file",
            help="Rollback SQL to run (default <dir>/<migration>_rollback.sql).",
            show_default=False,
        ),
    ] = None,
    expect_sha256: Annotated[
        str | None,
        typer.Option(
            "--expect-sha256",
            metavar="HEX",
            help="Refuse unless the rollback file's sha256 is exactly this (pin the reviewed SQL).",
            show_default=False,
        ),
    ] = None,
    expect_set_sha256: Annotated[
        str | None,
        typer.Option(
            "--expect-set-sha256",
            metavar="HEX",
            help="With --to: refuse unless the rollbacks it would run hash to exactly this "
            "(each one's version, name and file sha256, newest first: the operator's approval "
            "digest of spec.targetVersion).",
            show_default=False,
        ),
    ] = None,
    expect_database: Annotated[
        str | None,
        typer.Option(
            "--expect-database",
            metavar="IDENTITY",
            help="Refuse, before writing anything, unless the URL leads to exactly this "
            "database (the database_identity a dry run reported: the operator pins the real "
            "run to the database it rehearsed on).",
            show_default=False,
        ),
    ] = None,
    backup: Annotated[
        BackupMode,
        typer.Option(
            "--backup",
            help="pg-dump: take and verify a pg_dump -Fc first. require-recent: insist on a "
            "verified dump younger than --max-age in --backup-dir. none: no backup (refused for "
            "data-destroying rollbacks).",
        ),
    ] = BackupMode.NONE,
    backup_dir: Annotated[
        Path | None,
        typer.Option(
            "--backup-dir", help="Where dumps are written / looked for.", show_default=False
        ),
    ] = None,
    max_age: Annotated[
        str | None,
        typer.Option(
            "--max-age",
            help="With require-recent: the oldest acceptable dump. [default: 1h]",
            show_default=False,
        ),
    ] = None,  # None: not given (refused without require-recent), read as 1h
    lock_timeout: Annotated[
        str,
        typer.Option(
            "--lock-timeout",
            help="How long to wait for the run lock and for each table lock (exit 4 after).",
        ),
    ] = "5s",
    statement_timeout: Annotated[
        str, typer.Option("--statement-timeout", help="Longest any single statement may run.")
    ] = "10m",
    allow_data_loss: Annotated[
        bool,
        typer.Option(
            "--allow-data-loss",
            help="Permit statements that destroy data the archive cannot keep (TRUNCATE, "
            "DELETE, DROP SCHEMA, --purge...). Also needs a verified backup.",
        ),
    ] = False,
    allow_manual: Annotated[
        bool,
        typer.Option(
            "--allow-manual",
            help="Run although '-- MANUAL:' markers remain: a human did or reviewed that work.",
        ),
    ] = False,
    allow_cascade: Annotated[
        bool,
        typer.Option(
            "--allow-cascade",
            help="Run a rollback statement with CASCADE (an error for validate) although it "
            "drops whatever depends on its object, policies and later migrations' objects "
            "included. Better: drop the dependents explicitly.",
        ),
    ] = False,
    purge: Annotated[
        bool,
        typer.Option(
            "--purge",
            help="Really drop tables and columns instead of moving them to the "
            "migration_rollback_archive schema (needs --allow-data-loss and a backup).",
        ),
    ] = False,
    history_table: Annotated[
        str,
        typer.Option(
            "--history-table", help="Table recording applied migrations (needs a version column)."
        ),
    ] = DEFAULT_HISTORY_TABLE,
    result_file: Annotated[
        Path | None,
        typer.Option(
            "--result-file",
            help="Write the JSON result here (kept under 4 KiB for /dev/termination-log).",
            show_default=False,
        ),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option("--report", help="Write a Markdown incident report here.", show_default=False),
    ] = None,
    on_conflict: Annotated[
        str,
        typer.Option(
            "--on-conflict",
            help="When the migration was applied with a capture (`apply`) and rows it changed "
            "were changed again since: fail (refuse before anything runs), keep-current (leave "
            "those rows as they are now) or restore-captured (overwrite them with the captured "
            "values).",
        ),
    ] = "fail",
) -> None:
    """Roll back an applied migration on a live database, safely.

    Steps: connect; take a per-database advisory lock; check the migration is
    applied and the rollback file is the reviewed one; assess the impact
    (rows, locks); back up; run every statement and the history-row deletion
    in ONE transaction under lock and statement timeouts; check the result;
    COMMIT (ROLLBACK with --dry-run); record the run in
    migration_rollback.audit_log.

    Dropped tables are moved, and dropped columns copied, into the
    migration_rollback_archive schema unless --purge. JSON step lines go to
    stderr, a summary to stdout.
    """
    if not database_url:
        raise _usage_error(f"give --database-url or set {URL_ENV}")
    if backup is not BackupMode.REQUIRE_RECENT and max_age is not None:
        raise _usage_error("--max-age is only read with --backup require-recent")
    outputs = {"--report": report, "--result-file": result_file}
    for option, path in outputs.items():
        problem = output_path_problem(option, path)
        if problem:
            raise _usage_error(problem)
    problem = same_output_problem(outputs) or input_output_problem(
        outputs, directory, rollback_file
    )
    if problem:
        raise _usage_error(problem)
    try:
        options = RunOptions(
            database_url=database_url,
            migration=MigrationId.parse(migration) if migration else None,
            to_version=to,
            migrations_dir=directory,
            rollback_file=rollback_file,
            expect_sha256=expect_sha256,
            expect_set_sha256=expect_set_sha256,
            expect_database=expect_database,
            dry_run=dry_run,
            backup=backup,
            backup_dir=backup_dir,
            max_age=_duration("--max-age", max_age or "1h"),
            lock_timeout=_duration("--lock-timeout", lock_timeout),
            statement_timeout=_duration("--statement-timeout", statement_timeout),
            allow_data_loss=allow_data_loss,
            allow_manual=allow_manual,
            allow_cascade=allow_cascade,
            purge=purge,
            history_table=parse_table_name(history_table),
            result_file=result_file,
            report_file=report,
            on_conflict=on_conflict,
        )
    except (ValueError, MigrationRollbackError) as exc:
        raise _usage_error(str(exc)) from None
    from migration_rollback.runner.run import execute_rollback, install_signal_handlers
    from migration_rollback.runner.run_record import RunIO

    install_signal_handlers()
    result = execute_rollback(options, RunIO(stdout=sys.stdout, stderr=sys.stderr, env=os.environ))
    raise typer.Exit(int(result.exit_code))


__all__ = ["ExitCode", "execute"]
