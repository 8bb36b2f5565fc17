"""migration-rollback: safe rollbacks of PostgreSQL schema migrations, as a CLI and an operator."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    __version__: str

_DISTRIBUTION = "migration-rollback"


def __getattr__(name: str) -> str:
    # Looked up on first use: importing importlib.metadata costs a good part of `--version`.
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    found = _recorded_version() or _metadata_version()
    globals()["__version__"] = found
    return found


def _recorded_version() -> str | None:
    """The Version the installer recorded, read where importlib.metadata finds it first: the
    `migration_rollback-<version>.dist-info` (or `.egg-info`) folder on the first sys.path entry
    holding one. None when anything is unusual: importlib.metadata then decides."""
    prefix = _DISTRIBUTION.replace("-", "_")
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for folder in names:
            stem, dot, kind = folder.rpartition(".")
            if not dot or kind not in ("dist-info", "egg-info"):
                continue
            if stem.split("-", 1)[0].lower().replace("-", "_").replace(".", "_") != prefix:
                continue
            metadata = "METADATA" if kind == "dist-info" else "PKG-INFO"
            return _version_field(os.path.join(entry or ".", folder, metadata))
    return None


def _version_field(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if not line.strip():
                    return None  # the headers end at the first blank line
                if line.startswith("Version:"):
                    return line.removeprefix("Version:").strip() or None
    except (OSError, UnicodeDecodeError):
        return None
    return None


def _metadata_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(_DISTRIBUTION)
    except PackageNotFoundError:  # running from a source tree without an install
        return "0.0.0+unknown"


__all__ = ["__version__"]
