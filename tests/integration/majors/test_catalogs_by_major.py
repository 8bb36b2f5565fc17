"""The shadow reads catalogs as each major has them: PostgreSQL 14 has no publication column
lists, row filters or schema publications (`prattrs`, `prqual`, `pg_publication_namespace`
came in 15), and a Supabase project pinned to 14 must still replay and get verdicts.
"""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from migration_rollback.cli import app
from migration_rollback.verify.baseline import load_baseline
from migration_rollback.verify.cluster import TemporaryCluster
from migration_rollback.verify.snapshot import take_snapshot

pytestmark = pytest.mark.integration

# Publications, a table added to the platform's own one, a column the rollback must drop:
# the publication kinds are read before and after each round trip.
MIGRATIONS = {
    "20240101000001_items": (
        "create table public.items (id bigint primary key, title text, owner uuid);\n"
        "create publication items_feed for table public.items;\n"
        "alter publication supabase_realtime add table public.items;\n"
    ),
    "20240102000001_notes": (
        "alter table public.items add column body text;\n"
        "create table public.notes (id bigint primary key, item bigint references public.items);\n"
        "alter publication items_feed add table public.notes;\n"
    ),
}


def test_snapshot_of_a_14_server_holds_its_publication_tables(pg14: TemporaryCluster) -> None:
    with psycopg.connect(pg14.url(), autocommit=True) as conn:
        assert conn.info.server_version // 10000 == 14
        load_baseline(conn)
        conn.execute("create table public.pub_probe (id int primary key)")
        conn.execute("create publication probe_pub for table public.pub_probe")
        snapshot = take_snapshot(conn)
        conn.execute("drop publication probe_pub")
        conn.execute("drop table public.pub_probe")
    entry = snapshot.get("publication table", "probe_pub:public.pub_probe")
    assert entry is not None
    assert entry.get("columns") is None  # 14 has no column lists: absent, not an error
    assert snapshot.of_kind("publication schema") == []


def test_a_project_pinned_to_14_replays_and_gets_verdicts(
    pg14: TemporaryCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrations = tmp_path / "supabase" / "migrations"
    migrations.mkdir(parents=True)
    (tmp_path / "supabase" / "config.toml").write_text("[db]\nmajor_version = 14\n")
    for name, text in MIGRATIONS.items():
        (migrations / f"{name}.sql").write_text(text)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    generated = runner.invoke(app, ["generate", "--verify", "--shadow-url", pg14.url()])
    assert generated.exit_code == 0, generated.output
    result = runner.invoke(
        app, ["validate", "--verify", "--shadow-url", pg14.url(), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    verdicts = {m["migration"]: m["verification"]["status"] for m in doc["migrations"]}
    assert verdicts == dict.fromkeys(MIGRATIONS, "verified")
