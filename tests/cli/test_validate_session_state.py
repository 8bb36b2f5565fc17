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
