"""Command-line entry point: `migration-rollback <command>`.

Each command lives in its own module and registers itself on the shared typer app when the
module is imported; importing this package registers them all.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback

import typer

from migration_rollback.cli import (
    apply,
    captures,
    emergency,
    execute,
    generate,
    operate,
    plain_argv,
    validate,
)
from migration_rollback.cli.app import app
from migration_rollback.cli.guard import (
    pasted_argument_problem,
    pasted_env_problem,
    scrub_click_error,
    scrub_given,
)
from migration_rollback.cli.stdout_guard import (
    CLOSED_PIPE_EXIT,
    StdoutFailed,
    finish_output,
    guard_stdout,
    silence_stdout,
)
from migration_rollback.errors import MigrationRollbackError
from migration_rollback.exitcodes import ExitCode

COMMANDS = (generate, validate, emergency, execute, apply, captures, operate)


TRACEBACK_ENV = "MIGRATION_ROLLBACK_TRACEBACK"


def _tolerant_streams() -> None:
    """A name no encoding can print (a file name's non-UTF-8 bytes, kept by Python as lone
    surrogates) shows as escapes instead of ending the run in the middle of its output."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


def _quiet_psycopg() -> None:
    """psycopg logs, through Python's last-resort handler, a second error met while leaving a
    pipeline or COPY that an error ends ("error ignored terminating <Pipeline ...>"): the
    first error is the one raised, and said by the command; the second was noise on stderr,
    naming the connection, in the middle of `--format json` runs."""
    logging.getLogger("psycopg").addFilter(
        lambda record: not str(record.msg).startswith("error ignored terminating")
    )


def main() -> None:
    """Run the CLI; a bug still ends in one line, not a traceback (unless asked for). A domain
    error no command handled is an error, not a bug; either is scrubbed of every secret the
    process was given before it is printed."""
    _tolerant_streams()
    guard_stdout()
    _quiet_psycopg()
    pasted = pasted_argument_problem(sys.argv[1:]) or pasted_env_problem(os.environ)
    if pasted is not None:
        print(f"migration-rollback: error: {pasted}", file=sys.stderr)
        sys.exit(2)
    try:
        _plain_execute(sys.argv[1:])
        code = _run_app()
        finish_output()
        sys.exit(code)
    except StdoutFailed as exc:
        silence_stdout()
        if exc.closed_pipe:
            sys.exit(CLOSED_PIPE_EXIT)
        print(exc.line(), file=sys.stderr)
        sys.exit(int(ExitCode.OUTPUT_FAILED))
    except KeyboardInterrupt:
        print("migration-rollback: interrupted", file=sys.stderr)
        sys.exit(130)
    except MigrationRollbackError as exc:
        print(f"migration-rollback: error: {scrub_given(str(exc))}", file=sys.stderr)
        sys.exit(2)
    except Exception as exc:
        if os.environ.get(TRACEBACK_ENV):
            print(scrub_given(traceback.format_exc()), file=sys.stderr)
            sys.exit(1)
        print(
            f"migration-rollback: internal error: {type(exc).__name__}: {scrub_given(str(exc))} (a "
            f"bug: please report it; {TRACEBACK_ENV}=1 shows where)",
            file=sys.stderr,
        )
        sys.exit(1)


def _run_app() -> int:
    """The app's exit code. Click's own errors are caught here rather than shown by click:
    they may quote an argument holding a URL, and are scrubbed before rich lays them out."""
    try:
        code = app(standalone_mode=False)
    except typer.Abort:
        from typer import rich_utils

        rich_utils.rich_abort_error()
        return 1
    except typer.TyperException as exc:  # click's ClickException and its usage errors
        if type(exc).__name__ != "NoArgsIsHelpError":  # its help text is already printed
            from typer import rich_utils

            scrub_click_error(exc)
            rich_utils.rich_format_error(exc)  # type: ignore[arg-type]
        return exc.exit_code
    return code if isinstance(code, int) else 0


def _plain_execute(argv: list[str]) -> None:
    """The rollback Job's `execute` line run without typer's parse (cli/plain_argv.py): exits.

    Returns when the line is not plain: typer parses it (help, a mistake's message).
    """
    kwargs = plain_argv.plain_call(execute.execute, argv[1:]) if argv[:1] == ["execute"] else None
    if kwargs is not None:
        try:
            execute.execute(**kwargs)
        except typer.Exit as done:
            sys.exit(done.exit_code)
        sys.exit(0)


__all__ = ["COMMANDS", "app", "main"]
