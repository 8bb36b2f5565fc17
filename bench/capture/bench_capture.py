"""Benchmark: what a capture costs, on a real PostgreSQL.

1. `apply` of a migration that UPDATEs every row of an N-row table, with capture vs with
   `--no-capture` (target: <= 1.3x).
2. Restoring those rows (`execute` of its rollback, data put back from the capture) vs running
   the same UPDATE again (target: <= 2x).

Each measurement runs on a fresh, VACUUMed copy of the table (a template database), so table
bloat from one run does not slow the next. Run:

    python bench/capture/bench_capture.py [--rows 1000000] [--repeat 3] [--url SUPERUSER_URL]

Without --url a throwaway cluster is started from the local PostgreSQL binaries.
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
from psycopg import sql

from migration_rollback.runner.apply import apply_migrations
from migration_rollback.runner.apply_result import ApplyOptions
from migration_rollback.runner.options import MigrationId, RunOptions
from migration_rollback.runner.run import execute_rollback
from migration_rollback.runner.run_record import RunIO
from migration_rollback.verify.cluster import create_cluster

BASE = "20250101000000_items"
UPDATE = "20250102000000_touch_items"
UPDATE_SQL = "UPDATE public.items SET label = coalesce(label, 'none') || '!' WHERE id > 0;"
SEED = """
CREATE SCHEMA supabase_migrations;
CREATE TABLE supabase_migrations.schema_migrations (version text PRIMARY KEY, statements text[],
  name text);
INSERT INTO supabase_migrations.schema_migrations
  VALUES ('20250101000000', ARRAY[]::text[], 'items');
CREATE TABLE public.items (id bigint PRIMARY KEY, label text, qty integer, note text);
INSERT INTO public.items SELECT g, CASE WHEN g % 3 = 0 THEN NULL ELSE 'item ' || g END, g % 97,
  md5(g::text) FROM generate_series(1, %(rows)s) g;
"""


def _url(admin: str, name: str) -> str:
    return admin.rsplit("/", 1)[0] + "/" + name


def _admin(admin: str, statement: sql.Composable) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(statement)


def make_template(admin: str, rows: int) -> str:
    name = f"bench_tpl_{uuid.uuid4().hex[:8]}"
    _admin(admin, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    with psycopg.connect(_url(admin, name), autocommit=True) as conn:
        conn.execute(sql.SQL(SEED.replace("%(rows)s", "{}")).format(sql.Literal(rows)))
        conn.execute("VACUUM ANALYZE public.items")
    return name


def fresh_copy(admin: str, template: str) -> str:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    _admin(
        admin,
        sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(template)
        ),
    )
    return name


def drop(admin: str, name: str) -> None:
    _admin(admin, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def project(root: Path) -> Path:
    migrations = root / "supabase" / "migrations"
    migrations.mkdir(parents=True, exist_ok=True)
    (migrations / f"{BASE}.sql").write_text("-- applied by the template\n")
    (migrations / f"{UPDATE}.sql").write_text(UPDATE_SQL + "\n")
    (migrations / f"{UPDATE}_rollback.sql").write_text(
        f"-- ROLLBACK: {UPDATE}\n\n-- undoes {UPDATE}.sql:1: {UPDATE_SQL}\n"
        "-- MANUAL: UPDATE changed rows of public.items\n"
    )
    return migrations


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run_apply(url: str, migrations: Path, capture: bool) -> float:
    options = ApplyOptions(
        database_url=url,
        migrations_dir=migrations,
        no_capture=frozenset() if capture else frozenset({"20250102000000"}),
    )

    def go() -> None:
        result = apply_migrations(options, io.StringIO(), io.StringIO(), {})
        assert result.exit_code == 0, result.error

    return timed(go)


def run_restore(url: str, migrations: Path) -> float:
    options = RunOptions(
        database_url=url, migration=MigrationId.parse(UPDATE), migrations_dir=migrations
    )

    def go() -> None:
        out = io.StringIO()
        result = execute_rollback(options, RunIO(stdout=out, stderr=io.StringIO(), env={}))
        assert int(result.exit_code) == 0, out.getvalue()

    return timed(go)


def run_plain_update(url: str) -> float:
    with psycopg.connect(url, autocommit=True) as conn:
        return timed(lambda: conn.execute(UPDATE_SQL))


def measure(admin: str, template: str, migrations: Path, repeat: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"plain": [], "capture": [], "update": [], "restore": []}
    for _ in range(repeat):
        for label, capture in (("plain", False), ("capture", True)):
            name = fresh_copy(admin, template)
            try:
                url = _url(admin, name)
                times[label].append(run_apply(url, migrations, capture))
                if capture:
                    with psycopg.connect(url, autocommit=True) as conn:
                        conn.execute("VACUUM ANALYZE public.items")
                    times["restore"].append(run_restore(url, migrations))
            finally:
                drop(admin, name)
        name = fresh_copy(admin, template)
        try:
            times["update"].append(run_plain_update(_url(admin, name)))
        finally:
            drop(admin, name)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--url", help="superuser URL of a server to use (default: a throwaway)")
    args = parser.parse_args()
    cluster = None if args.url else create_cluster()
    admin = args.url or (cluster.url() if cluster else "")
    try:
        template = make_template(admin, args.rows)
        with tempfile.TemporaryDirectory() as root:
            times = measure(admin, template, project(Path(root)), args.repeat)
        drop(admin, template)
    finally:
        if cluster is not None:
            cluster.stop()
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"rows: {args.rows}, repeat: {args.repeat} (median seconds)")
    print(f"apply without capture: {med['plain']:.2f}s")
    print(f"apply with capture:    {med['capture']:.2f}s")
    print(f"  ratio: {med['capture'] / med['plain']:.2f}x (target <= 1.3x)")
    print(f"same UPDATE, plain:    {med['update']:.2f}s")
    print(f"restore (execute):     {med['restore']:.2f}s")
    print(f"  ratio: {med['restore'] / med['update']:.2f}x (target <= 2x)")


if __name__ == "__main__":
    main()
