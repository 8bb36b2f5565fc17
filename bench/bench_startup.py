"""Benchmark: start-up of the `migration-rollback` command line (`--version`, `<cmd> --help`).

Each case runs N times as a fresh process (what a user or a CI step pays); the median wall
time and the median CPU time (user + system of the child, less disturbed by other processes
on a shared machine) are printed, with the number of modules the process imported (the
cause of the time: every command imports what it needs when it runs, not at start-up).

Target: `--version` under 0.25 s. Run: `.venv/bin/python bench/bench_startup.py [N]`
(`--importtime` also prints the ten costliest imports of `--version`, from
`python -X importtime`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

COMMAND = [sys.executable, "-m", "migration_rollback"]
CASES: tuple[tuple[str, ...], ...] = (
    ("--version",),
    ("--help",),
    ("generate", "--help"),
    ("validate", "--help"),
    ("emergency", "--help"),
    ("execute", "--help"),
    ("apply", "--help"),
    ("captures", "--help"),
    ("operator", "--help"),
)
TARGET_VERSION_S = 0.25


def _env() -> dict[str, str]:
    env = dict(os.environ, COLUMNS="100")
    # The benchmark measures the installed package; a source tree works too.
    source = str(Path(__file__).resolve().parents[1] / "operator")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (source, env.get("PYTHONPATH", "")) if p)
    return env


def run_once(args: tuple[str, ...]) -> tuple[float, float]:
    """Wall and CPU seconds of one fresh process running the command."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [*COMMAND, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env()
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)}: exit {proc.returncode}")
    return wall, usage.ru_utime + usage.ru_stime


def modules_imported(args: tuple[str, ...]) -> int:
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "migration_rollback", *args],
        capture_output=True,
        text=True,
        env=_env(),
        check=False,
    )
    return sum(1 for line in out.stderr.splitlines() if line.startswith("import time:"))


def costliest_imports(args: tuple[str, ...], top: int = 10) -> list[tuple[int, str]]:
    """(cumulative microseconds, module) of the costliest top-level imports of one run."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "migration_rollback", *args],
        capture_output=True,
        text=True,
        env=_env(),
        check=False,
    )
    rows: list[tuple[int, str]] = []
    for line in out.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line.split("|")
        rows.append((int(cumulative), name.rstrip()))
    return sorted(rows, reverse=True)[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="?", type=int, default=15)
    parser.add_argument("--importtime", action="store_true")
    options = parser.parse_args()
    print(f"runs per case: {options.runs} (median; CPU = user + system of the child)")
    print(f"{'command':28} {'wall s':>8} {'cpu s':>8} {'modules':>8}")
    version_wall = 0.0
    for case in CASES:
        run_once(case)  # warm the page cache and the bytecode cache
        walls, cpus = zip(*(run_once(case) for _ in range(options.runs)), strict=True)
        wall, cpu = statistics.median(walls), statistics.median(cpus)
        if case == ("--version",):
            version_wall = wall
        print(f"{' '.join(case):28} {wall:8.3f} {cpu:8.3f} {modules_imported(case):8d}")
    verdict = "ok" if version_wall < TARGET_VERSION_S else "over"
    print(f"--version median wall {version_wall:.3f} s (target < {TARGET_VERSION_S} s: {verdict})")
    if options.importtime:
        print("costliest imports of --version (cumulative ms, one run):")
        for micros, name in costliest_imports(("--version",)):
            print(f"  {micros / 1000:8.1f}  {name}")


if __name__ == "__main__":
    main()
