"""Command-line entry point: `migration-rollback <command>`.

Each command lives in its own module and registers itself on the shared typer app when the
module is imported; importing this package registers them all.
"""

from __future__ import annotations

import os
import sys

from migration_rollback.cli import (
    apply,
    captures,
    emergency,
    execute,
    generate,
    operate,
    validate,
)
from migration_rollback.cli.app import app

COMMANDS = (generate, validate, emergency, execute, apply, captures, operate)


TRACEBACK_ENV = "MIGRATION_ROLLBACK_TRACEBACK"


def _tolerant_streams() -> None:
    """A name no encoding can print (a file name's non-UTF-8 bytes, kept by Python as lone
    surrogates) shows as escapes instead of ending the run in the middle of its output."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


def main() -> None:
    """Run the CLI; a bug still ends in one line, not a traceback (unless asked for)."""
    _tolerant_streams()
    try:
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


__all__ = ["COMMANDS", "app", "main"]
