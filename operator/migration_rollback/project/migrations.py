"""Find forward migrations (`<timestamp>_<name>.sql`) and their rollback siblings on disk.

This is the file-system edge of `generate`, `validate` and `emergency`; the engine itself
receives text. Files are read as bytes and decoded tolerantly (UTF-8, with or without a BOM,
else Windows-1252 with a warning), because a migration in an odd encoding must not crash a
rollback tool.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from migration_rollback.errors import ProjectError

MIGRATION_NAME = re.compile(r"^(?P<version>\d+)_(?P<title>.+)$")
ROLLBACK_SUFFIX = "_rollback"


@dataclass(frozen=True, slots=True)
class Migration:
    """One forward migration and where its rollback artifacts live."""

    name: str
    version: str
    path: Path

    @property
    def rollback_path(self) -> Path:
        return self.path.with_name(f"{self.name}{ROLLBACK_SUFFIX}.sql")

    @property
    def doc_path(self) -> Path:
        return self.path.with_name(f"{self.name}{ROLLBACK_SUFFIX}.md")


@dataclass(frozen=True, slots=True)
class SourceText:
    text: str
    sha256: str
    warning: str | None = None


def is_rollback_file(path: Path) -> bool:
    return path.stem.endswith(ROLLBACK_SUFFIX)


def discover(directory: Path) -> list[Migration]:
    """Forward migrations in version order; rollback files and other files are skipped."""
    if not directory.is_dir():
        raise ProjectError(
            f"{directory}: migrations directory not found (use --dir to point at it)"
        )
    found: list[Migration] = []
    for path in directory.glob("*.sql"):
        if is_rollback_file(path):
            continue
        match = MIGRATION_NAME.match(path.stem)
        if match is None:
            continue
        found.append(Migration(name=path.stem, version=match.group("version"), path=path))
    return sorted(found, key=lambda m: (m.version, m.name))


def find(directory: Path, name: str) -> Migration:
    """A migration by full name (`20251113000001_x`), version (`20251113000001`) or file name."""
    wanted = name.removesuffix(".sql")
    migrations = discover(directory)
    for migration in migrations:
        if wanted in (migration.name, migration.version):
            return migration
    known = ", ".join(m.name for m in migrations[-5:]) or "none"
    raise ProjectError(f"{directory}: no migration named {name!r} (latest: {known})")


def read_source(path: Path) -> SourceText:
    """Decode a SQL file, never failing on its encoding."""
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    try:
        return SourceText(data.decode("utf-8-sig"), digest)
    except UnicodeDecodeError as exc:
        text = data.decode("cp1252", errors="replace")
        return SourceText(
            text,
            digest,
            f"{path}: not UTF-8 (byte {exc.start}); read as Windows-1252",
        )


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
