"""Starting and stopping the control plane's processes, so that none is left behind.

Each process is started in a session (and so a process group) of its own, whose id is its pid;
stopping signals the whole group. Processes of a cluster owned by a Python process (the pytest
fixture) also get ``PR_SET_PDEATHSIG``: the kernel kills them with SIGKILL if that Python process
dies without cleaning up (SIGKILL, a crash). Processes of a detached cluster (``up``) outlive
the command that started them and are stopped by ``down``.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)
_prctl = _libc.prctl


def die_with_parent(parent_pid: int) -> None:
    """A ``preexec_fn``: has the kernel SIGKILL the child when its parent thread exits."""
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(137)


@dataclass
class Proc:
    """A started process; ``pid`` is also its process group id."""

    name: str
    pid: int
    log: Path
    popen: subprocess.Popen[bytes] | None = None

    def alive(self) -> bool:
        if self.popen is not None:
            return self.popen.poll() is None
        return pid_alive(self.pid)

    def exit_code(self) -> int | None:
        return self.popen.poll() if self.popen is not None else None


def spawn(
    name: str,
    argv: Sequence[str],
    log: Path,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    owned: bool = True,
) -> Proc:
    """Starts ``argv`` in a new session with stdout and stderr appended to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    parent = os.getpid()
    with open(log, "ab") as out:
        popen = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=(lambda: die_with_parent(parent)) if owned else None,
        )
    return Proc(name=name, pid=popen.pid, log=log, popen=popen)


def pid_alive(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return False
    state = stat[stat.rindex(b")") + 2 : stat.rindex(b")") + 3]
    return state not in (b"Z", b"X")


def signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def group_members(pgids: Iterable[int]) -> dict[int, list[int]]:
    """Maps each process group id to the live pids in it, from /proc."""
    wanted = set(pgids)
    members: dict[int, list[int]] = {g: [] for g in wanted}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(b")") + 2 :].split()
        state, pgrp = fields[0], int(fields[2])
        if pgrp in wanted and state not in (b"Z", b"X"):
            members[pgrp].append(int(entry.name))
    return members


def rss_bytes(pids: Iterable[int]) -> int:
    """Sum of the resident set sizes of ``pids`` (those still alive)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:
            continue
    return total


def stop_all(procs: Sequence[Proc], grace: float = 10.0) -> list[str]:
    """Sends SIGTERM to every process group, waits up to ``grace`` seconds for all of them,
    then SIGKILLs what is left (whole groups, stragglers included). Returns the names of the
    processes that had to be killed."""
    for p in procs:
        signal_group(p.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(p.alive() for p in procs):
        time.sleep(0.05)
    killed = [p.name for p in procs if p.alive()]
    for p in procs:
        signal_group(p.pid, signal.SIGKILL)
    for p in procs:
        if p.popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.popen.wait(timeout=5)
    # Stragglers that left the leader's group alive after it exited.
    leftovers = group_members(p.pid for p in procs)
    for pgid, pids in leftovers.items():
        if pids:
            signal_group(pgid, signal.SIGKILL)
    return killed


def tail(path: Path, lines: int = 30) -> str:
    """The last ``lines`` lines of a log file, for error messages."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            data = f.read()
    except OSError:
        return ""
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])
