"""`--pg-major` and `supabase/config.toml`: a bad setting is one clear line and exit 2, before
any shadow is started (the replays themselves: tests/integration/majors/)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from migration_rollback.cli import app
from migration_rollback.verify.majors import read_config_major


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("MIGRATION_ROLLBACK_SHADOW_URL", "MIGRATION_ROLLBACK_PG_MAJOR"):
        monkeypatch.delenv(name, raising=False)
    migrations = tmp_path / "supabase" / "migrations"
    migrations.mkdir(parents=True)
    (migrations / "20260101000001_t.sql").write_text("create table public.t (id int);\n")
    return tmp_path


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, " ".join(result.output.split())


@pytest.mark.parametrize("command", ["validate", "generate"])
def test_invalid_toml_is_one_error_line(project: Path, command: str) -> None:
    (project / "supabase" / "config.toml").write_text("[db\nmajor_version = 17\n")
    code, out = invoke(command, "--verify")
    assert code == 2, out
    assert "supabase/config.toml: not valid TOML" in out
    assert "--pg-major" in out
    assert not list(project.glob("supabase/migrations/*_rollback.sql"))


@pytest.mark.parametrize("command", ["validate", "generate"])
def test_a_major_that_is_not_one_is_named(project: Path, command: str) -> None:
    (project / "supabase" / "config.toml").write_text('[db]\nmajor_version = "seventeen"\n')
    code, out = invoke(command, "--verify")
    assert code == 2, out
    assert "supabase/config.toml: [db] major_version: expected a PostgreSQL major" in out


@pytest.mark.parametrize("command", ["validate", "generate"])
def test_the_flag_range_is_checked(project: Path, command: str) -> None:
    code, out = invoke(command, "--verify", "--pg-major", "9")
    assert code == 2, out
    assert "--pg-major" in out


def test_without_verify_the_config_is_not_read(project: Path) -> None:
    (project / "supabase" / "config.toml").write_text("not toml at all [")
    code, out = invoke("validate")
    assert code == 1, out  # no rollback yet: missing; the broken config did not matter


def test_the_config_beside_the_migrations_folder_wins(project: Path, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere" / "supabase"
    (other / "migrations").mkdir(parents=True)
    (other / "config.toml").write_text("[db]\nmajor_version = 15\n")
    (project / "supabase" / "config.toml").write_text("[db]\nmajor_version = 17\n")
    found = read_config_major(other / "migrations", cwd=project)
    assert found is not None
    assert (found.major, found.path) == (15, str(other / "config.toml"))
    # A --dir without a config beside it falls back to ./supabase/config.toml.
    (other / "config.toml").unlink()
    found = read_config_major(other / "migrations", cwd=project)
    assert found is not None
    assert found.major == 17


def test_no_config_anywhere_is_no_requirement(project: Path) -> None:
    assert read_config_major(project / "supabase" / "migrations", cwd=project) is None
