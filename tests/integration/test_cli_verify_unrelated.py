"""`validate --verify` with a hand-added TRUNCATE of an older table (adversarial finding A3).

Verification compares catalogs, so the rows it destroys are invisible to it: the static check
names the line as an error (the gate fails), and the verdict reads "verified (schema only)",
also when the file's mark keeps the statement on purpose.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from migration_rollback.cli import app
from migration_rollback.sql.unrelated import ALLOW_UNRELATED_MARK

pytestmark = pytest.mark.integration
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "supabase" / "migrations"
TWEAKS = "20251120000001_profile_tweaks"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(EXAMPLES, tmp_path / "supabase" / "migrations")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "supabase" / "migrations"


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def _tamper(project: Path, shadow: str, mark: bool) -> int:
    """Append a TRUNCATE of app_settings (older than the migration, which only adds a row)."""
    assert invoke("generate", "--verify", "--shadow-url", shadow)[0] == 0
    path = project / f"{TWEAKS}_rollback.sql"
    text = path.read_text() + "TRUNCATE public.app_settings;\n"
    if mark:
        text = f"{ALLOW_UNRELATED_MARK}\n{text}"
    path.write_text(text)
    return text.count("\n")  # the TRUNCATE's line


def test_a_truncate_of_an_older_table_fails_the_gate(project: Path, pg_server: Any) -> None:
    line = _tamper(project, pg_server.admin_url, mark=False)
    code, out = invoke(
        "validate", "--verify", "--shadow-url", pg_server.admin_url, "--format", "json"
    )
    assert code == 1, out
    tweaks = next(m for m in json.loads(out)["migrations"] if m["migration"] == TWEAKS)
    assert tweaks["status"] == "invalid"
    [unrelated] = [f for f in tweaks["findings"] if f["code"] == "UNRELATED"]
    assert (unrelated["file"], unrelated["line"]) == (f"{TWEAKS}_rollback.sql", line)
    assert "rows of table app_settings" in unrelated["message"]
    assert tweaks["verification"]["scope"] == "schema only"


def test_the_mark_passes_it_as_verified_schema_only(project: Path, pg_server: Any) -> None:
    _tamper(project, pg_server.admin_url, mark=True)
    code, out = invoke("validate", "--verify", "--shadow-url", pg_server.admin_url)
    assert code == 0, out
    [row] = [line for line in out.splitlines() if TWEAKS in line and "valid" in line]
    assert "verified (schema only)" in row, out
    assert "warning: UNRELATED" in out
