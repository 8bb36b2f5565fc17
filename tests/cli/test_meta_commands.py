"""A migration holding psql meta-commands is never `valid`: each one is listed with file:line.

The parser blanks them so that pg_dump-style files still parse; what `\\i other.sql` or
`\\connect` did is invisible to the engine, so `generate`, `validate` and `emergency` say so.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from migration_rollback.cli import app

META = "20250101000001_with_meta"
PLAIN = "20250101000000_plain"
FORWARD = (
    "\\set ON_ERROR_STOP on\n"
    "create table public.a (id int);\n"
    "\\i extra.sql\n"
    "create function public.f() returns int language sql as $$\n"
    "\\i not a meta-command inside a body\n"
    "select 1 $$;\n"
    "\\connect other\n"
)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    migrations = tmp_path / "supabase" / "migrations"
    migrations.mkdir(parents=True)
    (migrations / f"{PLAIN}.sql").write_text("create table public.p (id int);\n")
    (migrations / f"{META}.sql").write_text(FORWARD)
    monkeypatch.chdir(tmp_path)
    return migrations


def test_generate_names_each_meta_command_and_lists_it_in_the_doc(project: Path) -> None:
    code, out = run("generate")
    assert code == 0, out
    for line in (1, 3, 7):
        assert f"{META}.sql:{line}: psql meta-command" in out
    assert f"{META}.sql:5:" not in out
    doc = (project / f"{META}_rollback.md").read_text()
    assert f"{META}.sql:3: psql meta-command '\\i extra.sql'" in doc
    assert "| Manual items | 3 |" in doc


def test_validate_is_manual_with_file_and_line(project: Path) -> None:
    run("generate")
    code, out = run("validate", "--format", "json")
    assert code == 0, out
    reports = {m["migration"]: m for m in json.loads(out)["migrations"]}
    assert reports[PLAIN]["status"] == "valid"
    assert reports[META]["status"] == "manual"
    meta = [f for f in reports[META]["findings"] if f["code"] == "META_COMMAND"]
    assert [(f["file"], f["line"], f["severity"]) for f in meta] == [
        (f"{META}.sql", 1, "manual"),
        (f"{META}.sql", 3, "manual"),
        (f"{META}.sql", 7, "manual"),
    ]
    assert "\\connect other" in meta[2]["message"]


def test_text_validate_shows_file_and_line(project: Path) -> None:
    run("generate")
    code, out = run("validate")
    assert code == 0
    assert f"manual: META_COMMAND: {META}.sql:3: psql meta-command '\\i extra.sql'" in out


def test_a_meta_command_in_the_rollback_makes_it_invalid(project: Path) -> None:
    run("generate")
    rollback = project / f"{PLAIN}_rollback.sql"
    rollback.write_text(rollback.read_text() + "\\connect elsewhere\n")
    code, out = run("validate", "--format", "json")
    assert code == 1
    reports = {m["migration"]: m for m in json.loads(out)["migrations"]}
    assert reports[PLAIN]["status"] == "invalid"
    (meta,) = [f for f in reports[PLAIN]["findings"] if f["code"] == "META_COMMAND"]
    assert meta["file"] == f"{PLAIN}_rollback.sql"
    assert meta["line"] == len(rollback.read_text().splitlines())


def test_emergency_plan_flags_the_migration(project: Path) -> None:
    run("generate")
    code, out = run("emergency")
    assert code == 0, out
    plan = (project.parent.parent / "scripts" / "EMERGENCY_ROLLBACK_PLAN.md").read_text()
    section = plan.split(f"### `{META}`", 1)[1].split("### ", 1)[0]
    assert section.startswith(" — needs a human first")
    assert "- META_COMMAND (line 3): psql meta-command '\\i extra.sql'" in section
    assert "- META_COMMAND (line 7)" in section
