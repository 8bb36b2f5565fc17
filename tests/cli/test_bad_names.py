"""File names and contents that used to pass in silence or stop the whole command: a name
with bytes that are not UTF-8 (the command died mid-output with a UnicodeEncodeError and the
files after it were never processed), an upper-case `.SQL` (skipped without a word) and a
migration with no statement in it (valid, without a word); and an output file that cannot be
written (found only after the run: `apply` committed, then ended as an internal error)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LATIN = b"20250101000002_caf\xe9.sql"


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return cli_env(cwd, list(args), {})


def cli_env(cwd: Path, args: list[str], extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The real entry point in a subprocess: the crash was in writing to a real stream."""
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'operator'}{os.pathsep}{REPO}", **extra}
    env.pop("MIGRATION_ROLLBACK_TRACEBACK", None)
    return subprocess.run(
        [sys.executable, "-m", "migration_rollback", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    migrations = tmp_path / "supabase" / "migrations"
    migrations.mkdir(parents=True)
    (migrations / "20250101000001_first.sql").write_text("create table public.a (id int);\n")
    with open(os.fsencode(migrations) + b"/" + LATIN, "wb") as latin:
        latin.write(b"create table public.b (id int);\n")
    (migrations / "20250101000003_last.sql").write_text("create table public.c (id int);\n")
    (migrations / "20250101000004_shout.SQL").write_text("create table public.d (id int);\n")
    (migrations / "20250101000005_empty.sql").write_text("-- nothing yet\n\n")
    return tmp_path


def test_generate_names_the_file_and_goes_on(project: Path) -> None:
    run = cli(project, "generate")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "internal error" not in run.stderr
    assert "20250101000002_caf\\xe9.sql: the file name is not UTF-8 text: rename it" in run.stdout
    migrations = project / "supabase" / "migrations"
    assert (migrations / "20250101000003_last_rollback.sql").is_file()  # after the bad one


def test_validate_marks_it_invalid_and_warns_of_the_others(project: Path) -> None:
    cli(project, "generate")
    run = cli(project, "validate", "--format", "json")
    assert run.returncode == 1, run.stdout + run.stderr
    reports = {m["migration"]: m for m in json.loads(run.stdout)["migrations"]}
    (finding,) = reports["20250101000002_caf\\xe9"]["findings"]
    assert (finding["code"], finding["file"]) == ("ENCODING", "20250101000002_caf\\xe9.sql")
    assert reports["20250101000003_last"]["status"] == "valid"
    empty = [f for f in reports["20250101000005_empty"]["findings"] if f["code"] == "EMPTY"]
    assert [f["severity"] for f in empty] == ["warning"]
    assert "holds no SQL statement" in empty[0]["message"]
    assert "20250101000004_shout.SQL: ignored: not '.sql' in lower case" in run.stderr


def test_emergency_plan_is_written(project: Path) -> None:
    cli(project, "generate")
    run = cli(project, "emergency")
    assert run.returncode == 0, run.stdout + run.stderr
    assert (project / "scripts" / "EMERGENCY_ROLLBACK_PLAN.md").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["execute", "20250101000001", "--result-file", "."], "--result-file .: is a directory"),
        (
            ["execute", "20250101000001", "--report", "no/such/folder/r.md"],
            "--report no/such/folder/r.md: the folder no/such/folder does not exist",
        ),
        (["apply", "--result-file", "."], "--result-file .: is a directory"),
    ],
    ids=["execute-result-dir", "execute-report-no-folder", "apply-result-dir"],
)
def test_an_output_file_that_cannot_be_written_is_refused_before_any_work(
    project: Path, args: list[str], message: str
) -> None:
    # The database is never reached (port 1): the refusal comes first. apply used to apply,
    # commit, then end "internal error: IsADirectoryError" (exit 1); execute said nothing.
    run = cli_env(
        project, args, {"MIGRATION_ROLLBACK_DATABASE_URL": "postgresql://u@127.0.0.1:1/d"}
    )
    assert run.returncode == 2, run.stdout + run.stderr
    assert message in run.stderr
    assert "internal error" not in run.stderr


def test_an_existing_writable_file_in_a_read_only_folder_is_accepted(tmp_path: Path) -> None:
    # The Job writes its result to /dev/termination-log: the file is writable, /dev is not.
    from migration_rollback.cli.app import output_path_problem

    target = tmp_path / "termination-log"
    target.write_text("")
    assert output_path_problem("--result-file", target) is None
    assert output_path_problem("--result-file", tmp_path) is not None
