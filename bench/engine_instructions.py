"""Benchmark: generate + validate vs pglast parsing alone, in instructions (valgrind).

A figure machine load leaves alone: the CPU-time ratio of bench_engine.py moves with what else
the two cores run.

Three runs under `valgrind --tool=cachegrind`, each building the same synthetic project and
making one warm-up pass of the engine (imports, compiled tree builders, rollback files on
disk) and of pglast, then doing nothing more (`none`), parsing every file with pglast
(`parse`) or running generate + validate once (`engine`). The setup cancels out: the ratio
is (engine - none) / (parse - none). Slow (valgrind runs Python about 50x slower): 150
migrations take about three minutes on two cores.

Run: `.venv/bin/python bench/engine_instructions.py [N]`.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

MODES = ("none", "parse", "engine")
_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def instructions(valgrind_report: str) -> int:
    """The `I refs` total of a cachegrind report (its stderr)."""
    found = _REFS.search(valgrind_report)
    if found is None:
        raise ValueError(f"no 'I refs' line in valgrind's report:\n{valgrind_report[-2000:]}")
    return int(found.group(1).replace(",", ""))


def ratio(counts: Mapping[str, int]) -> float:
    """The engine's instructions over pglast's, each less the shared setup's."""
    parse = counts["parse"] - counts["none"]
    if parse <= 0:
        raise ValueError(f"parsing cost no instructions over the setup: {dict(counts)}")
    return (counts["engine"] - counts["none"]) / parse


def run_mode(mode: str, count: int) -> None:
    """One measured process: the setup, then `mode` once."""
    sys.path.insert(0, str(Path(__file__).parent))
    import pglast

    from migration_rollback.project.generation import generate_one
    from migration_rollback.project.validation import validate_all
    from migration_rollback.project.workspace import load
    from migration_rollback.sql.trees import pglasts_own
    from synthetic import write_project

    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "supabase" / "migrations"
        paths = write_project(directory, count)

        def engine() -> None:
            loaded = load(directory)
            for item in loaded:
                generate_one(item, force=True)
            validate_all(loaded)

        engine()
        with pglasts_own():  # pglast's own build (its classes checking each value), warmed up
            for path in paths:
                pglast.parse_sql(path.read_text())
            if mode == "parse":
                for path in paths:
                    pglast.parse_sql(path.read_text())
        if mode == "engine":
            engine()


def measure(mode: str, count: int) -> int:
    command = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"]
    script = [sys.executable, __file__, str(count), "--mode", mode]
    env = {**os.environ, "PYTHONHASHSEED": "0"}  # the same dict layouts in every run
    done = subprocess.run([*command, *script], capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{mode}: valgrind run failed:\n{done.stderr[-2000:]}")
    return instructions(done.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", nargs="?", type=int, default=150)
    parser.add_argument("--mode", choices=MODES, help="one measured run (used by the others)")
    options = parser.parse_args()
    if options.mode:
        run_mode(options.mode, options.count)
        return
    with ThreadPoolExecutor(max_workers=2) as pool:
        counts = dict(zip(MODES, pool.map(lambda m: measure(m, options.count), MODES), strict=True))
    for mode in MODES:
        print(f"{mode:7s} {counts[mode]:>16,} instructions")
    print(f"engine / parse: {ratio(counts):.3f}  (instructions less the setup's; {options.count} "
          "migrations)")  # fmt: skip


if __name__ == "__main__":
    main()
