"""Where the throwaway cluster keeps its files: in memory when that is safe.

PostgreSQL creates and unlinks a file per relation fork on every CREATE, table rewrite and
ROLLBACK TO SAVEPOINT. On ext4 a large part of the proof's server time went to inode allocation;
on a tmpfs the same work is memory bookkeeping. Memory is not free, so /dev/shm serves only when
it is a tmpfs with room to spare (a container's default /dev/shm is 64 MiB), and a directory
named in `SCRATCH_DIR_ENV` wins over both it and the system temp dir.

The choice is a pure function of what was probed (`choose_base`), and so is the verdict on a
directory the user named (`dir_problem`); the probes themselves are the few lines at the end.
"""

from __future__ import annotations

import enum
import os
import re
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from migration_rollback.errors import DatabaseUnavailableError

SCRATCH_DIR_ENV = "MIGRATION_ROLLBACK_SCRATCH_DIR"
SHM = Path("/dev/shm")  # noqa: S108 (the cluster gets a mkdtemp folder in it, 0700)

# A proof of a few hundred migrations, or the whole test suite, keeps well under 1 GiB in the
# cluster (WAL bounded below): twice that leaves room for the other programs sharing the
# memory, and rules out every small /dev/shm (Docker's 64 MiB, a pod's default).
MIN_MEMORY_FREE = 2 * 1024**3

# On tmpfs the WAL is memory: by default it grows to max_wal_size (1 GB) before a checkpoint
# recycles it. Two 16 MB segments is PostgreSQL's floor for min_wal_size; fsync is off, so the
# extra checkpoints cost little. wal_level=logical (set by the cluster) is unaffected.
MEMORY_SETTINGS: Mapping[str, str] = {"min_wal_size": "32MB", "max_wal_size": "64MB"}


class Medium(enum.Enum):
    """What holds the cluster's files, and so what the server must be told."""

    MEMORY = "memory"
    DISK = "disk"


@dataclass(frozen=True)
class Mount:
    """What was found out about the filesystem holding a directory (None: unknown)."""

    fstype: str | None
    free_bytes: int | None
    # MemAvailable, or the container's room under its cgroup limit when lower: a tmpfs may
    # claim more than there is, and the host's MemAvailable is not a container's.
    memory_available: int | None = None


@dataclass(frozen=True)
class ScratchBase:
    """The directory the cluster's private folder is made in, and why that one."""

    path: Path
    medium: Medium
    why: str
    named: bool = False  # the user named it (SCRATCH_DIR_ENV)

    @property
    def server_settings(self) -> Mapping[str, str]:
        return MEMORY_SETTINGS if self.medium is Medium.MEMORY else {}


def medium_of(mount: Mount) -> Medium:
    return Medium.MEMORY if mount.fstype in _MEMORY_FILESYSTEMS else Medium.DISK


_MEMORY_FILESYSTEMS = frozenset({"tmpfs", "ramfs"})


def memory_refusal(mount: Mount) -> str | None:
    """Why this mount may not hold a cluster in memory, or None when it may."""
    if medium_of(mount) is not Medium.MEMORY:
        return f"{SHM} is not a tmpfs ({mount.fstype or 'filesystem unknown'})"
    room = [n for n in (mount.free_bytes, mount.memory_available) if n is not None]
    if not room or min(room) < MIN_MEMORY_FREE:
        free = _size(min(room)) if room else "unknown"
        return f"{SHM} has {free} free, under {_size(MIN_MEMORY_FREE)}"
    return None


def choose_base(override: str | None, shm: Mount, system_tmp: Path, named: Mount) -> ScratchBase:
    """The named directory first, then /dev/shm when it may hold the cluster, then the system
    temp dir. `named` is the mount of the named directory (ignored without one)."""
    if override:
        why = f"{SCRATCH_DIR_ENV} names it"
        return ScratchBase(Path(override), medium_of(named), why, named=True)
    refusal = memory_refusal(shm)
    if refusal is None:
        return ScratchBase(SHM, Medium.MEMORY, f"{SHM} is a tmpfs with room")
    return ScratchBase(system_tmp, Medium.DISK, refusal)


@dataclass(frozen=True)
class DirState:
    """What was found at a directory the user named."""

    exists: bool
    is_dir: bool
    writable: bool
    server_reaches: bool  # the user the server runs as can get in (root runs it as postgres)


# In order: the first that holds is the one said.
_DIR_PROBLEMS: tuple[tuple[str, str], ...] = (
    ("exists", "no such directory"),
    ("is_dir", "not a directory"),
    ("writable", "not writable by this user"),
    ("server_reaches", "the server's user ({user}) cannot enter it"),
)


def dir_problem(state: DirState, server_user: str | None) -> str | None:
    for attribute, problem in _DIR_PROBLEMS:
        if not getattr(state, attribute):
            return problem.format(user=server_user)
    return None


class ShadowResourcesError(DatabaseUnavailableError):
    """The shadow server ran out of room during the replay (not a migration's failure): said
    with where its files are, why there, and how to choose another (see room.py)."""


def placed(base: ScratchBase) -> str:
    return f"{base.path} (chosen because {base.why})"


OVERRIDE_HINT = f"set {SCRATCH_DIR_ENV}=/tmp (or another directory with more room) and run again"


# cgroup v1 writes "no limit" as the largest page-aligned long; v2 writes "max".
_NO_LIMIT = 2**62


def cgroup_room(limit: str, usage: str) -> int | None:
    """What a cgroup may still take, from its limit and usage files' text (None: no limit)."""
    try:
        most, used = int(limit), int(usage)
    except ValueError:
        return None  # "max"
    return None if most >= _NO_LIMIT else max(most - used, 0)


def cgroup_path(proc_cgroup: str, controller: str) -> str | None:
    """This process's cgroup for `controller` ("" is cgroup v2's single hierarchy), read from
    /proc/self/cgroup's lines ("0::/path", "4:memory:/path")."""
    for line in proc_cgroup.splitlines():
        _, controllers, path = [*line.split(":", 2), "", ""][:3]
        if controller in controllers.split(",") and (controllers == "") == (controller == ""):
            return path
    return None


def least(*amounts: int | None) -> int | None:
    known = [n for n in amounts if n is not None]
    return min(known) if known else None


def _size(n: int) -> str:
    """Rounded down: a size just under the minimum must not read as the minimum."""
    return f"{n * 10 // 1024**3 / 10:.1f} GiB" if n >= 1024**3 else f"{n // 1024**2} MiB"


# --- I/O: the probes --------------------------------------------------------------------------


def scratch_base(run_as: str | None) -> ScratchBase:
    """Where this process's next cluster goes; a named directory that cannot serve is an error
    naming the variable (a DatabaseUnavailableError, like the other settings of the cluster)."""
    override = os.environ.get(SCRATCH_DIR_ENV) or None
    if override:
        override = os.path.abspath(override)
        problem = dir_problem(probe_dir(Path(override), run_as), run_as)
        if problem is not None:
            raise DatabaseUnavailableError(f"{SCRATCH_DIR_ENV}={override}: {problem}")
    named = probe_mount(Path(override)) if override else Mount(None, None)
    return choose_base(override, probe_mount(SHM), Path(tempfile.gettempdir()), named)


def probe_dir(path: Path, run_as: str | None) -> DirState:
    is_dir = path.is_dir()
    return DirState(
        exists=path.exists(),
        is_dir=is_dir,
        writable=is_dir and os.access(path, os.W_OK | os.X_OK),
        server_reaches=is_dir and (run_as is None or user_enters(run_as, path)),
    )


def user_enters(user: str, path: Path) -> bool:
    """`user` may enter (a directory) or run (a file) `path`, every folder above included."""
    probe = subprocess.run(
        ["runuser", "-u", user, "--", "test", "-x", str(path)], capture_output=True, check=False
    )
    return probe.returncode == 0


def probe_mount(path: Path) -> Mount:
    try:
        stats = os.statvfs(path)
    except OSError:
        return Mount(None, None)
    room = least(_memory_available(), probe_cgroup_room())
    return Mount(_fstype(path), stats.f_bavail * stats.f_frsize, room)


def _fstype(path: Path) -> str | None:
    """The type of the mount holding `path`: the longest mount point that contains it."""
    try:
        lines = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:  # not Linux: nothing is taken for a tmpfs
        return None
    target, best, found = path.resolve(), -1, None
    for line in lines:
        fields = line.split()
        if len(fields) < 3:
            continue
        point = Path(_OCTAL.sub(lambda m: chr(int(m.group(1), 8)), fields[1]))
        if (target == point or point in target.parents) and len(point.parts) > best:
            best, found = len(point.parts), fields[2]
    return found


# /proc/self/mounts writes a space, tab, newline or backslash in a mount point as \\ooo.
_OCTAL = re.compile(r"\\([0-7]{3})")


def _memory_available() -> int | None:
    try:
        lines = Path("/proc/meminfo").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        name, _, value = line.partition(":")
        if name == "MemAvailable":
            return int(value.split()[0]) * 1024
    return None


# Where the memory controller's files are: cgroup v2's, then v1's (controller, mount, files).
_CGROUP_MEMORY = (
    ("", Path("/sys/fs/cgroup"), "memory.max", "memory.current"),
    ("memory", Path("/sys/fs/cgroup/memory"), "memory.limit_in_bytes", "memory.usage_in_bytes"),
)


def probe_cgroup_room(
    proc_cgroup: Path = Path("/proc/self/cgroup"),
    hierarchies: tuple[tuple[str, Path, str, str], ...] = _CGROUP_MEMORY,
) -> int | None:
    """The least room under this process's cgroup and those above it (a limit may be set on a
    parent); a cgroup path not visible here (another namespace's) falls back to the mount."""
    try:
        proc = proc_cgroup.read_text()
    except OSError:
        return None
    for controller, mount, limit, usage in hierarchies:
        relative = cgroup_path(proc, controller)
        if relative is None:
            continue
        own = mount / relative.lstrip("/")
        folders = [own, *own.parents] if own.is_dir() else [mount]
        room = least(
            *(_read_room(f / limit, f / usage) for f in folders if f.is_relative_to(mount))
        )
        if room is not None:  # else no limit, or no such hierarchy: the next may have one
            return room
    return None


def _read_room(limit: Path, usage: Path) -> int | None:
    try:
        return cgroup_room(limit.read_text(), usage.read_text())
    except OSError:
        return None


# Where the kernel counts processes its OOM killer took in a cgroup (and those below it):
# cgroup v2's memory.events, v1's memory.oom_control (both "oom_kill N" lines).
_CGROUP_OOM = (
    ("", Path("/sys/fs/cgroup"), "memory.events"),
    ("memory", Path("/sys/fs/cgroup/memory"), "memory.oom_control"),
)


def oom_kills(events: str) -> int | None:
    """The "oom_kill" count in a memory.events or memory.oom_control text (None: not said)."""
    for line in events.splitlines():
        key, _, value = line.partition(" ")
        if key == "oom_kill" and value.strip().isdigit():
            return int(value)
    return None


def probe_oom_kills(
    proc_cgroup: Path = Path("/proc/self/cgroup"),
    hierarchies: tuple[tuple[str, Path, str], ...] = _CGROUP_OOM,
) -> int | None:
    """Processes OOM-killed in this process's cgroup so far (a server it started is in it):
    a cluster in memory that reaches the cgroup's limit loses a backend to the OOM killer
    while its tmpfs still shows room."""
    try:
        proc = proc_cgroup.read_text()
    except OSError:
        return None
    for controller, mount, name in hierarchies:
        relative = cgroup_path(proc, controller)
        if relative is None:
            continue
        own = mount / relative.lstrip("/")
        try:  # a path not visible here (another namespace's): the mount's
            found = oom_kills(((own if own.is_dir() else mount) / name).read_text())
        except OSError:
            continue
        if found is not None:
            return found
    return None
