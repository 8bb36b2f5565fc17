"""Verification on several shadow databases at once: how many workers, which migrations each
checks, their progress in migration order, and all of them stopped when one fails.

Worker w checks a contiguous range [a, b) of the migrations on its own shadow database of the
same shadow server. It first replays migrations [0, a) forward only (the catch-up, api.py),
which costs a fraction of a checked migration; so the ranges are uneven (`split`): the later a
worker's range, the shorter, so that they all finish together.

The workers are threads: the client spends most of a replay waiting for the server, and
psycopg releases the GIL while it waits. A thread woken by the server then waits for the GIL
up to `sys.getswitchinterval()` while another computes, so the interval is shortened while
workers run. The interval is process-wide and the operator runs verifications concurrently: the
first run to start sets it and the last to end restores it (a count under a lock), so that two
overlapping runs cannot leave the process at the short interval.
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import TypeVar

from migration_rollback.verify.session import Progress

T = TypeVar("T")

MAX_AUTO_JOBS = 4  # beyond this the shadow server's CPU, not the client, is what waits
# A worker must check at least this many migrations to repay its setup (a database, the
# baseline, the catch-up): measured with bench/verify/bench_verify.py.
MIN_PER_WORKER = 60
# A catch-up migration's time relative to a checked one's, two workers on two CPUs: 0.18-0.23
# (bench_verify.py's 300 migrations, the workers' ends logged; at 0.15 the second ended last
# by 0.1-0.17 s of a 2.8 s run).
CATCH_UP_COST = 0.2
_SWITCH_INTERVAL = 0.0005  # seconds: a woken worker gets the GIL back soon


class Stopped(Exception):
    """Another worker failed: this one stops at its next migration (never reported)."""


def auto_jobs(count: int, cpus: int | None = None) -> int:
    """Workers for `count` migrations when none is asked for: one a CPU, capped, and only as
    many as have enough migrations each to repay their setup."""
    cpus = cpus or os.cpu_count() or 1
    return max(1, min(cpus, MAX_AUTO_JOBS, count // MIN_PER_WORKER))


def resolve_jobs(jobs: int | None, count: int) -> int:
    """An explicit `jobs` is obeyed (at most one worker a migration); None: `auto_jobs`."""
    if jobs is None:
        return auto_jobs(count)
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, not {jobs}")
    return max(1, min(jobs, count))


def split(count: int, jobs: int, catch_up: float = CATCH_UP_COST) -> list[tuple[int, int]]:
    """Contiguous ranges [a, b) covering 0..count, none empty, finishing together: worker
    k's time is catch_up * a + (b - a), the same for all (solved for that time by bisection)."""
    jobs = max(1, min(jobs, count))
    low, high = 0.0, float(count)
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (low, middle) if _covered(middle, jobs, catch_up) >= count else (middle, high)
    return _ranges(high, count, jobs, catch_up)


def _covered(time: float, jobs: int, catch_up: float) -> float:
    start = 0.0
    for _ in range(jobs):
        start += max(time - catch_up * start, 0.0)
    return start


def _ranges(time: float, count: int, jobs: int, catch_up: float) -> list[tuple[int, int]]:
    bounds, start = [0], 0.0
    for _ in range(jobs - 1):
        start += max(time - catch_up * start, 0.0)
        bounds.append(min(max(round(start), bounds[-1] + 1), count - (jobs - len(bounds))))
    bounds.append(count)
    return list(itertools.pairwise(bounds))


class OrderedProgress:
    """Each worker's messages, said in migration order: a worker's are said as they come
    while every earlier worker is done, kept until then otherwise."""

    def __init__(self, say: Progress, workers: int) -> None:
        self._say = say
        self._kept: list[list[str]] = [[] for _ in range(workers)]
        self._done = [False] * workers
        self._current = 0
        self._lock = threading.Lock()

    def of(self, worker: int) -> Progress:
        def say(message: str) -> None:
            with self._lock:
                if worker == self._current:
                    self._say(message)
                else:
                    self._kept[worker].append(message)

        return say

    def done(self, worker: int) -> None:
        with self._lock:
            self._done[worker] = True
            while self._current < len(self._done) and self._done[self._current]:
                self._current += 1
                if self._current < len(self._done):
                    for message in self._kept[self._current]:
                        self._say(message)
                    self._kept[self._current].clear()


class _SwitchInterval:
    """The short interval while any run has workers: set by the first, restored by the last."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs = 0
        self._saved = 0.0

    @contextmanager
    def short(self) -> Iterator[None]:
        with self._lock:
            if self._runs == 0:
                self._saved = sys.getswitchinterval()
                sys.setswitchinterval(_SWITCH_INTERVAL)
            self._runs += 1
        try:
            yield
        finally:
            with self._lock:
                self._runs -= 1
                if self._runs == 0:
                    sys.setswitchinterval(self._saved)


_INTERVAL = _SwitchInterval()


def run_workers(count: int, work: Callable[[int, threading.Event], T]) -> list[T]:
    """`work(k, stop)` for k in 0..count-1, at once; their results in order. The first to
    fail stops the others (they see `stop` set and raise `Stopped`), and its error is
    raised once all have ended. With one worker it runs in the calling thread; with more,
    all run in a pool and the calling thread only waits (an interrupt lands here: `stop` is
    set and each worker ends at its next migration)."""
    stop = threading.Event()
    if count == 1:
        return [work(0, stop)]
    with _INTERVAL.short():
        with ThreadPoolExecutor(count, thread_name_prefix="verify") as pool:
            futures = [pool.submit(work, k, stop) for k in range(count)]
            try:
                wait(futures, return_when=FIRST_EXCEPTION)
            finally:  # a failure, or an interrupt here: the others stop at their next step
                if not all(f.done() and f.exception() is None for f in futures):
                    stop.set()
        return [f.result() for f in _first_failure_first(futures)]


def _first_failure_first(futures: Sequence[Future[T]]) -> Sequence[Future[T]]:
    """The futures as they are, unless one failed: then that one alone (its error is raised),
    the one that failed first of its own (not Stopped)."""
    failed = [f for f in futures if f.exception() is not None]
    own = [f for f in failed if not isinstance(f.exception(), Stopped)]
    return own[:1] or failed[:1] or futures
