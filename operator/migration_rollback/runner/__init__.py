"""What the rollback Job runs: locks, backup, one transaction, archive, history table, audit.

Pure modules (`plan`, `naming`, `guard`, `result`, `report`, `rollback_file`, `options`,
`exitcodes`) decide and describe; thin modules (`session`, `history`, `impact`,
`archive`, `transaction`, `backup`, `audit`) talk to PostgreSQL and pg_dump; `run` puts the
steps in order. Nothing here imports kopf or the Kubernetes client.

The names below are imported on first use: a pure module (`exitcodes`, `options`) must not
pull psycopg into the command line's start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from migration_rollback.runner.exitcodes import ExitCode
    from migration_rollback.runner.options import BackupMode, MigrationId, RunOptions
    from migration_rollback.runner.run import execute_rollback
    from migration_rollback.runner.run_record import RunIO

_LAZY = {
    "ExitCode": "migration_rollback.runner.exitcodes",
    "BackupMode": "migration_rollback.runner.options",
    "MigrationId": "migration_rollback.runner.options",
    "RunOptions": "migration_rollback.runner.options",
    "RunIO": "migration_rollback.runner.run_record",
    "execute_rollback": "migration_rollback.runner.run",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = ["BackupMode", "ExitCode", "MigrationId", "RunIO", "RunOptions", "execute_rollback"]
