"""A committed run whose result file or report cannot be written says so, and says it committed.

A CI step that asks for `--result-file` and gets exit 0 with no file has been misled; apply
ended such a run with a traceback after its COMMITs. Here the writes fail for real (/dev/full:
the disk is full however privileged the test is, a folder removed during the run), after real
work on a real database: the exit is OUTPUT_FAILED (15), one line names the file and the
reason, and the database outcome is what the line and the history table say. The URL carries a
password (the shared server trusts local connections, so any password works) that no output
may show.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
from pathlib import Path

import pytest
from capture_support import cli
from psycopg.conninfo import make_conninfo
from runner_support import BASE, TIMELINE, Project, timeline_project

from migration_rollback.runner import MigrationId, RunIO, RunOptions, execute_rollback

pytestmark = pytest.mark.integration

OUTPUT_FAILED = 15
FULL = "/dev/full"
NO_SPACE = os.strerror(28)
PASSWORD = "w3-never-show-this"
BASE_VERSION = BASE.split("_")[0]
TIMELINE_VERSION = TIMELINE.split("_")[0]


def with_password(project: Project) -> str:
    return make_conninfo(project.url, password=PASSWORD)


def execute(project: Project, *args: str) -> subprocess.CompletedProcess[str]:
    """`execute` with exactly the output options given (Project.execute adds its own)."""
    return subprocess.run(
        project.command(*args),
        cwd=project.root,
        env=project.environment(with_password(project)),
        capture_output=True,
        text=True,
        timeout=120,
    )


def plain_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if not line.startswith("{")]


def assert_clean(run: subprocess.CompletedProcess[str]) -> None:
    everything = run.stdout + run.stderr
    assert "Traceback" not in everything
    assert "internal error" not in everything
    assert PASSWORD not in everything


def test_committed_rollback_with_a_full_disk_result_file_exits_output_failed(
    project: Project,
) -> None:
    timeline_project(project)

    run = execute(project, TIMELINE, "--result-file", FULL)

    assert run.returncode == OUTPUT_FAILED, run.stdout + run.stderr
    assert plain_lines(run.stderr) == [
        f"migration-rollback execute: error: rollback of {TIMELINE} committed; could not "
        f"write the result file {FULL}: {NO_SPACE}"
    ]
    assert "exit 15 (OUTPUT_FAILED)" in run.stdout
    assert project.versions() == [BASE_VERSION]  # the rollback is done, not half done
    assert [a["outcome"] for a in project.audit()] == ["succeeded"]
    assert_clean(run)


def test_a_report_lost_to_a_full_disk_is_in_the_result_file(project: Project) -> None:
    timeline_project(project)
    result = project.root / "result.json"

    run = execute(project, TIMELINE, "--report", FULL, "--result-file", str(result))

    assert run.returncode == OUTPUT_FAILED, run.stdout + run.stderr
    (line,) = plain_lines(run.stderr)
    assert line.endswith(f"committed; could not write the report {FULL}: {NO_SPACE}")
    doc = json.loads(result.read_text())
    assert (doc["outcome"], doc["committed"]) == ("succeeded", True)
    assert (doc["exit_code"], doc["exit_name"]) == (OUTPUT_FAILED, "OUTPUT_FAILED")
    assert f"could not write the report {FULL}: {NO_SPACE}" in doc["warnings"]
    assert project.versions() == [BASE_VERSION]
    assert_clean(run)


def test_a_dry_run_with_a_full_disk_result_file_says_nothing_was_changed(
    project: Project,
) -> None:
    timeline_project(project)

    run = execute(project, TIMELINE, "--dry-run", "--result-file", FULL)

    assert run.returncode == OUTPUT_FAILED, run.stdout + run.stderr
    (line,) = plain_lines(run.stderr)
    assert line.startswith(f"migration-rollback execute: error: dry run of {TIMELINE} passed; ")
    assert "nothing was changed" in line
    assert project.versions() == [BASE_VERSION, TIMELINE_VERSION]
    assert_clean(run)


def test_a_result_folder_removed_during_the_run_is_said_after_the_commit(
    project: Project, tmp_path: Path
) -> None:
    # The CLI refuses a missing folder before any work; one removed while the run goes on is
    # met by the write itself (the runner is called as the CLI calls it, minus that check).
    timeline_project(project)
    stdout, stderr = io.StringIO(), io.StringIO()
    gone = tmp_path / "removed" / "result.json"
    options = RunOptions(
        database_url=with_password(project),
        migration=MigrationId.parse(TIMELINE),
        migrations_dir=project.migrations,
        result_file=gone,
    )

    result = execute_rollback(options, RunIO(stdout, stderr, env={}))

    assert int(result.exit_code) == OUTPUT_FAILED
    (line,) = plain_lines(stderr.getvalue())
    assert line == (
        f"migration-rollback execute: error: rollback of {TIMELINE} committed; could not write "
        f"the result file {gone}: {os.strerror(2)}"
    )
    assert project.versions() == [BASE_VERSION]
    assert PASSWORD not in stdout.getvalue() + stderr.getvalue()


def test_apply_with_a_full_disk_result_file_says_what_it_committed(project: Project) -> None:
    name = "20250101000001_t"
    (project.migrations / f"{name}.sql").write_text("CREATE TABLE public.t (id int);\n")
    env = project.environment(with_password(project))

    run = subprocess.run(
        [*project.command()[:-1], "apply", "--result-file", FULL],
        cwd=project.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert run.returncode == OUTPUT_FAILED, run.stdout + run.stderr
    assert plain_lines(run.stderr) == [
        "migration-rollback apply: error: 1 migration(s) committed (20250101000001); could not "
        f"write the result file {FULL}: {NO_SPACE}"
    ]
    assert project.versions() == ["20250101000001"]
    assert project.value("SELECT to_regclass('public.t')") is not None
    assert_clean(run)
    # Nothing is left half done: a second apply finds nothing to apply.
    again = cli(project, "apply")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "nothing to apply" in again.stdout


def test_a_committed_rollback_whose_stdout_is_full_is_not_called_a_bug(project: Project) -> None:
    # It was "internal error ... (a bug)", exit 1, whose meaning is "nothing was committed",
    # after a COMMIT, while the result file, written first, said OK.
    timeline_project(project)
    result = project.root / "result.json"

    with open(FULL, "w") as full:
        run = subprocess.run(
            project.command(TIMELINE, "--result-file", str(result)),
            cwd=project.root,
            env=project.environment(with_password(project)),
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )

    assert run.returncode == OUTPUT_FAILED, run.stderr
    assert plain_lines(run.stderr) == [
        f"migration-rollback execute: error: rollback of {TIMELINE} committed; could not "
        f"write the summary to stdout: {NO_SPACE}"
    ]
    doc = json.loads(result.read_text())
    assert (doc["committed"], doc["exit_name"]) == (True, "OUTPUT_FAILED")
    assert project.versions() == [BASE_VERSION]
    assert PASSWORD not in run.stderr + result.read_text()
