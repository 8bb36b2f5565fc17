"""Domain errors shared by every layer.

Library code raises these; only `controller/` translates them into kopf's temporary or
permanent errors, and only `cli.py` turns them into exit codes. Every message says what went
wrong and where (file:line:column or a field path) and never contains a secret.
"""

from __future__ import annotations

from dataclasses import dataclass

from migration_rollback.records import quick_init


class MigrationRollbackError(Exception):
    """Base class of every error this project raises on purpose."""

    retryable: bool = False


@quick_init
@dataclass(frozen=True, slots=True)
class SourceLocation:
    """A place in a SQL file, 1-based like editors and compilers show it."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class SqlSyntaxError(MigrationRollbackError):
    """A SQL file (forward or rollback) does not parse."""

    def __init__(self, location: SourceLocation, message: str) -> None:
        super().__init__(f"{location}: {message}")
        self.location = location
        self.message = message


class InputLimitError(SqlSyntaxError):
    """A SQL file past a size limit (input_limits): refused before its trees are built. A kind
    of SqlSyntaxError so that every reader reports it, located, as a file it cannot use."""


class UnsafeOutputError(MigrationRollbackError):
    """The generator produced SQL that does not re-parse: a bug, never written to disk."""


class ProjectError(MigrationRollbackError):
    """The migrations directory or a file in it is not usable as given."""


class SourceFileError(ProjectError):
    """One file of the migrations folder cannot be used (not a regular file, unreadable, not
    text, a duplicate version...). The others are still processed; `code` names the finding."""

    def __init__(self, location: SourceLocation, message: str, code: str = "FILE") -> None:
        where = f"{location.file}:{location.line}" if location.line else location.file
        super().__init__(f"{where}: {message}")
        self.location = location
        self.message = message
        self.code = code


class ConfigurationError(MigrationRollbackError):
    """A setting the operator starts with (an environment variable, the kubeconfig) is
    unusable; the message names it and what it accepts."""


class DatabaseUnavailableError(MigrationRollbackError):
    """A PostgreSQL server could not be reached or started."""

    retryable = True
