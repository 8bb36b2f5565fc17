"""Command-line entry point: `migration-rollback <command>`.

Each command lives in its own module and registers itself on the shared typer app.
"""

from __future__ import annotations

import importlib

from migration_rollback.cli.app import app

_COMMANDS = ("generate", "validate", "emergency", "execute")


def _register() -> None:
    for name in _COMMANDS:
        try:
            importlib.import_module(f"migration_rollback.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"migration_rollback.cli.{name}":
                raise


def main() -> None:
    _register()
    app()


__all__ = ["app", "main"]
