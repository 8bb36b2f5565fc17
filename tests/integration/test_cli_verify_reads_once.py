"""`validate --verify` runs on the shadow the rollback text it validated: each file read once.

Verify read every rollback file again (and the shared-effects check a third time): a file
changed between the reads was validated as one text and verified as another.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from migration_rollback.cli import app
from migration_rollback.project import migrations

pytestmark = pytest.mark.integration
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "supabase" / "migrations"


def test_each_rollback_file_is_read_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_server: Any
) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "supabase" / "migrations")
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(app, ["generate"]).exit_code == 0
    reads: Counter[str] = Counter()
    real = migrations.read_in_folder

    def counting(path: Path) -> bytes:
        reads[path.name] += 1
        return real(path)

    monkeypatch.setattr(migrations, "read_in_folder", counting)
    args = ["validate", "--verify", "--jobs", "1", "--shadow-url", pg_server.admin_url]
    result = CliRunner().invoke(app, args)
    assert "verified" in result.output, result.output
    rollbacks = {name: n for name, n in reads.items() if name.endswith("_rollback.sql")}
    assert len(rollbacks) == 4, reads
    assert set(rollbacks.values()) == {1}, reads
