"""migration-rollback: safe rollbacks of PostgreSQL schema migrations, as a CLI and an operator."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("migration-rollback")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
