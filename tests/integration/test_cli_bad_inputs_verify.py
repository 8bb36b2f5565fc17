"""`validate --verify` and `generate --verify` over bad inputs, on a real shadow PostgreSQL.

Unusable files are reported once and left out of the shadow replay (a named pipe would block
it, a directory would crash it); files sharing a version are replayed, each with a verdict and
a warning; psql meta-commands keep the migration `manual`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

GOOD = "20250101000000_good"
META = "20250101000001_meta"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    migrations = tmp_path / "supabase" / "migrations"
    migrations.mkdir(parents=True)
    (migrations / f"{GOOD}.sql").write_text("create table public.good (id int);\n")
    (migrations / f"{META}.sql").write_text(
        "\\set ON_ERROR_STOP on\ncreate table public.m (id int);\n\\i extra.sql\n"
    )
    (migrations / "20250101000002_dir.sql").mkdir()
    os.mkfifo(migrations / "20250101000003_fifo.sql")
    (migrations / "20250101000004_dangling.sql").symlink_to(migrations / "nowhere.sql")
    (migrations / "20250101000005_utf16.sql").write_bytes("select 1;\n".encode("utf-16"))
    (migrations / "20250101000006_a.sql").write_text("create table public.da (id int);\n")
    (migrations / "20250101000006_b.sql").write_text("create table public.db (id int);\n")
    return tmp_path


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATION_ROLLBACK_")}
    return subprocess.run(
        [sys.executable, "-m", "migration_rollback", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_verify_skips_unusable_files_and_keeps_meta_commands_manual(
    project: Path, pg_server: Any
) -> None:
    shadow = pg_server.admin_url
    generated = cli(project, "generate", "--verify", "--shadow-url", shadow)
    assert "Traceback" not in generated.stderr + generated.stdout, generated.stderr
    assert generated.returncode == 1  # the bad files failed; the others were written
    assert (project / "supabase" / "migrations" / f"{GOOD}_rollback.sql").is_file()
    assert (project / "supabase" / "migrations" / f"{META}_rollback.sql").is_file()

    proc = cli(project, "validate", "--verify", "--shadow-url", shadow, "--format", "json")

    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 1
    reports = {m["migration"]: m for m in json.loads(proc.stdout)["migrations"]}
    assert reports[GOOD]["status"] == "valid"
    assert reports[GOOD]["verification"]["status"] == "verified"
    assert reports[META]["status"] == "manual"
    lines = [f["line"] for f in reports[META]["findings"] if f["code"] == "META_COMMAND"]
    assert lines == [1, 3]
    for name in ("20250101000002_dir", "20250101000003_fifo", "20250101000004_dangling",
                 "20250101000005_utf16"):  # fmt: skip
        assert reports[name]["status"] == "invalid", name
        assert "verification" not in reports[name]
    for name in ("20250101000006_a", "20250101000006_b"):
        assert reports[name]["verification"]["status"] == "verified", name
        codes = {f["code"]: f["severity"] for f in reports[name]["findings"]}
        assert codes["DUPLICATE_VERSION"] == "warning"


def test_execute_refuses_each_bad_file_against_a_real_database(
    project: Path, database_url: str
) -> None:
    import psycopg

    migrations = project / "supabase" / "migrations"
    (migrations / "20250101000003_fifo_rollback.sql").unlink(missing_ok=True)
    os.mkfifo(migrations / "20250101000003_fifo_rollback.sql")
    (migrations / "20250101000002_dir_rollback.sql").mkdir()
    (migrations / "20250101000004_dangling_rollback.sql").symlink_to(migrations / "gone.sql")
    (migrations / "20250101000005_utf16_rollback.sql").write_bytes("select 1;\n".encode("utf-16"))
    bad = ["20250101000002_dir", "20250101000003_fifo", "20250101000004_dangling",
           "20250101000005_utf16"]  # fmt: skip
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "CREATE SCHEMA supabase_migrations; CREATE TABLE supabase_migrations.schema_migrations"
            " (version text PRIMARY KEY, statements text[], name text)"
        )
        for name in bad:
            version, title = name.split("_", 1)
            conn.execute(
                "INSERT INTO supabase_migrations.schema_migrations (version, name) VALUES (%s, %s)",
                [version, title],
            )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATION_ROLLBACK_")}
    env["MIGRATION_ROLLBACK_DATABASE_URL"] = database_url
    for name in bad:
        proc = subprocess.run(
            [sys.executable, "-m", "migration_rollback", "execute", name, "--dry-run"],
            cwd=project, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
        assert proc.returncode == 3, (name, proc.stdout)
        assert f"{name}_rollback.sql" in proc.stdout, proc.stdout
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM supabase_migrations.schema_migrations").fetchone()
    assert row is not None
    assert row[0] == len(bad)
