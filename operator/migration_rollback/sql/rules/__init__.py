"""The inverse rules by statement family, each a table keyed by pglast's enums.

`migration_rollback.sql.inverse` dispatches a statement to its family's module here.
"""
