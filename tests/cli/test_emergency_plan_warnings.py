"""What the emergency plan must not leave out: the warnings that change what a command does.

The plan is what is read at 3 a.m. A version shared by two files is exactly the doubt that
decides which rollback is the right one (the history row names one of them): `validate` warns
(DUPLICATE_VERSION), so the plan must say it beside that migration too, in its table row and
its section. A file name holding a line break is shown escaped, one table row per migration.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from migration_rollback.cli import app

SQL = "CREATE TABLE public.{0} (id int PRIMARY KEY);\n"


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    migrations = tmp_path / "supabase" / "migrations"
    migrations.mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    return migrations


def plan(folder: Path) -> str:
    for command in (["generate"], ["emergency"]):
        result = CliRunner().invoke(app, command)
        assert result.exit_code in (0, 1), result.output
    return (folder.parent.parent / "scripts" / "EMERGENCY_ROLLBACK_PLAN.md").read_text()


def table_rows(text: str) -> list[str]:
    start = text.index("|---|")
    return text[start:].split("\n\n", 1)[0].splitlines()[1:]


def test_a_shared_version_is_said_in_the_table_and_the_section(folder: Path) -> None:
    (folder / "20250101000001_a.sql").write_text(SQL.format("a"))
    (folder / "20250101000001_b.sql").write_text(SQL.format("b"))

    text = plan(folder)

    for row in table_rows(text):
        assert "version shared" in row, row
    sections = text.split("\n### ")[1:]
    assert len(sections) == 2
    for section in sections:
        assert "DUPLICATE_VERSION" in section
        assert "20250101000001_a.sql, 20250101000001_b.sql" in section


def test_a_line_break_in_a_file_name_stays_in_its_row(folder: Path) -> None:
    (folder / "20250101000001_a.sql").write_text(SQL.format("a"))
    (folder / "20250101000002_new\nline.sql").write_text(SQL.format("b"))

    text = plan(folder)

    rows = table_rows(text)
    assert len(rows) == 2, rows
    assert any("20250101000002_new\\nline" in row for row in rows)
    assert "### `20250101000002_new\\nline`" in text
