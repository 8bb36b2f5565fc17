"""Command-line entry point: `migration-rollback <command>`.

Each command lives in its own module and registers itself on the shared typer app when the
module is imported; importing this package registers them all.
"""

from __future__ import annotations

from migration_rollback.cli import emergency, execute, generate, operate, validate
from migration_rollback.cli.app import app

COMMANDS = (generate, validate, emergency, execute, operate)


def main() -> None:
    app()


__all__ = ["COMMANDS", "app", "main"]
