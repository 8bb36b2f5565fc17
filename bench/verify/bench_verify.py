"""Benchmark of the verifier: prints figures, asserts nothing.

    python bench/verify/bench_verify.py [--migrations 300] [--repeat 3] [--tables 200] [--full]
        [--snapshot-only | --replay-only] [--no-profile] [--jobs N]

1. 300 synthetic migrations (tables, columns, indexes, functions, triggers, views, policies,
   enums...; see synth.py), each with a correct rollback, `--repeat` times (each run on fresh
   databases, the forward apply and the verify round trip taking turns, so that a change in the
   machine's load weighs on both):
   - the time to apply every forward migration once (one transaction per file, each statement
     sent, on the Supabase baseline) - what `supabase db push` costs;
   - the time of the verify round trip over all of them (`run_verification`);
   - every run's times and CPU per migration, the median of each, and the ratio of the medians
     (target: <= 3). One run's ratio moves some 2x with the load (the forward apply is short);
     the CPU per migration hardly moves.
2. The time of one full schema snapshot of a 200-table schema (target: < 50 ms), and the part
   of it spent in Python turning rows into the model (it overlaps the server's next queries);
   then, per kind of object, its rows and the server's CPU time reading them (temporary
   cluster only).
3. The five costliest functions (cProfile, own time) of a verify run over the first 60
   migrations and of ten snapshots: `connection.py:wait` is the time spent waiting for the
   server.

A PostgreSQL is started for the run (verify/cluster.py) unless MIGRATION_ROLLBACK_BENCH_PG_URL
names a server (superuser URL).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "operator"))

import psycopg  # noqa: E402
from psycopg._pipeline_base import BasePipeline  # noqa: E402
from synth import write_project  # noqa: E402

from migration_rollback.sql import parse_script  # noqa: E402
from migration_rollback.verify import MigrationPair, catalog, run_verification  # noqa: E402
from migration_rollback.verify import batch as batch_module  # noqa: E402
from migration_rollback.verify.baseline import load_baseline  # noqa: E402
from migration_rollback.verify.cluster import temporary_cluster  # noqa: E402
from migration_rollback.verify.parallel import resolve_jobs  # noqa: E402
from migration_rollback.verify.shadow import ShadowServer  # noqa: E402
from migration_rollback.verify.snapshot import kinds_for, take_snapshot  # noqa: E402
from migration_rollback.verify.snapshot import read as snapshot_module  # noqa: E402

# CPU time the temporary cluster's processes used (live backends, and those that exited),
# in ms: unlike wall time, it hardly moves with the machine's load. None on a given server.
server_cpu_ms: Callable[[], float] | None = None


@contextmanager
def server() -> Iterator[ShadowServer]:
    global server_cpu_ms
    url = os.environ.get("MIGRATION_ROLLBACK_BENCH_PG_URL")
    if url:
        yield ShadowServer(url, "given server")
        return
    with temporary_cluster() as cluster:
        postmaster = int((cluster.data_dir / "postmaster.pid").read_text().split()[0])
        server_cpu_ms = lambda: _tree_cpu_ms(postmaster)  # noqa: E731
        yield ShadowServer(
            cluster.url(), f"temporary cluster on port {cluster.port}, {cluster.placement}"
        )


def _tree_cpu_ms(pid: int) -> float:
    def fields(p: int | str) -> list[str]:
        return Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()

    own = fields(pid)  # utime, stime, and cutime, cstime: its exited children
    ticks = sum(int(own[k]) for k in (11, 12, 13, 14))
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        try:
            ticks += sum(int(fields(child)[k]) for k in (11, 12))
        except (FileNotFoundError, ProcessLookupError):  # it exited meanwhile
            continue
    return ticks * 1000.0 / os.sysconf("SC_CLK_TCK")


@dataclass
class Timed:
    """A block's wall time (s) and CPU time per unit (ms): the server's (None: not known on a
    given server) and this process's."""

    wall: float = 0.0
    server: float | None = None
    client: float = 0.0

    def cpu_text(self) -> str:
        shown = f"client {self.client:5.1f} ms"
        return shown if self.server is None else f"server {self.server:5.1f} ms, " + shown


@contextmanager
def timed(per: int) -> Iterator[Timed]:
    """Time the block: wall time, and the server's and this process's CPU per one of `per`."""
    out = Timed()
    server_start = server_cpu_ms() if server_cpu_ms else 0.0
    client_start, wall_start = time.process_time(), time.perf_counter()
    yield out
    out.wall = time.perf_counter() - wall_start
    out.client = (time.process_time() - client_start) * 1000.0 / per
    if server_cpu_ms:
        out.server = (server_cpu_ms() - server_start) / per


@contextmanager
def cpu(label: str, per: int, unit: str) -> Iterator[None]:
    """Print the server's and this process's CPU time of the block, per `unit`."""
    with timed(per) as spent:
        yield
    print(f"  CPU per {unit}, {label}: {spent.cpu_text()}")


@contextmanager
def counted_round_trips() -> Iterator[list[int]]:
    """Count the client's round trips to the server while the block runs: each wait outside a
    pipeline, and each wait for a pipeline's pending results (a sync, its end, a fetch)."""
    count = [0]
    wait, fetch = psycopg.Connection.wait, BasePipeline._fetch_gen

    def counting_wait(self: psycopg.Connection[Any], *args: Any, **kwargs: Any) -> Any:
        count[0] += self._pipeline is None
        return wait(self, *args, **kwargs)

    def counting_fetch(self: BasePipeline, *, flush: bool) -> Any:
        count[0] += bool(self.result_queue)
        return fetch(self, flush=flush)

    psycopg.Connection.wait = counting_wait  # type: ignore[method-assign]
    BasePipeline._fetch_gen = counting_fetch  # type: ignore[method-assign]
    try:
        yield count
    finally:
        psycopg.Connection.wait = wait  # type: ignore[method-assign]
        BasePipeline._fetch_gen = fetch  # type: ignore[method-assign]


@contextmanager
def counted_executes() -> Iterator[list[int]]:
    """Count the client's statements sent while the block runs: psycopg's cursor executes
    (each costs the client some 0.1 ms of psycopg) and the verifier's batches (one message of
    several commands each, sent below psycopg's cursors: verify/batch.py)."""
    count = [0]
    execute, run = psycopg.Cursor.execute, batch_module.run

    def counting(self: psycopg.Cursor[Any], *args: Any, **kwargs: Any) -> Any:
        count[0] += 1
        return execute(self, *args, **kwargs)

    def counting_run(*args: Any, **kwargs: Any) -> Any:
        count[0] += 1
        return run(*args, **kwargs)

    psycopg.Cursor.execute = counting  # type: ignore[method-assign]
    batch_module.run = counting_run
    try:
        yield count
    finally:
        psycopg.Cursor.execute = execute  # type: ignore[method-assign]
        batch_module.run = run


def apply_forwards(srv: ShadowServer, pairs: list[MigrationPair]) -> tuple[float, Timed]:
    """Seconds for the whole run (a database, the baseline, every forward), and the time of
    applying the forwards alone."""
    started = time.perf_counter()
    name = srv.create_database("bench_forward")
    try:
        with psycopg.connect(srv.url_for(name), autocommit=True) as conn:
            load_baseline(conn)
        with psycopg.connect(srv.url_for(name), autocommit=True) as conn:
            scripts = [parse_script(p.forward_path.read_text(), str(p.forward_path)) for p in pairs]
            with timed(len(scripts)) as alone:
                _apply(conn, scripts)
    finally:
        srv.drop_database(name)
    return time.perf_counter() - started, alone


def _apply(conn: psycopg.Connection[Any], scripts: list[Any]) -> None:
    for script in scripts:
        conn.execute("BEGIN")
        for statement in script.statements:
            conn.execute(statement.text, prepare=False)
        conn.execute("COMMIT")


def snapshot_200(srv: ShadowServer, tables: int, profile: bool) -> tuple[list[float], list[float]]:
    """Milliseconds of each full snapshot, and of its Python part (rows into the model)."""
    name = srv.create_database("bench_snapshot")
    in_python = [0.0]
    add_rows = snapshot_module._add_rows

    def timed_add_rows(*args: object, **kwargs: object) -> object:
        started = time.perf_counter()
        try:
            return add_rows(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            in_python[0] += (time.perf_counter() - started) * 1000.0

    try:
        with psycopg.connect(srv.url_for(name), autocommit=True) as conn:
            load_baseline(conn)
            for pair in (write_project_tables(tables),):
                conn.execute(pair)
        with psycopg.connect(srv.url_for(name), autocommit=True, prepare_threshold=None) as conn:
            sizes, python = [], []
            snapshot_module._add_rows = timed_add_rows  # type: ignore[assignment]
            try:
                snap = take_snapshot(conn)
                with cpu("full snapshot", 22, "snapshot"):
                    for _ in range(22):
                        in_python[0] = 0.0
                        snap = take_snapshot(conn)
                        sizes.append(snap.elapsed_ms)
                        python.append(in_python[0])
            finally:
                snapshot_module._add_rows = add_rows
            objects = len(snap)
            per_kind(conn)
            if profile:
                print("  top five costs of ten snapshots:")
                print(top_costs(lambda: [take_snapshot(conn) for _ in range(10)]))
        print(f"  objects in the model: {objects}")
        return sizes[2:], python[2:]  # the first reads prepare the statements
    finally:
        srv.drop_database(name)


def per_kind(conn: psycopg.Connection[Any], runs: int = 50) -> None:
    """Each kind's rows and the CPU time of the backend reading them (as take_snapshot does)."""
    if not server_cpu_ms:
        return
    pid = conn.execute("SELECT pg_catalog.pg_backend_pid()").fetchone()[0]  # type: ignore[index]
    statements = snapshot_module._full_sql(kinds_for(conn.info.server_version))
    shown = []
    for label, query in statements.items():
        with catalog.reading(conn):
            rows = len(catalog.execute(conn, query).fetchall())
            before = _backend_cpu_ms(pid)
            for cursor in [catalog.execute(conn, query) for _ in range(runs)]:
                cursor.fetchall()
            spent = (_backend_cpu_ms(pid) - before) / runs
        if spent >= 0.1:
            shown.append(f"{label} {spent:.2f} ({rows} rows)")
    print(f"  server CPU per kind, ms (mean of {runs} reads):")
    for at in range(0, len(shown), 4):
        print("    " + "; ".join(shown[at : at + 4]))


def _backend_cpu_ms(pid: int) -> float:
    """The backend's CPU time: from schedstat (nanoseconds) where the kernel keeps it, else from
    stat's clock ticks (10 ms each: 0.2 ms per read of 50, as coarse as the figures shown)."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e6
    except (FileNotFoundError, IndexError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * 1000.0 / os.sysconf("SC_CLK_TCK")


def top_costs(fn: Callable[[], object], count: int = 5) -> str:
    profile = cProfile.Profile()
    profile.runcall(fn)
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(count)
    lines = out.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
    return "\n".join(lines[start : start + count + 1])


def write_project_tables(count: int) -> str:
    from synth import _table, _view

    parts = []
    for k in range(count):
        parts.append(_table(k).forward)
        if k % 4 == 0:
            parts.append(_view(10_000 + k, k).forward)
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--migrations", type=int, default=300)
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of part 1 (each printed, then the medians)"
    )
    parser.add_argument("--tables", type=int, default=200)
    parser.add_argument(
        "--full", action="store_true", help="also time the replay comparing full snapshots"
    )
    parser.add_argument("--snapshot-only", action="store_true", help="only part 2")
    parser.add_argument("--replay-only", action="store_true", help="only part 1")
    parser.add_argument("--no-profile", action="store_true", help="no cProfile runs")
    parser.add_argument(
        "--jobs", type=int, default=None,
        help="shadow databases checking at once (default: the CLI's automatic choice)",
    )  # fmt: skip
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, server() as srv:
        # Wall times move with the machine's load (CPU times much less): say what it was.
        print(f"PostgreSQL: {srv.description}; load average {os.getloadavg()[0]:.1f} "
              f"on {os.cpu_count()} CPUs")  # fmt: skip
        if not args.snapshot_only:
            replay(srv, Path(tmp), args)
        if args.replay_only:
            return
        print(f"\n2. full snapshot of a {args.tables}-table schema")
        times, python = snapshot_200(srv, args.tables, not args.no_profile)
        print(f"  take_snapshot: median {statistics.median(times):6.1f} ms, "
              f"min {min(times):6.1f} ms, max {max(times):6.1f} ms  (target < 50 ms); "
              f"in Python: median {statistics.median(python):5.1f} ms")  # fmt: skip


@dataclass
class Run:
    """One run of part 1: the forward apply (whole, and its migrations alone), the verify
    round trip (whole, and its round trips alone)."""

    forward: float
    forward_alone: Timed
    verify: Timed
    verify_alone: float

    def show(self, n: int) -> str:
        return (
            f"  run {n}: forward {self.forward:5.2f} s (alone {self.forward_alone.wall:4.2f} s; "
            f"{self.forward_alone.cpu_text()}); verify {self.verify.wall:5.2f} s "
            f"(alone {self.verify_alone:5.2f} s; {self.verify.cpu_text()}); "
            f"ratio {self.verify.wall / self.forward:4.2f}"
        )


def replay(srv: ShadowServer, tmp: Path, args: argparse.Namespace) -> None:
    """Part 1: apply the forwards once, then the verify round trip over them, `--repeat`
    times; every run, then the medians."""
    files = write_project(tmp / "migrations", args.migrations)
    pairs = [MigrationPair(n, f, r) for n, f, r in files]

    print(f"\n1. {len(pairs)} synthetic migrations, {args.repeat} runs (CPU: per migration; "
          "forward: one transaction per file, each statement sent)")  # fmt: skip
    jobs = resolve_jobs(args.jobs, len(pairs))
    print(f"  jobs: {jobs} (CPU per migration: the sum over the workers)")
    runs = [_one_run(srv, pairs, n + 1, jobs) for n in range(args.repeat)]
    _show_medians(runs)
    if args.full:
        full = run_verification(pairs, srv.admin_url, incremental=False)
        forward = statistics.median(r.forward for r in runs)
        print(f"  same, comparing full snapshots at every migration: "
              f"{full.elapsed_ms / 1000:7.2f} s "
              f"(ratio {full.elapsed_ms / 1000 / forward:.2f})")  # fmt: skip

    if not args.no_profile:
        print("  top five costs of a verify run over the first 60 migrations:")
        print(top_costs(lambda: run_verification(pairs[:60], srv.admin_url)))


def _one_run(srv: ShadowServer, pairs: list[MigrationPair], n: int, jobs: int) -> Run:
    forward, alone = apply_forwards(srv, pairs)
    with (
        timed(len(pairs)) as spent,
        counted_round_trips() as trips,
        counted_executes() as executes,
    ):
        run = run_verification(pairs, srv.admin_url, jobs=jobs)
    spent.wall = run.elapsed_ms / 1000.0
    verified = sum(1 for r in run.results if r.status == "verified")
    result = Run(forward, alone, spent, sum(r.elapsed_ms for r in run.results) / 1000.0)
    print(result.show(n))
    print(f"         verdicts: {verified}/{len(pairs)} verified; {run.scoped_checks} scoped "
          f"checks, {run.full_checks} full; model drift at the end: {len(run.drift)}; per "
          f"migration: {trips[0] / len(pairs):.1f} round trips, "
          f"{executes[0] / len(pairs):.1f} statements sent (executes)")  # fmt: skip
    return result


def _show_medians(runs: list[Run]) -> None:
    def median(values: list[float | None]) -> str:
        known = [v for v in values if v is not None]
        return f"{statistics.median(known):5.1f} ms" if known else "n/a"

    forward = statistics.median(r.forward for r in runs)
    forward_alone = statistics.median(r.forward_alone.wall for r in runs)
    verify = statistics.median(r.verify.wall for r in runs)
    verify_alone = statistics.median(r.verify_alone for r in runs)
    print(f"  median: apply all forward migrations once {forward:5.2f} s (migrations alone "
          f"{forward_alone:4.2f} s); verify round trip over all of them {verify:5.2f} s "
          f"(round trips alone {verify_alone:5.2f} s)")  # fmt: skip
    forwards, verifies = [r.forward_alone for r in runs], [r.verify for r in runs]
    print(f"  median CPU per migration: forward server {median([t.server for t in forwards])}, "
          f"client {median([t.client for t in forwards])}; verify server "
          f"{median([t.server for t in verifies])}, client "
          f"{median([t.client for t in verifies])}")  # fmt: skip
    print(f"  ratio of the medians, verify / forward: {verify / forward:5.2f}  (target <= 3); "
          f"migrations alone: {verify_alone / forward_alone:5.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
