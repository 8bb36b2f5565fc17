"""The pure parts of the replay split across workers (verify/parallel.py): how many, which
migrations each, their progress in order, and one failure stopping them all."""

from __future__ import annotations

import itertools
import threading

import pytest

from migration_rollback.verify.parallel import (
    MAX_AUTO_JOBS,
    MIN_PER_WORKER,
    OrderedProgress,
    Stopped,
    auto_jobs,
    resolve_jobs,
    run_workers,
    split,
)


@pytest.mark.parametrize(("count", "jobs"), [(300, 1), (300, 2), (300, 3), (11, 3), (3, 3), (5, 4)])
def test_split_covers_every_migration_once_in_order(count: int, jobs: int) -> None:
    ranges = split(count, jobs)
    assert len(ranges) == jobs
    assert ranges[0][0] == 0
    assert ranges[-1][1] == count
    assert all(a < b for a, b in ranges)
    assert all(b == a2 for (_, b), (a2, _) in itertools.pairwise(ranges))


def test_later_ranges_are_shorter_so_that_workers_finish_together() -> None:
    ranges = split(300, 3, catch_up=0.15)
    lengths = [b - a for a, b in ranges]
    assert lengths == sorted(lengths, reverse=True)
    assert lengths[0] > lengths[-1]
    times = [0.15 * a + (b - a) for a, b in ranges]
    assert max(times) - min(times) <= 2  # equal, but for rounding
    assert split(300, 3, catch_up=0.0) == [(0, 100), (100, 200), (200, 300)]


def test_more_jobs_than_migrations_gives_one_each() -> None:
    assert split(2, 5) == [(0, 1), (1, 2)]
    assert resolve_jobs(5, 2) == 2


def test_automatic_jobs_needs_enough_migrations_per_worker() -> None:
    assert auto_jobs(10, cpus=8) == 1
    assert auto_jobs(2 * MIN_PER_WORKER - 1, cpus=8) == 1
    assert auto_jobs(2 * MIN_PER_WORKER, cpus=8) == 2
    assert auto_jobs(10_000, cpus=2) == 2
    assert auto_jobs(10_000, cpus=64) == MAX_AUTO_JOBS


def test_explicit_jobs_are_obeyed_even_for_a_small_project() -> None:
    assert resolve_jobs(3, 11) == 3
    assert resolve_jobs(1, 10_000) == 1
    with pytest.raises(ValueError, match="at least 1"):
        resolve_jobs(0, 10)


def test_progress_comes_out_in_worker_order() -> None:
    said: list[str] = []
    ordered = OrderedProgress(said.append, 3)
    first, second, third = ordered.of(0), ordered.of(1), ordered.of(2)
    third("c1")
    first("a1")
    second("b1")
    assert said == ["a1"]
    ordered.done(2)
    assert said == ["a1"]
    first("a2")
    ordered.done(0)  # the second's kept messages come out, then live; the third's after it
    assert said == ["a1", "a2", "b1"]
    second("b2")
    assert said == ["a1", "a2", "b1", "b2"]
    ordered.done(1)
    assert said == ["a1", "a2", "b1", "b2", "c1"]


def test_one_failing_worker_stops_the_others_and_its_error_is_raised() -> None:
    started = threading.Barrier(3)
    stopped: list[int] = []

    def work(k: int, stop: threading.Event) -> int:
        started.wait()
        if k == 1:
            raise LookupError("worker 1 failed")
        stop.wait()  # until told: a worker that never stops would hang the test
        stopped.append(k)
        raise Stopped

    with pytest.raises(LookupError, match="worker 1 failed"):
        run_workers(3, work)
    assert sorted(stopped) == [0, 2]


def test_results_come_back_in_order() -> None:
    assert run_workers(4, lambda k, _stop: k * 10) == [0, 10, 20, 30]
    assert run_workers(1, lambda k, _stop: threading.current_thread().name) == [
        threading.main_thread().name
    ]


def test_overlapping_runs_restore_the_switch_interval_when_the_last_ends() -> None:
    """Two runs in one process (the operator's concurrent handlers): the first ends while the
    second still runs; the short interval holds until the second ends, then the caller's is
    back (the old save/restore left the process at the short interval for good)."""
    import sys

    original = sys.getswitchinterval()
    first_started, first_may_end, second_may_end = (threading.Event() for _ in range(3))
    seen: list[float] = []

    def first_work(k: int, stop: threading.Event) -> int:
        first_started.set()
        assert first_may_end.wait(5)
        return k

    def second_work(k: int, stop: threading.Event) -> int:
        assert second_may_end.wait(5)
        seen.append(sys.getswitchinterval())
        return k

    first = threading.Thread(target=run_workers, args=(2, first_work))
    first.start()
    assert first_started.wait(5)
    second = threading.Thread(target=run_workers, args=(2, second_work))
    second.start()
    first_may_end.set()
    first.join(5)
    assert sys.getswitchinterval() < original  # the second still runs
    second_may_end.set()
    second.join(5)
    assert seen
    assert all(value < original for value in seen)
    assert sys.getswitchinterval() == original
