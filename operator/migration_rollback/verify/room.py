"""The shadow out of room, caught where every statement the verifier sends to it passes.

A shadow server that runs out of room says nothing of the migration being replayed: a
statement's disk_full error (SQLSTATE 53100), or a server that restarts because it could not
write its WAL (every session lost). The run must stop, naming where the files are, why there,
and how to choose another (exit 2), whatever the verifier was doing then: a forward, a
rollback, the commit's bookkeeping, a copy for the clone trip, its own catalog reads. A check
at each call site that turns an error into a verdict missed some, and the next call site
would too. So every shadow connection is a `ShadowConnection`: psycopg runs each query,
pipeline sync and fetch through its `wait`, which turns such an error into a
`ShadowResourcesError` before any caller can take it for a migration's failure.

After a restart the server's log sits on the same full filesystem and may lack the words: the
free room of the data directory (statvfs) is the first signal, the log the second.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import errors, pq
from psycopg.abc import RV, PQGen
from psycopg.pq import ExecStatus

from migration_rollback.verify.scratch import (
    ShadowResourcesError,
    least,
    probe_cgroup_room,
    probe_oom_kills,
)

# SQLSTATE 53100 disk_full. The rest of class 53 stays a verdict: "out of shared memory" (53200)
# comes of a migration taking more locks than max_locks_per_transaction allows, as it would in
# production; configuration limits (53400) likewise.
DISK_FULL = "53100"
INTERNAL_ERROR = "XX000"
NO_SPACE = "No space left on device"  # strerror(ENOSPC), as the server (C locale) logs it
# A parallel query's (or index build's) dynamic shared memory is a file in /dev/shm on the
# server's host, whatever its data directory: that one full is said as such (our own clusters
# run none, cluster.py; a --shadow-url server may).
SHARED_MEMORY = "could not resize shared memory segment"
SHARED_MEMORY_FULL = "the shadow PostgreSQL ran out of shared memory (/dev/shm on its host)"
SHARED_MEMORY_HINT = (
    "give /dev/shm more room (a container's --shm-size) or set max_parallel_workers_per_gather"
    " = 0 on the server, and run again"
)
# The server begins each WAL segment by writing it whole (16 MiB by default): with less free
# than that, a server that lost every session could not write its WAL.
WAL_SEGMENT = 16 * 1024**2


@dataclass(frozen=True)
class Room:
    """Where a shadow server keeps its files, for saying it ran out of room there."""

    what: str  # "the temporary PostgreSQL ran out of room in <dir> (chosen because ...)"
    hint: str  # how to give it another place
    data_dir: Path | None = None  # None: not on this machine (a --shadow-url server)
    log: Path | None = None
    # In memory (a tmpfs): its room is also the memory cgroup's, whose limit reached means an
    # OOM kill (every session lost, the tmpfs still showing room); the count when it started.
    memory: bool = False
    oom_kills: int | None = None

    def exhausted(self, said: str) -> ShadowResourcesError:
        return ShadowResourcesError(f"{self.what}: {said}; {self.hint}")

    def short(self) -> str | None:
        """The room is short, in words (None: not known to be)."""
        if self.data_dir is None:
            return None
        free, killed = free_bytes(self.data_dir), 0
        if self.memory:
            free = least(free, probe_cgroup_room())
            now = probe_oom_kills()
            killed = now - self.oom_kills if now is not None and self.oom_kills is not None else 0
        return short_of_room(free, log_says_full(self.log), killed)


# Tests and tools that build a ShadowServer of their own: a disk_full is still never a verdict.
UNPLACED = Room("the shadow PostgreSQL ran out of room", "give it more room and run again")


def short_of_room(free: int | None, log_says: bool, oom_killed: int = 0) -> str | None:
    """The words for `free` bytes left (None: unknown), the server's log saying a write found
    the directory full and processes OOM-killed since the server started (in memory), or
    None when none points to a want of room."""
    if oom_killed > 0:
        return (
            f"out of memory: the memory cgroup's limit was reached ({oom_killed} process(es) "
            "OOM-killed since the server started)"
        )
    if free is not None and free < WAL_SEGMENT:
        left = f"{free // 1024**2} MiB" if free >= 1024**2 else f"{free // 1024} KiB"
        return (
            f"{NO_SPACE}: {left} free, under the {WAL_SEGMENT // 1024**2} MiB a WAL segment takes"
        )
    if log_says:
        return f"{NO_SPACE} (the server's log)"
    return None


def refusal(room: Room, exc: psycopg.Error, lost: bool) -> ShadowResourcesError | None:
    """The error to raise instead of `exc` when it says the shadow ran out of room: disk_full;
    or, with the room short, a lost session or an internal error (a CREATE DATABASE whose
    checkpoint could not be written says only "checkpoint request failed")."""
    if exc.sqlstate == DISK_FULL:
        said = exc.diag.message_primary or str(exc)
        if SHARED_MEMORY in said:  # /dev/shm on the server's host, not its data directory
            return ShadowResourcesError(f"{SHARED_MEMORY_FULL}: {said}; {SHARED_MEMORY_HINT}")
        return room.exhausted(said)
    if not (lost or exc.sqlstate == INTERNAL_ERROR):
        return None
    why = room.short()
    if why is None:
        return None
    what = "the server dropped every session" if lost else f"the server said: {_first_line(exc)}"
    return room.exhausted(f"{why}, and {what}")


def _first_line(exc: psycopg.Error) -> str:
    return (exc.diag.message_primary or str(exc)).strip().split("\n", 1)[0]


class ShadowConnection(psycopg.Connection[Any]):
    """A connection to the shadow whose out-of-room errors stop the run (see the module)."""

    room: Room = UNPLACED

    @classmethod
    def open(cls, url: str, room: Room) -> ShadowConnection:
        """An autocommit session that never lets psycopg prepare statements (see catalog.py);
        a server that cannot be reached for want of room is said as such."""
        try:
            conn = cls.connect(url, autocommit=True, prepare_threshold=None)
        except psycopg.OperationalError as exc:
            refused = refusal(room, exc, lost=True)
            if refused is not None:
                raise refused from None
            raise
        conn.room = room
        return conn

    # Passed through as given: psycopg 3.2 to 3.3.4 take (gen, interval), later ones add a
    # timeout; naming either here would break on the other.
    def wait(self, gen: PQGen[RV], *args: Any, **kwargs: Any) -> RV:
        try:
            done = super().wait(gen, *args, **kwargs)
        except psycopg.Error as exc:
            refused = refusal(self.room, exc, lost=self.broken)
            if refused is not None:
                raise refused from None
            raise
        if isinstance(done, list):  # results read without raising (batch.py's own reads)
            self._refuse_failed(done)
        return done

    def _refuse_failed(self, results: list[Any]) -> None:
        """Judge a failed result as a raised error is judged (`refusal`): its caller may turn
        it into a verdict, or raise it past this wait."""
        for result in results:
            if not isinstance(result, pq.PGresult) or result.status != ExecStatus.FATAL_ERROR:
                continue
            exc = errors.error_from_result(result, encoding=self.info.encoding)
            refused = refusal(self.room, exc, lost=self.broken)
            if refused is not None:
                raise refused from None


def free_bytes(path: Path) -> int | None:
    """Room left for an unprivileged user (the server's) on `path`'s filesystem."""
    try:
        stats = os.statvfs(path)
    except OSError:
        return None
    return stats.f_bavail * stats.f_frsize


def log_says_full(log: Path | None) -> bool:
    """The server's log says a write found its directory full (read from its end: a log that
    grew large holds the latest words last)."""
    if log is None:
        return False
    try:
        with log.open("rb") as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - 64 * 1024))
            return NO_SPACE.encode() in f.read()
    except OSError:
        return False
