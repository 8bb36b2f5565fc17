"""Command-line entry point: `migration-rollback <command>`.

Each command lives in its own module and registers itself on the shared typer app when the
module is imported; importing this package registers them all.
"""

from __future__ import annotations

import importlib

from migration_rollback.cli.app import app

_COMMANDS = ("generate", "validate", "emergency", "execute", "operate")

for _name in _COMMANDS:
    try:
        importlib.import_module(f"migration_rollback.cli.{_name}")
    except ModuleNotFoundError as exc:  # a command still being written is simply absent
        if exc.name != f"migration_rollback.cli.{_name}":
            raise


def main() -> None:
    app()


__all__ = ["app", "main"]
