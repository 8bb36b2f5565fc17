"""`validate` says which identifiers PostgreSQL cuts to 63 bytes, and calls a migration whose
two names it would take for one invalid (the second CREATE fails on the server)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from migration_rollback.cli import app

A63 = "a" * 63


def test_two_tables_one_name_to_postgresql_make_the_migration_invalid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrations = tmp_path / "supabase" / "migrations"
    migrations.mkdir(parents=True)
    forward = f"create table public.{A63}x (id int);\ncreate table public.{A63}y (id int);\n"
    (migrations / "20250101000001_long.sql").write_text(forward)
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(app, ["generate"]).exit_code == 0

    result = CliRunner().invoke(app, ["validate", "--format", "json"])

    assert result.exit_code == 1, result.output
    (report,) = json.loads(result.output)["migrations"]
    assert report["status"] == "invalid"
    found = [(f["severity"], f["line"]) for f in report["findings"] if f["code"] == "LONG_NAME"]
    assert ("error", 2) in found
    assert found.count(("warning", 1)) >= 1
