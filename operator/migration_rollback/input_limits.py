"""How large a migration file may be before the tool refuses to read it: one place for each
default, the environment variable and the CLI option that raise it.

Parse trees cost far more memory than the text (about 20 times), a statement nested deep
enough crashes pglast's C code that builds its tree (the process dies, no message) and the
engine's walkers fail long before that, and millions of statements hold the machine for
minutes. A file past a limit is refused with its name, its size and the limit, and how to
raise it; the other files are still processed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from migration_rollback.errors import ConfigurationError

# A pg_dump of a whole schema is a few MB; a file of hundreds of MB is data, not a migration.
DEFAULT_MAX_FILE_MB = 64
# 100k statements load in seconds (sql/parse.py's LineIndex is linear for them).
DEFAULT_MAX_STATEMENTS = 500_000
# The estimated depth (see sql/nesting.py): generated SQL and pg_dump stay below 100; the
# engine's walkers handle about 700 levels of `1+1+...`, which estimates at 1400.
DEFAULT_MAX_NESTING = 1000

FILE_MB_ENV = "MIGRATION_ROLLBACK_MAX_FILE_MB"
STATEMENTS_ENV = "MIGRATION_ROLLBACK_MAX_STATEMENTS"
NESTING_ENV = "MIGRATION_ROLLBACK_MAX_NESTING"
FILE_MB_OPTION = "--max-file-mb"
STATEMENTS_OPTION = "--max-statements"
NESTING_OPTION = "--max-nesting"
_CEILING = 1 << 40


@dataclass(frozen=True, slots=True)
class InputLimits:
    file_mb: int = DEFAULT_MAX_FILE_MB
    statements: int = DEFAULT_MAX_STATEMENTS
    nesting: int = DEFAULT_MAX_NESTING

    @property
    def file_bytes(self) -> int:
        return self.file_mb * 1024 * 1024


_chosen: InputLimits | None = None
_from_environment: InputLimits | None = None


def configure(limits: InputLimits | None) -> None:
    """The limits given on the command line, for the rest of the process (None: the
    environment's, read again at the next use)."""
    global _chosen, _from_environment
    _chosen, _from_environment = limits, None


def current() -> InputLimits:
    """The limits in force: the command line's, else the environment's (read once: asked for
    every file read and parsed, three lookups each cost 2% of generate), else the defaults."""
    global _from_environment
    if _chosen is not None:
        return _chosen
    if _from_environment is None:
        _from_environment = InputLimits(
            _checked(FILE_MB_ENV, os.environ.get(FILE_MB_ENV), DEFAULT_MAX_FILE_MB),
            _checked(STATEMENTS_ENV, os.environ.get(STATEMENTS_ENV), DEFAULT_MAX_STATEMENTS),
            _checked(NESTING_ENV, os.environ.get(NESTING_ENV), DEFAULT_MAX_NESTING),
        )
    return _from_environment


def _checked(name: str, text: str | None, default: int) -> int:
    if text is None or not text.strip():
        return default
    value = text.strip()
    if not re.fullmatch(r"[+]?\d+", value) or not 1 <= int(value) <= _CEILING:
        raise ConfigurationError(f"{name}: {text!r} is not a whole number from 1 to {_CEILING}")
    return int(value)


def how_to_raise(option: str, env: str) -> str:
    return f"or raise the limit with {option} (or {env})"


def file_too_large(size: int, limits: InputLimits) -> str:
    """The reason a file is refused, as the folder's reader reports it (after its name)."""
    return (
        f"{size / 1048576:.1f} MB, larger than the limit of {limits.file_mb} MB: split it, "
        + how_to_raise(FILE_MB_OPTION, FILE_MB_ENV)
    )
