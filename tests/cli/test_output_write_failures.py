"""A file the user asked for that cannot be written is one clear line and a non-zero exit.

`--result-file`, `--report` (execute), `--result-file` (apply) and `--output` (emergency) are
written after the work; when the write fails (a full disk: /dev/full, a folder gone by then)
the run used to end exit 0 with no file (execute: only a JSON log event), or with an internal
error and a traceback (apply). The database is never reached here (port 1), so each line says
nothing was changed; tests/integration/runner/test_runner_output_failures.py covers the
committed runs. These tests run as root too: they use failures no permission bit can waive.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from migration_rollback.runner.options import MigrationId, RunOptions
from migration_rollback.runner.output_file import write_output
from migration_rollback.runner.run import execute_rollback
from migration_rollback.runner.run_record import RunIO

PASSWORD = "s3cret-pw-4242"
UNREACHABLE = f"postgresql://app:{PASSWORD}@127.0.0.1:1/db"
CONNECTION_FAILED = 7
OUTPUT_FAILED = 15
USAGE = 2
FULL = "/dev/full"
NO_SPACE = os.strerror(28)  # ENOSPC, in the words the system gives


@pytest.fixture
def project(tmp_path: Path) -> Path:
    migrations = tmp_path / "supabase" / "migrations"
    migrations.mkdir(parents=True)
    (migrations / "20250101000001_t.sql").write_text("CREATE TABLE public.t (id int);\n")
    (migrations / "20250101000001_t_rollback.sql").write_text("DROP TABLE public.t;\n")
    return tmp_path


def cli(
    project: Path, *args: str, stdout: Any = subprocess.PIPE
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATION_ROLLBACK_")}
    env["MIGRATION_ROLLBACK_DATABASE_URL"] = UNREACHABLE
    return subprocess.run(
        [sys.executable, "-m", "migration_rollback", *args],
        cwd=project,
        env=env,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
    )


def cli_into_full_stdout(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The command with its stdout redirected to a full disk, as `... > out.txt` can be."""
    with open(FULL, "w") as full:
        return cli(project, *args, stdout=full)


def plain_lines(stderr: str) -> list[str]:
    """stderr without execute's JSON step lines."""
    return [line for line in stderr.splitlines() if not line.startswith("{")]


def assert_clean(run: subprocess.CompletedProcess[str]) -> None:
    everything = run.stdout + run.stderr
    assert "Traceback" not in everything
    assert "internal error" not in everything
    assert PASSWORD not in everything


@pytest.fixture(autouse=True)
def _dev_full() -> None:
    if not Path(FULL).exists():
        pytest.fail("/dev/full is missing: these tests need it to fill a disk")


def test_execute_result_file_on_a_full_disk_is_said_with_what_the_database_came_to(
    project: Path,
) -> None:
    run = cli(project, "execute", "20250101000001", "--result-file", FULL)

    assert run.returncode == CONNECTION_FAILED, run.stdout + run.stderr  # the run's own code
    assert plain_lines(run.stderr) == [
        "migration-rollback execute: error: rollback of 20250101000001 failed; nothing was "
        f"changed; could not write the result file {FULL}: {NO_SPACE}"
    ]
    assert_clean(run)


def test_execute_report_on_a_full_disk_is_in_the_result_file_too(project: Path) -> None:
    result = project / "result.json"

    run = cli(project, "execute", "20250101000001", "--report", FULL, "--result-file", str(result))

    assert run.returncode == CONNECTION_FAILED, run.stdout + run.stderr
    (line,) = plain_lines(run.stderr)
    assert line.endswith(f"could not write the report {FULL}: {NO_SPACE}")
    doc = json.loads(result.read_text())
    assert f"could not write the report {FULL}: {NO_SPACE}" in doc["warnings"]
    assert doc["exit_name"] == "CONNECTION_FAILED"
    assert_clean(run)


def test_apply_result_file_on_a_full_disk_is_one_line_not_a_traceback(project: Path) -> None:
    run = cli(project, "apply", "--result-file", FULL)

    assert run.returncode == CONNECTION_FAILED, run.stdout + run.stderr
    assert plain_lines(run.stderr) == [
        "migration-rollback apply: error: no migration was committed; could not write the "
        f"result file {FULL}: {NO_SPACE}"
    ]
    assert_clean(run)


def test_emergency_plan_on_a_full_disk_is_output_failed_not_a_usage_error(
    project: Path,
) -> None:
    full = cli(project, "emergency", "--output", FULL)
    folder = cli(project, "emergency", "--output", str(project))

    assert full.returncode == OUTPUT_FAILED, full.stdout + full.stderr
    assert f"cannot write the plan: {FULL}: {NO_SPACE}" in full.stdout
    assert_clean(full)
    # A path that is no file is a mistake in the command, as before.
    assert folder.returncode == USAGE, folder.stdout + folder.stderr
    assert "Is a directory" in folder.stdout


@pytest.mark.parametrize(
    ("where", "reason"),
    [
        (lambda tmp: tmp / "gone" / "r.json", os.strerror(2)),  # ENOENT
        (lambda tmp: tmp, os.strerror(21)),  # EISDIR
        (lambda tmp: Path(FULL), NO_SPACE),
    ],
    ids=["missing-folder", "a-folder", "full-disk"],
)
def test_write_output_names_the_systems_reason(
    tmp_path: Path, where: Callable[[Path], Path], reason: str
) -> None:
    failed = write_output("the result file", where(tmp_path), "{}\n")

    assert failed is not None
    assert failed.reason == reason


def test_write_output_writes_when_it_can(tmp_path: Path) -> None:
    assert write_output("the result file", tmp_path / "r.json", "{}\n") is None
    assert (tmp_path / "r.json").read_text() == "{}\n"


def test_a_folder_removed_during_the_run_is_said_and_the_password_is_not(
    project: Path,
) -> None:
    # The CLI refuses a missing folder before any work; the runner meets one only when it
    # went away during the run: the write itself fails, with the folder's name (here holding
    # the password, as a path may) scrubbed.
    gone = project / f"out-{PASSWORD}" / "result.json"
    stdout, stderr = io.StringIO(), io.StringIO()
    options = RunOptions(
        database_url=UNREACHABLE,
        migration=MigrationId.parse("20250101000001"),
        migrations_dir=project / "supabase" / "migrations",
        result_file=gone,
    )

    result = execute_rollback(options, RunIO(stdout, stderr, env={}))

    assert int(result.exit_code) == CONNECTION_FAILED
    (line,) = plain_lines(stderr.getvalue())
    assert line.startswith("migration-rollback execute: error: rollback of 20250101000001 failed")
    assert line.endswith(f"/result.json: {os.strerror(2)}")
    assert PASSWORD not in stdout.getvalue() + stderr.getvalue()


def test_a_link_into_a_missing_folder_is_refused_before_any_work(project: Path) -> None:
    link = project / "result.json"
    link.symlink_to(project / "gone" / "result.json")

    run = cli(project, "execute", "20250101000001", "--result-file", str(link))

    assert run.returncode == USAGE, run.stdout + run.stderr  # not the connection's 7
    assert f"the folder {project / 'gone'} does not exist" in run.stderr
    assert '"step": "connect"' not in run.stderr
    assert_clean(run)


def test_the_report_and_the_result_file_in_one_file_are_refused_before_any_work(
    project: Path,
) -> None:
    # The result would have replaced the report without a word.
    same = cli(project, "execute", "20250101000001", "--report", "out", "--result-file", "./out")
    devices = cli(
        project, "execute", "20250101000001", "--report", "/dev/null", "--result-file", "/dev/null"
    )

    assert same.returncode == USAGE, same.stdout + same.stderr
    assert "--report and --result-file name the same file out: give two paths" in same.stderr
    assert not (project / "out").exists()
    assert devices.returncode == CONNECTION_FAILED, devices.stdout + devices.stderr
    assert_clean(same)


def test_the_report_and_the_result_file_hard_linked_are_refused_before_any_work(
    project: Path,
) -> None:
    # Two names of one file (a hard link, not a symbolic one): the result replaced the report.
    (project / "report.md").write_text("kept\n")
    (project / "result.json").hardlink_to(project / "report.md")

    run = cli(
        project, "execute", "20250101000001", "--report", "report.md", "--result-file",
        "result.json",
    )  # fmt: skip

    assert run.returncode == USAGE, run.stdout + run.stderr
    assert "--report and --result-file name the same file result.json" in run.stderr
    assert (project / "report.md").read_text() == "kept\n"
    assert_clean(run)


@pytest.mark.parametrize("command", ["execute", "apply"])
def test_a_summary_lost_to_a_full_stdout_is_said_not_called_a_bug(
    project: Path, command: str
) -> None:
    result = project / "result.json"
    args = ["20250101000001"] if command == "execute" else []

    run = cli_into_full_stdout(project, command, *args, "--result-file", str(result))

    assert run.returncode == CONNECTION_FAILED, run.stderr  # was 1, "a bug"
    (line,) = plain_lines(run.stderr)
    assert line.startswith(f"migration-rollback {command}: error: ")
    assert line.endswith(f"; could not write the summary to stdout: {NO_SPACE}")
    assert (
        f"could not write the summary to stdout: {NO_SPACE}"
        in json.loads(result.read_text())["warnings"]
    )
    assert "internal error" not in run.stderr
    assert PASSWORD not in run.stderr


ROLLBACK_SQL = "supabase/migrations/20250101000001_t_rollback.sql"
FORWARD_SQL = "supabase/migrations/20250101000001_t.sql"


@pytest.mark.parametrize(
    ("command", "option", "target"),
    [
        ("execute", "--result-file", ROLLBACK_SQL),
        ("execute", "--report", f"./{FORWARD_SQL}"),
        ("execute", "--result-file", "link.sql"),  # a link to the rollback
        ("execute", "--report", "hard.sql"),  # a hard link to the forward: a name of its own
        ("apply", "--result-file", FORWARD_SQL),
    ],
    ids=[
        "result-over-rollback", "report-over-forward", "through-a-link", "through-a-hard-link",
        "apply-over-forward",
    ],
)  # fmt: skip
def test_an_output_naming_a_file_the_run_reads_is_refused_before_any_work(
    project: Path, command: str, option: str, target: str
) -> None:
    # The JSON written after the run replaced the migration's SQL without a word.
    (project / "link.sql").symlink_to(project / ROLLBACK_SQL)
    (project / "hard.sql").hardlink_to(project / FORWARD_SQL)
    before = {p: (project / p).read_text() for p in (ROLLBACK_SQL, FORWARD_SQL)}
    args = ["20250101000001"] if command == "execute" else []

    run = cli(project, command, *args, option, target)

    assert run.returncode == USAGE, run.stdout + run.stderr
    assert f"{option} {Path(target)} is a file the run reads: give another path" in run.stderr
    assert {p: (project / p).read_text() for p in before} == before
    assert_clean(run)


def test_a_rollback_file_given_is_no_output_either(project: Path) -> None:
    mine = project / "mine.sql"
    mine.write_text("DROP TABLE public.t;\n")

    run = cli(
        project, "execute", "20250101000001", "--rollback-file", str(mine), "--report", str(mine)
    )

    assert run.returncode == USAGE, run.stdout + run.stderr
    assert mine.read_text() == "DROP TABLE public.t;\n"


def test_a_path_with_a_line_break_is_refused_on_one_line(project: Path) -> None:
    # The usage error printed the name as it was: a second line of the attacker's choosing.
    forged = "migration-rollback: rollback of 20250101000001 committed"
    run = cli(project, "execute", "20250101000001", "--report", f"/nope\n{forged}/r.json")

    assert run.returncode == USAGE, run.stdout + run.stderr
    assert not any(line.startswith(forged) for line in run.stderr.splitlines())
    assert "/nope\\nmigration-rollback" in run.stderr
