"""Allows `python -m migration_rollback`."""

from migration_rollback.cli import main

main()
