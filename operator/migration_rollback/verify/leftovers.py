"""Clusters, and copies of server binaries, a killed process left behind: found and removed
when the next cluster is made.

A cluster's folder is removed when it stops, on every path out but SIGKILL (an OOM kill, a
cancelled CI job). In /dev/shm what is left holds memory until someone deletes it. So, before
making a folder, the folders of dead clusters in the same directory go. Never a live one (another
test worker's, another user's run): a folder is removed only when its `postmaster.pid` names a
process that is gone (and nothing answers on its socket: a pid namespace may differ), it is
older than a minute, and it is ours. Without a `postmaster.pid` (a cluster being made right
now, by initdb) nothing tells it is dead: it stays.

The binaries staged for the server's user (staging.py) are a folder of their own, on disk, which
nothing removed after a SIGKILL either. It holds an `owner` file: the pid of the process that
made it and the cluster folder it serves. It goes when that process is gone, that cluster's
folder too (its server may still run from these binaries), it is older than a minute, and it is
ours. Without the file (made by an older version, or being made) it stays.

A SIGKILL also leaves the server itself running (it runs in a session of its own, so that a
terminal's Ctrl-C reaches the tool first): a live postmaster, holding its memory and its
folder, that nothing would ever stop. A cluster's folder holds a `maker` file: the pid of the
process that made it and that process's start time (a pid is reused; the pair is not). When the
maker is gone, the folder is older than a minute and ours, and the live process its
`postmaster.pid` names is the postmaster of that very folder (its command line names the
folder's data directory: never a process that merely reused the pid), the server is stopped
(SIGQUIT: an immediate shutdown, as nothing of a scratch cluster is worth keeping) and the
folder goes. A folder without the file (an older version's) is left as before.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

PREFIX = "migration-rollback-pg-"
INSTALL_PREFIX = f"{PREFIX}install-"  # a copy of server binaries (staging.py)
OWNER_FILE = "owner"  # in a copy: the pid that made it, the cluster folder it serves
MAKER_FILE = "maker"  # in a cluster's folder: the pid that made it, and that process's start
# A folder younger than this may be one being made or started right now.
MIN_AGE_S = 60.0


@dataclass(frozen=True)
class Leftover:
    """What was found about a cluster folder in the scratch directory."""

    path: Path
    owner: int
    pid: int | None  # from its postmaster.pid (None: none, or unreadable)
    pid_alive: bool
    age_s: float
    maker_alive: bool | None = None  # None: no maker file (an older version's), or unreadable


def removable(found: Leftover, ours: Collection[int]) -> bool:
    """A dead cluster's folder, old enough, owned by us (or by the user our servers run as)."""
    dead = found.pid is not None and not found.pid_alive
    return dead and found.age_s >= MIN_AGE_S and found.owner in ours


def orphaned(found: Leftover, ours: Collection[int]) -> bool:
    """A live server whose maker is gone (SIGKILLed), old enough, ours: to be stopped."""
    running = found.pid is not None and found.pid_alive
    return (
        running
        and found.maker_alive is False
        and found.age_s >= MIN_AGE_S
        and (found.owner in ours)
    )


@dataclass(frozen=True)
class StagedCopy:
    """What was found about a copy of server binaries (staging.py)."""

    path: Path
    owner: int
    pid: int | None  # of the process that made it (None: no owner file, or unreadable)
    pid_alive: bool
    serves_a_cluster: bool  # the cluster folder it was made for is still there
    age_s: float


def removable_copy(found: StagedCopy, ours: Collection[int]) -> bool:
    """Its maker dead and its cluster gone, old enough, owned by us (or our servers' user)."""
    dead = found.pid is not None and not found.pid_alive
    return dead and not found.serves_a_cluster and found.age_s >= MIN_AGE_S and found.owner in ours


def owner_text(pid: int, cluster: Path) -> str:
    return f"{pid}\n{cluster}\n"


def maker_text(pid: int) -> str:
    """What a cluster's `maker` file holds: the pid, and its start time when it can be read."""
    return f"{pid}\n{_started(pid) or ''}\n"


def pid_in(pid_file_text: str) -> int | None:
    """The postmaster's pid: the first line of postmaster.pid."""
    first = pid_file_text.split("\n", 1)[0].strip()
    return int(first) if first.isascii() and first.isdigit() and int(first) > 0 else None


# --- I/O --------------------------------------------------------------------------------------


def owners(run_as: str | None) -> set[int]:
    """Who owns the folders of our clusters: us, and the user our servers run as (as root)."""
    return {os.geteuid(), *([pwd.getpwnam(run_as).pw_uid] if run_as else [])}


def sweep(base: Path, ours: Collection[int]) -> list[Path]:
    """Remove the dead clusters' folders in `base`, and those of live servers whose maker was
    killed (stopped first); the ones removed."""
    found = survey(base)
    gone = [f.path for f in found if removable(f, ours)]
    gone += [f.path for f in found if orphaned(f, ours) and _stopped(f)]
    for path in gone:
        shutil.rmtree(path, ignore_errors=True)
    return gone


def sweep_copies(base: Path, ours: Collection[int]) -> list[Path]:
    """Remove the copies of server binaries in `base` nobody uses; the ones removed."""
    gone = [found.path for found in survey_copies(base) if removable_copy(found, ours)]
    for path in gone:
        shutil.rmtree(path, ignore_errors=True)
    return gone


def survey(base: Path) -> list[Leftover]:
    folders = [p for p in _folders(base, PREFIX) if not p.name.startswith(INSTALL_PREFIX)]
    return [found for found in map(_probe, folders) if found is not None]


def survey_copies(base: Path) -> list[StagedCopy]:
    return [found for found in map(_probe_copy, _folders(base, INSTALL_PREFIX)) if found]


def _folders(base: Path, prefix: str) -> list[Path]:
    try:
        return [p for p in base.glob(f"{prefix}*") if p.is_dir() and not p.is_symlink()]
    except OSError:
        return []


def _probe_copy(folder: Path) -> StagedCopy | None:
    owner_file = folder / OWNER_FILE
    try:
        stat = folder.stat()
        text = _owner_of(owner_file)
    except OSError:
        return None
    first, _, rest = text.partition("\n")
    pid = pid_in(first)
    cluster = rest.split("\n", 1)[0].strip()
    serves = bool(cluster) and Path(cluster).exists()
    alive = pid is not None and _alive(pid)
    return StagedCopy(folder, stat.st_uid, pid, alive, serves, time.time() - stat.st_mtime)


def _owner_of(owner_file: Path) -> str:
    return owner_file.read_text(errors="replace") if owner_file.exists() else ""


def _probe(folder: Path) -> Leftover | None:
    pid_file = folder / "data" / "postmaster.pid"
    try:
        stat = folder.stat()
        pid = pid_in(pid_file.read_text(errors="replace")) if pid_file.exists() else None
        newest = max(stat.st_mtime, pid_file.stat().st_mtime if pid_file.exists() else 0.0)
    except OSError:
        return None
    alive = pid is not None and (_alive(pid) or _listening(folder / "socket"))
    maker = _maker_alive(folder / MAKER_FILE)
    return Leftover(folder, stat.st_uid, pid, alive, time.time() - newest, maker)


def _maker_alive(maker_file: Path) -> bool | None:
    """Whether the process that made the folder runs (the same process: its start time too)."""
    try:
        first, _, rest = maker_file.read_text(errors="replace").partition("\n")
    except OSError:
        return None
    pid, start = pid_in(first), rest.split("\n", 1)[0].strip()
    if pid is None:
        return None
    return _alive(pid) and (not start or _started(pid) in (None, start))


def _started(pid: int) -> str | None:
    """A process's start time (clock ticks after boot, /proc/<pid>/stat); None: unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(errors="replace")
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else None  # field 22, counted after the name


def _stopped(found: Leftover) -> bool:
    """Stop the orphaned server: only the postmaster of this very folder (its command line
    names the data directory), with SIGQUIT; True once it is gone (10 s at most). The signal
    goes through a pidfd opened before the command line is read: should that process end and
    its pid be taken by another in between, the signal reaches nobody, not the newcomer."""
    if found.pid is None:
        return False
    with _pidfd(found.pid) as handle:
        if handle is None or not _serves(found.pid, found.path / "data"):
            return False
        _quit(found.pid, handle)
    deadline = time.monotonic() + 10.0
    while _alive(found.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not _alive(found.pid)


@contextlib.contextmanager
def _pidfd(pid: int) -> Iterator[int | None]:
    """A pidfd of the process `pid` now; -1 where the kernel has none (before Linux 5.3: the
    pid itself is signalled); None when no such process runs."""
    try:
        handle = os.pidfd_open(pid)
    except ProcessLookupError:
        yield None
        return
    except OSError:
        yield -1
        return
    try:
        yield handle
    finally:
        os.close(handle)


def _quit(pid: int, handle: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if handle < 0:
            os.kill(pid, signal.SIGQUIT)
        else:
            signal.pidfd_send_signal(handle, signal.SIGQUIT)


def _serves(pid: int, data_dir: Path) -> bool:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return os.fsencode(data_dir) in argv


def _listening(socket_dir: Path) -> bool:
    """A server answers on the folder's unix socket: alive, though its pid is not one of ours
    (a /dev/shm shared with a container of another pid namespace)."""
    for path in socket_dir.glob(".s.PGSQL.*[0-9]"):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(1.0)
            try:
                probe.connect(str(path))
            except OSError:
                continue
            return True
    return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: alive
    return True
