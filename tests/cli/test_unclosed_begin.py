"""`validate` says when a forward opens a transaction it never commits: psql and the Supabase
CLI roll all of it back at the end of the file, so the migration applies nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from migration_rollback.cli import app


def test_validate_refuses_a_forward_whose_begin_is_never_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrations = tmp_path / "supabase" / "migrations"
    migrations.mkdir(parents=True)
    (migrations / "20250101000001_open.sql").write_text("begin;\ncreate table public.a (id int);\n")
    (migrations / "20250101000002_closed.sql").write_text(
        "begin;\ncreate table public.b (id int);\ncommit;\n"
    )
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(app, ["generate"]).exit_code == 0

    run = CliRunner().invoke(app, ["validate", "--format", "json"])

    assert run.exit_code == 1, run.output
    reports = {r["migration"]: r for r in json.loads(run.output)["migrations"]}
    opened = reports["20250101000001_open"]
    assert opened["status"] == "invalid"
    [finding] = [f for f in opened["findings"] if f["code"] == "UNCLOSED_BEGIN"]
    assert (finding["severity"], finding["line"]) == ("error", 1)
    assert "BEGIN without a COMMIT" in finding["message"]
    closed = reports["20250101000002_closed"]
    assert [f for f in closed["findings"] if f["code"] == "UNCLOSED_BEGIN"] == []


def test_validate_refuses_a_forward_that_rolls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """validate called it valid: the generated rollback dropped a table never committed."""
    migrations = tmp_path / "supabase" / "migrations"
    migrations.mkdir(parents=True)
    (migrations / "20250101000001_gone.sql").write_text(
        "begin;\ncreate table public.a (id int);\nrollback;\n"
    )
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(app, ["generate"]).exit_code == 0

    run = CliRunner().invoke(app, ["validate", "--format", "json"])

    assert run.exit_code == 1, run.output
    [report] = json.loads(run.output)["migrations"]
    [finding] = [f for f in report["findings"] if f["code"] == "ROLLED_BACK"]
    assert (finding["severity"], finding["line"]) == ("error", 3)
