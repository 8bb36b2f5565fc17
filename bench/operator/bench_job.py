"""Benchmark: the rollback Job's own cost, `migration-rollback execute` on the demo's database.

The Job's process is on the critical path of every rollback (scale-down, then the Job, then
scale-up), and at 20 rollbacks at once the Job processes took 43% of the machine's CPU, CPU
the control plane's controllers then waited for. This runs the demo's rollback (the shop's
20251113000001_timeline_social_features, pg_dump backup, --allow-data-loss: what the demo's
MigrationRollback runs) N times as a fresh process, the failing migration re-applied between
runs, and prints the median wall and CPU seconds, the Python import time of the command
(`python -X importtime`: the sum of every module's own time) with its costliest packages, and
how many modules the command loaded.

Run: `python bench/operator/bench_job.py [N]` (default 5). `--profile FILE` also writes a
cProfile of one run (read it with `python -m pstats FILE`); `--source DIR` runs another
checkout's package (`git archive <commit> operator | tar -x -C DIR`, compiled with
`python -m compileall`, as the image's are) to compare on the same load. The load average is
printed: a figure from a busier machine does not compare.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO)]

from migration_rollback.verify.baseline import load_baseline  # noqa: E402
from migration_rollback.verify.cluster import TemporaryCluster, create_cluster  # noqa: E402

MIGRATIONS = REPO / "examples" / "supabase" / "migrations"
BAD = "20251113000001_timeline_social_features"
HISTORY = "supabase_migrations.schema_migrations"
COMMAND = [sys.executable, "-m", "migration_rollback"]
_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)")


def _env(url: str, source: Path = REPO / "operator") -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(source), os.environ.get("PYTHONPATH", "")) if p)
    return dict(os.environ, PYTHONPATH=path, MIGRATION_ROLLBACK_DATABASE_URL=url)


def _sql(url: str, text: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(text)  # type: ignore[call-overload]


def apply_bad(url: str) -> None:
    """The failing migration, applied and recorded (again), as the demo's step 4."""
    _sql(url, (MIGRATIONS / f"{BAD}.sql").read_text())
    version, _, name = BAD.partition("_")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"INSERT INTO {HISTORY} (version, name) VALUES (%s, %s)", (version, name))


def prepare(pg: TemporaryCluster, work: Path) -> tuple[str, Path]:
    """The demo's database (migrations 1-2, then the bad one) and its generated rollback."""
    _sql(pg.url(), "CREATE DATABASE shop")
    url = pg.url("shop")
    with psycopg.connect(url, autocommit=True) as conn:
        load_baseline(conn)
    files = [f for f in sorted(MIGRATIONS.glob("*.sql")) if not f.stem.endswith("_rollback")]
    for f in files[:2]:
        _sql(url, f.read_text())
        version, _, name = f.stem.partition("_")
        _sql(url, f"INSERT INTO {HISTORY} (version, name) VALUES ('{version}', '{name}')")
    apply_bad(url)
    project = work / "project"
    shutil.copytree(MIGRATIONS.parent, project / "supabase")
    subprocess.run([*COMMAND, "generate"], cwd=project, env=_env(url), check=True,
                   capture_output=True)  # fmt: skip
    return url, project / "supabase" / "migrations" / f"{BAD}_rollback.sql"


def execute_args(rollback: Path, backups: Path, result: Path) -> list[str]:
    """The Job's arguments for the demo's MigrationRollback (kube/jobs.py job_args).

    --allow-manual: the generated file's one MANUAL marker (app_settings rows the migration
    updated) stops a run before anything is done; the bench measures a run that does it all.
    """
    sha = hashlib.sha256(rollback.read_bytes()).hexdigest()
    backups.mkdir(exist_ok=True)  # the Job's mounted volume
    return [
        "execute", BAD, "--rollback-file", str(rollback), "--expect-sha256", sha,
        "--history-table", HISTORY, "--lock-timeout", "5s", "--statement-timeout", "10m",
        "--result-file", str(result), "--backup", "pg-dump", "--backup-dir", str(backups),
        "--allow-data-loss", "--allow-manual",
    ]  # fmt: skip


def run_once(argv: Sequence[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall and CPU seconds of one fresh process, and its stderr."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    assert proc.stderr is not None
    err = proc.stderr.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"execute: exit {code}\n{err[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, err


def import_costs(stderr: str) -> tuple[float, int, collections.Counter[str]]:
    """Total import seconds (every module's own time), the module count, seconds per package."""
    per: collections.Counter[str] = collections.Counter()
    count = 0
    for own, module in _IMPORT_LINE.findall(stderr):
        count += 1
        parts = module.split(".")
        package = ".".join(parts[:2]) if parts[0] == "migration_rollback" else parts[0]
        per[package] += int(own) / 1e6
    return sum(per.values()), count, per


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="?", type=int, default=5)
    parser.add_argument("--profile", type=Path, help="write a cProfile of one run here")
    parser.add_argument(
        "--source", type=Path, default=REPO / "operator",
        help="the package's folder to run (another commit's, to compare on the same load)",
    )  # fmt: skip
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-job-"))
    pg = create_cluster()
    try:
        url, rollback = prepare(pg, work)
        env = _env(url, args.source)
        walls, cpus, imports, modules = [], [], [], []
        per_package: collections.Counter[str] = collections.Counter()
        for i in range(args.runs):
            argv = execute_args(rollback, work / f"backups{i}", work / f"result{i}.json")
            wall, cpu, _ = run_once([*COMMAND, *argv], env)
            walls.append(wall)
            cpus.append(cpu)
            apply_bad(url)
            _, _, err = run_once([sys.executable, "-X", "importtime", *COMMAND[1:], *argv], env)
            total, count, per = import_costs(err)
            imports.append(total)
            modules.append(count)
            per_package.update(per)
            apply_bad(url)
        if args.profile:
            argv = execute_args(rollback, work / "backups-p", work / "result-p.json")
            profile = [sys.executable, "-m", "cProfile", "-o", str(args.profile), *COMMAND[1:]]
            run_once([*profile, *argv], env)
            print(f"cProfile of one run: {args.profile}")
        print(f"load average {os.getloadavg()[0]:.2f} (1 min), {args.runs} runs")
        print(f"execute wall     median {statistics.median(walls):.3f} s  {_list(walls)}")
        print(f"execute CPU      median {statistics.median(cpus):.3f} s  {_list(cpus)}")
        print(f"imports (-X importtime, own times summed) median {statistics.median(imports):.3f}"
              f" s, {statistics.median(modules):.0f} modules")  # fmt: skip
        for name, secs in per_package.most_common(12):
            print(f"  {secs / args.runs * 1000:7.1f} ms  {name}")
    finally:
        pg.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _list(values: Sequence[float]) -> str:
    return "[" + " ".join(f"{v:.3f}" for v in values) + "]"


if __name__ == "__main__":
    sys.exit(main())
