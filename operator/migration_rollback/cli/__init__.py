"""Command-line entry point: `migration-rollback <command>`.

Each command lives in its own module and registers itself on the shared typer app when the
module is imported; importing this package registers them all.
"""

from __future__ import annotations

import os
import sys

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

COMMANDS = (generate, validate, emergency, execute, apply, captures, operate)


TRACEBACK_ENV = "MIGRATION_ROLLBACK_TRACEBACK"


def main() -> None:
    """Run the CLI; a bug still ends in one line, not a traceback (unless asked for)."""
    try:
        _plain_execute(sys.argv[1:])
        app()
    except KeyboardInterrupt:
        print("migration-rollback: interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:
        if os.environ.get(TRACEBACK_ENV):
            raise
        print(
            f"migration-rollback: internal error: {type(exc).__name__}: {exc} (a bug: please "
            f"report it; {TRACEBACK_ENV}=1 shows where)",
            file=sys.stderr,
        )
        sys.exit(1)


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
