"""Benchmark: `generate` + `validate` over 1,000 synthetic migrations vs pglast parsing alone.

Prints both times and the ratio (target: <= 1.5). Run: `python bench/bench_engine.py [N]`.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import pglast

sys.path.insert(0, str(Path(__file__).parent))

from migration_rollback.project.generation import generate_one
from migration_rollback.project.validation import validate_all
from migration_rollback.project.workspace import load
from synthetic import write_project


def best_of(runs: int, fn: object) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "supabase" / "migrations"
        paths = write_project(directory, count)
        statements = sum(len(pglast.parse_sql(p.read_text())) for p in paths)

        def parse_only() -> None:
            for path in paths:
                pglast.parse_sql(path.read_text())

        def generate_and_validate() -> None:
            loaded = load(directory)
            for item in loaded:
                generate_one(item, force=True)
            reports = validate_all(load(directory))
            assert all(not r.status.blocks for r in reports), "synthetic project must validate"

        generate_and_validate()  # warm-up, and the files exist for validate
        parse = best_of(3, parse_only)
        full = best_of(3, generate_and_validate)
    print(f"migrations: {count}  statements: {statements}")
    print(f"pglast parse alone:    {parse:8.3f} s")
    print(f"generate + validate:   {full:8.3f} s")
    print(f"ratio:                 {full / parse:8.2f}  (target <= 1.5)")


if __name__ == "__main__":
    main()
