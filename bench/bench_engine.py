"""Benchmark: `generate` + `validate` over 1,000 synthetic migrations vs pglast parsing alone.

One pass of the engine, as the project layer runs it: every file read and parsed once
(`load`), its rollback written (`generate_one`), then validated from that same parse
(`validate_all(loaded)`: the rollback file is read from disk, and only split when it holds
the statements the generator wrote). Prints both CPU times (median of N runs, in this process,
so the ratio is measured under the same machine load), their ratio (target: <= 1.5), the ratio
of the fastest run of each (load only adds time), the peak
memory of `migration-rollback generate` over the project in its own process (target: < 200
MB) and the five costliest functions of one profiled pass. The engine's own share of building
parse trees (forward files, and the generated statements' safety-belt parse) is printed apart:
what is left above it is the rules' work, the floor of the ratio whatever the parse costs.

Run: `.venv/bin/python bench/bench_engine.py [N] [--runs R] [--no-profile]`. CPU time moves with
the machine's load; `bench/engine_instructions.py` gives the same ratio in instructions.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pglast

sys.path.insert(0, str(Path(__file__).parent))

import migration_rollback.sql.parse as parse_layer
from migration_rollback.project.generation import generate_one
from migration_rollback.project.validation import validate_all
from migration_rollback.project.workspace import load
from migration_rollback.sql.trees import pglasts_own
from synthetic import write_project

TARGET_RATIO = 1.5
TARGET_PEAK_MB = 200


_tree_seconds = [0.0]  # CPU spent building parse trees inside the engine (parse_layer.parse_trees)
_parse_trees = parse_layer.parse_trees


def _timed_parse_trees(text: str) -> tuple[object, ...]:
    start = time.process_time()
    try:
        return _parse_trees(text)
    finally:
        _tree_seconds[0] += time.process_time() - start


parse_layer.parse_trees = _timed_parse_trees


def cpu_seconds(fn: Callable[[], object]) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


# The peak of the command's own memory: VmHWM is kept per address space, so it starts afresh
# at exec (getrusage's ru_maxrss does not: it carries this process's own peak over the fork).
_PEAK_PROBE = """
import runpy, sys
out = sys.argv.pop(1)
sys.argv = ["migration-rollback", "generate", "--force"]
try:
    runpy.run_module("migration_rollback", run_name="__main__")
finally:
    status = open("/proc/self/status").read()
    peak = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    open(out, "w").write(peak.split()[1])
"""


def generate_peak_mb(root: Path) -> float:
    """Peak resident memory of `migration-rollback generate --force` over the project."""
    out = root / "peak-kb"
    done = subprocess.run(
        [sys.executable, "-c", _PEAK_PROBE, str(out)],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit("migration-rollback generate failed on the synthetic project")
    return int(out.read_text()) / 1024  # kilobytes


def top_costs(fn: Callable[[], object], count: int = 5) -> str:
    profile = cProfile.Profile()
    profile.runcall(fn)
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("tottime").print_stats(count)
    lines = out.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
    return "\n".join(lines[start : start + count + 1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", nargs="?", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-profile", action="store_true")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        directory = root / "supabase" / "migrations"
        paths = write_project(directory, options.count)
        statements = sum(len(pglast.parse_sql(p.read_text())) for p in paths)

        def parse_only() -> None:  # pglast's own build, its node classes checking each value
            with pglasts_own():
                for path in paths:
                    pglast.parse_sql(path.read_text())

        def generate_and_validate() -> None:
            loaded = load(directory)
            for item in loaded:
                generate_one(item, force=True)
            reports = validate_all(loaded)
            assert all(not r.status.blocks for r in reports), "synthetic project must validate"

        generate_and_validate()  # warm-up, and the rollback files exist
        parse_times: list[float] = []
        full_times: list[float] = []
        tree_times: list[float] = []
        for _ in range(options.runs):  # interleaved: both see the same machine load
            parse_times.append(cpu_seconds(parse_only))
            _tree_seconds[0] = 0.0
            full_times.append(cpu_seconds(generate_and_validate))
            tree_times.append(_tree_seconds[0])
        ratios = [f / p for f, p in zip(full_times, parse_times, strict=True)]
        parse, full = statistics.median(parse_times), statistics.median(full_times)
        peak = generate_peak_mb(root)
        print(f"migrations: {options.count}  statements: {statements}  runs: {options.runs}")
        print(f"pglast parse alone:    {parse:8.3f} s CPU (median)")
        print(f"generate + validate:   {full:8.3f} s CPU (median)")
        trees = statistics.median(tree_times)
        print(f"  of which parse trees: {trees:7.3f} s ({trees / parse:.2f}x parse alone); "
              f"the rest: {full - trees:.3f} s ({(full - trees) / parse:.2f}x)")  # fmt: skip
        print(f"ratio:                 {statistics.median(ratios):8.2f}  (median of runs; "
              f"target <= {TARGET_RATIO})")  # fmt: skip
        # Load only ever adds CPU time (a neighbour's cache misses, a slower clock): the
        # fastest run of each is the least disturbed figure of what the code itself costs.
        print(f"ratio of the fastest:  {min(full_times) / min(parse_times):8.2f}  "
              f"({min(full_times):.3f} / {min(parse_times):.3f} s)")  # fmt: skip
        print(f"generate peak memory:  {peak:8.1f} MB  (target < {TARGET_PEAK_MB} MB)")
        if not options.no_profile:
            print("top five costs of generate + validate (cProfile, by own time):")
            print(top_costs(generate_and_validate))


if __name__ == "__main__":
    main()
