"""What the rollback Job runs: locks, backup, one transaction, archive, history table, audit.

Pure modules (`plan`, `naming`, `guard`, `result`, `report`, `rollback_file`, `options`,
`exitcodes`) decide and describe; thin modules (`session`, `history`, `impact`,
`archive`, `transaction`, `backup`, `audit`) talk to PostgreSQL and pg_dump; `run` puts the
steps in order. Nothing here imports kopf or the Kubernetes client.
"""

from migration_rollback.runner.exitcodes import ExitCode
from migration_rollback.runner.options import BackupMode, MigrationId, RunOptions
from migration_rollback.runner.run import RunIO, execute_rollback

__all__ = ["BackupMode", "ExitCode", "MigrationId", "RunIO", "RunOptions", "execute_rollback"]
