"""`emergency --output` never writes over a migration, a rollback or another file: the next
apply or execute would read Markdown as SQL (adversarial round 35, section 9). An earlier plan
is overwritten (regenerating it is the point)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from migration_rollback.cli import app

FORWARD = "CREATE TABLE public.t (id int PRIMARY KEY);\n"


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    migrations = tmp_path / "supabase" / "migrations"
    migrations.mkdir(parents=True)
    (migrations / "20250301000000_t.sql").write_text(FORWARD)
    (tmp_path / "notes.md").write_text("my notes\n")
    monkeypatch.chdir(tmp_path)
    return migrations


@pytest.mark.parametrize(
    ("output", "why"),
    [
        ("supabase/migrations/20250301000000_t.sql", "is an SQL file"),
        ("supabase/migrations/plan.md", "is in the migrations folder"),
        ("elsewhere/new.SQL", "is an SQL file"),
        ("notes.md", "exists and is not an emergency plan"),
    ],
)
def test_the_plan_is_not_written_over_what_is_not_a_plan(
    folder: Path, output: str, why: str
) -> None:
    before = {p: p.read_bytes() for p in folder.parent.parent.rglob("*") if p.is_file()}
    result = CliRunner().invoke(app, ["emergency", "--output", output])
    assert result.exit_code == 2, result.output
    assert why in result.output
    after = {p: p.read_bytes() for p in folder.parent.parent.rglob("*") if p.is_file()}
    assert after == before


def test_an_earlier_plan_is_written_again(folder: Path) -> None:
    for _ in range(2):
        result = CliRunner().invoke(app, ["emergency", "--output", "plan.md"])
        assert result.exit_code == 0, result.output
    assert Path("plan.md").read_text().startswith("# Emergency rollback plan\n")
