"""Folders older versions of this tool left in the temp directory, under names today's sweep
(leftovers.py) does not look for, or where it does not look.

- `migration-rollback-XXXXXXXX` (tempfile's eight random characters): before pg_dump's service
  file became a memory file, it was written in one of these, `sslpassword` in it; a killed run
  left it there, the passphrase on disk.
- `migration-rollback-pg-install-*` without an `owner` file: a copy of server binaries made
  before that file existed (leftovers.py keeps those: nothing tells whose they are).
- `migration-rollback-pg-*` clusters in the temp directory, where they were made before the
  scratch directory (/dev/shm first) existed: the cluster sweep only looks in the scratch one
  (`sweep_elsewhere` runs it here too).

Each goes only when it is ours (its owner), older than a minute, holds nothing but what that
version put there, and is not in use: no process we can see runs from it, works in it, or
names it in its environment (PGSERVICEFILE).
"""

from __future__ import annotations

import contextlib
import enum
import os
import re
import shutil
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

from migration_rollback.verify.leftovers import INSTALL_PREFIX, MIN_AGE_S, OWNER_FILE, sweep

# tempfile.TemporaryDirectory(prefix="migration-rollback-"): eight of tempfile's characters.
_SERVICE_FOLDER = re.compile(r"migration-rollback-[a-z0-9_]{8}")


class OldKind(enum.Enum):
    SERVICE_FILE = "service file folder"
    UNOWNED_COPY = "copy of server binaries without an owner file"


# What each kind may hold and still be ours to remove: anything else, and it stays.
_EXPECTED: dict[OldKind, frozenset[str] | None] = {
    OldKind.SERVICE_FILE: frozenset({"pg_service.conf"}),
    OldKind.UNOWNED_COPY: None,  # the copy's own tree (install/), whatever it holds
}


@dataclass(frozen=True)
class OldFolder:
    path: Path
    kind: OldKind
    owner: int
    age_s: float
    entries: frozenset[str]
    in_use: bool


def removable_old(found: OldFolder, ours: Collection[int]) -> bool:
    """Ours, old enough, not in use, and holding only what that version put there."""
    expected = _EXPECTED[found.kind]
    plain = expected is None or found.entries <= expected
    return plain and not found.in_use and found.age_s >= MIN_AGE_S and found.owner in ours


def kind_of(name: str, entries: frozenset[str]) -> OldKind | None:
    if _SERVICE_FOLDER.fullmatch(name):
        return OldKind.SERVICE_FILE
    if name.startswith(INSTALL_PREFIX) and OWNER_FILE not in entries:
        return OldKind.UNOWNED_COPY
    return None


# --- I/O --------------------------------------------------------------------------------------


def sweep_old(base: Path, ours: Collection[int]) -> list[Path]:
    """Remove what older versions left in `base` (see the module docstring); the ones removed."""
    gone = [found.path for found in survey_old(base) if removable_old(found, ours)]
    for path in gone:
        shutil.rmtree(path, ignore_errors=True)
    return gone


def sweep_elsewhere(base: Path, scratch: Path, ours: Collection[int]) -> list[Path]:
    """The dead-cluster sweep in `base` too, when it is not the scratch directory."""
    return [] if _same_dir(base, scratch) else sweep(base, ours)


def survey_old(base: Path) -> list[OldFolder]:
    candidates = _candidates(base)
    used = _paths_in_use() if candidates else []  # /proc is read only when there is a folder
    found = (_probe(path, used) for path in candidates)
    return [f for f in found if f is not None]


def _candidates(base: Path) -> list[Path]:
    try:
        return [p for p in base.glob("migration-rollback-*") if p.is_dir() and not p.is_symlink()]
    except OSError:
        return []


def _probe(folder: Path, used: list[str]) -> OldFolder | None:
    try:
        stat = folder.stat()
        entries = frozenset(p.name for p in folder.iterdir())
    except OSError:
        return None
    kind = kind_of(folder.name, entries)
    if kind is None:
        return None
    inside = str(folder) + os.sep
    in_use = any(u == str(folder) or inside in u for u in used)
    return OldFolder(folder, kind, stat.st_uid, time.time() - stat.st_mtime, entries, in_use)


def _paths_in_use() -> list[str]:
    """What the processes we may look at run from, work in, and hold in their environment."""
    return [text for pid in _pids() for text in _process_paths(pid)]


def _pids() -> Iterator[Path]:
    try:
        yield from (p for p in Path("/proc").iterdir() if p.name.isdigit())
    except OSError:
        return


def _process_paths(proc: Path) -> list[str]:
    found: list[str] = []
    for link in ("exe", "cwd"):
        try:
            found.append(os.readlink(proc / link))
        except OSError:
            continue
    with contextlib.suppress(OSError):  # another user's: not ours to look at (nor remove)
        found.append((proc / "environ").read_bytes().decode("utf-8", "replace"))
    return found


def _same_dir(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False
