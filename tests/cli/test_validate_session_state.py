"""`validate` calls a rollback invalid when `execute` would refuse it for changing the runner's
session (sql/session_state.py), naming the file and line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from migration_rollback.cli import app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "supabase" / "migrations"
SOCIAL = "20251113000001_timeline_social_features"


def test_a_rollback_setting_lock_timeout_is_invalid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "supabase" / "migrations")
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(app, ["generate"]).exit_code == 0
    rollback = tmp_path / "supabase" / "migrations" / f"{SOCIAL}_rollback.sql"
    lines = rollback.read_text().splitlines()
    rollback.write_text("\n".join([*lines, "SET lock_timeout = 0;", ""]))

    result = CliRunner().invoke(app, ["validate", "--format", "json"])

    assert result.exit_code == 1, result.output
    reports = {m["migration"]: m for m in json.loads(result.output)["migrations"]}
    assert reports[SOCIAL]["status"] == "invalid"
    (finding,) = [f for f in reports[SOCIAL]["findings"] if f["code"] == "SESSION_STATE"]
    assert finding["file"] == rollback.name
    assert finding["line"] == len(lines) + 1
    assert finding["message"].startswith("execute refuses it: SET lock_timeout changes")
    others = [m["status"] for name, m in reports.items() if name != SOCIAL]
    assert "invalid" not in others


def test_a_forward_with_a_dump_header_is_valid_with_applys_warnings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrations = tmp_path / "supabase" / "migrations"
    migrations.mkdir(parents=True)
    forward = migrations / "20250101000000_remote_schema.sql"
    forward.write_text(
        "SET statement_timeout = 0;\nSET lock_timeout = 0;\nSET client_encoding = 'UTF8';\n"
        "CREATE TABLE public.t (id int);\nSET ROLE postgres;\n"
    )
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(app, ["generate"]).exit_code == 0

    result = CliRunner().invoke(app, ["validate", "--format", "json"])

    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.output)["migrations"]
    assert report["status"] == "valid"
    found = [(f["line"], f["severity"], f["message"]) for f in report["findings"]
             if f["code"] == "SESSION_STATE"]  # fmt: skip
    assert [(line, severity) for line, severity, _ in found] == [
        (1, "warning"), (2, "warning"), (5, "warning")
    ]  # fmt: skip
    assert found[0][2].startswith(
        "`SET statement_timeout = 0` changes the runner's timeouts: apply keeps its own"
    )
    assert found[2][2].startswith("`SET ROLE postgres` changes the role")
