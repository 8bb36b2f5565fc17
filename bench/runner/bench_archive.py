"""Benchmark of the archive (runner/archive*.py): prints figures, asserts nothing.

    python bench/runner/bench_archive.py [--runs 60] [--profile]

What a DROP TABLE carried out as a move into the archive costs, and a DROP COLUMN's copy, per
statement: the client's CPU time, the server backend's CPU time, the round trips and the
statements sent. The shapes are the verify bench's (bench/verify/synth.py): a Supabase-style
table (policies, foreign key, identity, index, check), a table with an enum column (the archive
makes it inert), a column with its index. Each run makes its shape's objects, archives them
and rolls back, on a session set up as the verifier's (prepared reads) and as `execute`'s
(reads sent as written). CPU times hardly move with the machine's load; the load is printed.

A PostgreSQL is started for the run (verify/cluster.py).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "verify"))
sys.path.insert(0, str(HERE.parents[1] / "operator"))

import psycopg  # noqa: E402
from bench_verify import _backend_cpu_ms, counted_round_trips  # noqa: E402
from synth import Synthetic, _column, _enum, _table  # noqa: E402

from migration_rollback.runner import trip as trip_module  # noqa: E402
from migration_rollback.runner.archive import archive_tables  # noqa: E402
from migration_rollback.runner.archive_columns import copy_columns  # noqa: E402
from migration_rollback.runner.plan import Action, PlannedStatement, plan_statement  # noqa: E402
from migration_rollback.sql import parse_script  # noqa: E402
from migration_rollback.verify.as_runner import make_archive_schema  # noqa: E402
from migration_rollback.verify.baseline import load_baseline  # noqa: E402
from migration_rollback.verify.cluster import temporary_cluster  # noqa: E402

SHAPES: dict[str, Callable[[int], Synthetic]] = {
    "table": _table,
    "enum table": _enum,
    "column": lambda k: _column(k, 0),
}
SETUP = _table(0).forward  # the table the columns are added to


@dataclass
class Figures:
    """Per archived statement: client and server CPU (ms), wall (ms), round trips, statements."""

    client: list[float] = field(default_factory=list)
    server: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    trips: list[int] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)

    def show(self) -> str:
        def med(values: list[float]) -> str:
            return f"{statistics.median(values):5.2f}"

        return (
            f"client {med(self.client)} ms, server {med(self.server)} ms, wall "
            f"{med(self.wall)} ms; {statistics.median(self.trips):.0f} round trips, "
            f"{statistics.median(self.sent):.0f} statements"
        )


@contextmanager
def counted_statements() -> Iterator[list[int]]:
    """The statements sent while the block runs: psycopg's cursor executes, and the commands
    of the archive's trips sent as one message (runner/trip.py)."""
    count = [0]
    execute, batch = psycopg.Cursor.execute, trip_module._send_batch

    def counting(self: psycopg.Cursor[Any], *args: Any, **kwargs: Any) -> Any:
        count[0] += 1
        return execute(self, *args, **kwargs)

    def counting_batch(conn: psycopg.Connection[Any], commands: list[Any]) -> None:
        count[0] += len(commands)
        batch(conn, commands)

    psycopg.Cursor.execute = counting  # type: ignore[method-assign]
    trip_module._send_batch = counting_batch
    try:
        yield count
    finally:
        psycopg.Cursor.execute = execute  # type: ignore[method-assign]
        trip_module._send_batch = batch


def planned(rollback: str) -> list[PlannedStatement]:
    """The rollback's archiving statements, planned as the runner plans them."""
    statements = parse_script(rollback).statements
    found = [plan_statement(0, "20250101000000", st, purge=False) for st in statements]
    return [p for p in found if p.action in (Action.ARCHIVE_TABLES, Action.COPY_COLUMNS)]


def archive(conn: psycopg.Connection[Any], statements: list[PlannedStatement]) -> None:
    """Carry out the archiving statements as the runner does."""
    when = datetime.now(UTC).replace(microsecond=0)
    for statement in statements:
        if statement.action is Action.ARCHIVE_TABLES:
            archive_tables(conn, statement, when)
        else:
            copy_columns(conn, statement, when)


def one_run(conn: psycopg.Connection[Any], shape: Synthetic, out: Figures, pid: int) -> None:
    """Make the shape's objects, archive them (measured), roll back."""
    conn.execute("BEGIN")
    conn.execute(shape.forward, prepare=False)
    statements = planned(shape.rollback)
    with counted_round_trips() as trips, counted_statements() as sent:
        server, client, wall = _backend_cpu_ms(pid), time.process_time(), time.perf_counter()
        archive(conn, statements)
        out.wall.append((time.perf_counter() - wall) * 1000.0)
        out.client.append((time.process_time() - client) * 1000.0)
        out.server.append(_backend_cpu_ms(pid) - server)
    out.trips.append(trips[0])
    out.sent.append(sent[0])
    conn.execute("ROLLBACK")


def session(url: str, verifier: bool) -> psycopg.Connection[Any]:
    """The verifier's session prepares nothing itself (its reads are prepared by SQL)."""
    if verifier:
        return psycopg.connect(url, autocommit=True, prepare_threshold=None)
    return psycopg.connect(url, autocommit=True)


def bench(url: str, runs: int, profile: cProfile.Profile | None) -> None:
    for verifier in (True, False):
        print(f"\n{'verifier' if verifier else 'execute'} session (per archived statement):")
        for label, make in SHAPES.items():
            with session(url, verifier) as conn:
                row = conn.execute("SELECT pg_catalog.pg_backend_pid()").fetchone()
                pid = int(row[0]) if row else 0
                for k in range(5):  # warm: the prepares, the caches
                    one_run(conn, make(1000 + k), Figures(), pid)
                figures = Figures()
                if profile and verifier:
                    profile.enable()
                for k in range(runs):
                    one_run(conn, make(2000 + k), figures, pid)
                if profile:
                    profile.disable()
            print(f"  {label:10}: {figures.show()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=60, help="archives per shape and session")
    parser.add_argument("--profile", action="store_true", help="cProfile the verifier's runs")
    args = parser.parse_args()
    profile = cProfile.Profile() if args.profile else None
    with temporary_cluster() as cluster:
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            load_baseline(conn)
            conn.execute(SETUP, prepare=False)
            make_archive_schema(conn)
        bench(cluster.url(), args.runs, profile)
        print(f"load average at the end {os.getloadavg()[0]:.1f}")
    if profile:
        pstats.Stats(profile).sort_stats("cumtime").print_stats(40)


if __name__ == "__main__":
    main()
