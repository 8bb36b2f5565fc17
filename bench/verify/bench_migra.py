"""migra as a peer: how often does its diff (after-state -> before-state) restore the schema?

    python bench/verify/bench_migra.py [--synthetic 36]

For each migration of two sets - the first N synthetic migrations (synth.py) and the
state-aware cases (synth.HARD_CASES on HARD_SETUP) - on a real PostgreSQL:

- migra: copy the database before the migration, apply the migration, run
  `migra --unsafe --with-privileges <after> <before>`, apply its output to a copy of the
  after-state and compare the result with the before-state using this project's schema model;
  time migra itself;
- this tool: `generate_verified` on the same forward migrations (static generator + state-aware
  pass + round trip), its verdicts and total time.

migra is run from its own virtualenv (it needs SQLAlchemy < 2 and psycopg2): MIGRA=path/to/migra,
or /tmp/mr-migra-venv/bin/migra, created with `pip install migra 'sqlalchemy<2'
psycopg2-binary` when missing. When it cannot be installed, the exact error is printed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "operator"))

import psycopg  # noqa: E402
from bench_verify import server  # noqa: E402
from synth import write_hard_project, write_project  # noqa: E402

from migration_rollback.sql import parse_script  # noqa: E402
from migration_rollback.verify import MigrationPair, generate_verified  # noqa: E402
from migration_rollback.verify.baseline import load_baseline  # noqa: E402
from migration_rollback.verify.diff import diff_objects, summarize  # noqa: E402
from migration_rollback.verify.shadow import ShadowServer  # noqa: E402
from migration_rollback.verify.snapshot import take_snapshot  # noqa: E402

VENV = Path("/tmp/mr-migra-venv")


def find_migra() -> str | None:
    given = os.environ.get("MIGRA")
    if given:
        return given
    for candidate in (VENV / "bin" / "migra", Path("/tmp/migra-venv/bin/migra")):
        if candidate.exists():
            return str(candidate)
    found = shutil.which("migra")
    if found:
        return found
    print(f"installing migra into {VENV} ...")
    steps = [
        [sys.executable, "-m", "venv", str(VENV)],
        [str(VENV / "bin" / "pip"), "install", "-q", "migra", "sqlalchemy<2", "psycopg2-binary"],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"migra could not be installed: {' '.join(step)}\n{done.stderr.strip()}")
            return None
    return str(VENV / "bin" / "migra")


@dataclass
class Outcome:
    name: str
    restored: bool
    detail: str
    seconds: float


def run_sql(url: str, text: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(text, prepare=False)


def apply_forward(url: str, path: Path) -> None:
    script = parse_script(path.read_text(), str(path))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("BEGIN")
        for statement in script.statements:
            conn.execute(statement.text, prepare=False)
        conn.execute("COMMIT")


def migra_peer(srv: ShadowServer, migra: str, pairs: list[MigrationPair]) -> list[Outcome]:
    current = srv.create_database("bench_migra")
    out: list[Outcome] = []
    try:
        with psycopg.connect(srv.url_for(current), autocommit=True) as conn:
            load_baseline(conn)
        for pair in pairs:
            before = srv.create_database("bench_before", template=current)
            try:
                apply_forward(srv.url_for(current), pair.forward_path)
                trial = srv.create_database("bench_trial", template=current)
                try:
                    started = time.perf_counter()
                    done = subprocess.run(
                        [migra, "--unsafe", "--with-privileges",
                         srv.url_for(trial), srv.url_for(before)],
                        capture_output=True, text=True,
                    )  # fmt: skip
                    seconds = time.perf_counter() - started
                    if done.returncode not in (0, 2):  # 2: differences found
                        out.append(Outcome(pair.name, False, done.stderr.strip()[-300:], seconds))
                        continue
                    try:
                        if done.stdout.strip():
                            run_sql(srv.url_for(trial), done.stdout)
                    except psycopg.Error as exc:
                        message = exc.diag.message_primary or str(exc)
                        out.append(Outcome(pair.name, False, f"its SQL fails: {message}", seconds))
                        continue
                    with (
                        psycopg.connect(srv.url_for(trial), prepare_threshold=None) as a,
                        psycopg.connect(srv.url_for(before), prepare_threshold=None) as b,
                    ):
                        # Column order is tolerated, as for this tool (see VerifyResult).
                        diffs = diff_objects(
                            take_snapshot(b).objects, take_snapshot(a).objects, ignore=["position"]
                        )
                    detail = summarize(diffs) if diffs else "restored"
                    if diffs:
                        detail += ": " + "; ".join(d.describe() for d in diffs[:3])
                    out.append(Outcome(pair.name, not diffs, detail, seconds))
                finally:
                    srv.drop_database(trial)
            finally:
                srv.drop_database(before)
    finally:
        srv.drop_database(current)
    return out


def report(title: str, srv: ShadowServer, migra: str | None, pairs: list[MigrationPair]) -> None:
    print(f"\n{title}: {len(pairs)} migrations")
    started = time.perf_counter()
    ours = generate_verified(pairs, srv.admin_url)
    ours_seconds = time.perf_counter() - started
    verified = sum(1 for g in ours if g.result.status == "verified")
    schema_ok = sum(1 for g in ours if g.result.status in ("verified", "manual")
                    and not g.result.differences)  # fmt: skip
    print(f"  migration-rollback generate --verify: {verified}/{len(pairs)} verified, "
          f"{schema_ok}/{len(pairs)} schema restored (rest: data left to a human), "
          f"{ours_seconds:.2f} s for all (generation + round trips)")  # fmt: skip
    if migra is None:
        return
    theirs = migra_peer(srv, migra, pairs)
    restored = sum(1 for o in theirs if o.restored)
    total = sum(o.seconds for o in theirs)
    per = total / max(len(theirs), 1)
    print(f"  migra (after -> before diff):          {restored}/{len(theirs)} restored, "
          f"{total:.2f} s in migra ({per:.2f} s per migration)")  # fmt: skip
    by_name = {g.migration: g for g in ours}
    print("  per migration (ours | migra):")
    for o in theirs:
        g = by_name.get(o.name)
        mine = g.result.status if g else "?"
        print(f"    {o.name[15:]:28} {mine:9} | {'ok' if o.restored else 'NO':3} {o.detail[:110]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", type=int, default=36)
    args = parser.parse_args()
    migra = find_migra()
    with tempfile.TemporaryDirectory() as tmp, server() as srv:
        print(f"PostgreSQL: {srv.description}; migra: {migra or 'unavailable'}")
        synthetic = [
            MigrationPair(n, f, None)
            for n, f, _ in write_project(Path(tmp) / "synthetic", args.synthetic)
        ]
        hard = [MigrationPair(n, f, r) for n, f, r in write_hard_project(Path(tmp) / "hard")]
        report("synthetic migrations", srv, migra, synthetic)
        report("state-aware cases", srv, migra, hard)


if __name__ == "__main__":
    main()
