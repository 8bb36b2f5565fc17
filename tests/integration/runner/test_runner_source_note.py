"""A rollback whose forward migration is not in the folder runs without the Source-SHA256 check
(by design for the operator's Job, whose ConfigMap holds only the rollbacks). From the command
line that was silent: a migration deleted or renamed since, or the wrong --dir, looked checked.
Now the summary and the report name the file and say the check was skipped; the exit code and
the JSON result (the Job's termination message) are as before."""

from __future__ import annotations

import json

import pytest
from runner_support import TIMELINE, Project, timeline_project

pytestmark = pytest.mark.integration

SKIPPED = "source check skipped"


def test_a_missing_forward_migration_is_named_and_the_run_goes_on(project: Project) -> None:
    timeline_project(project)
    checked = project.execute(TIMELINE, "--dry-run", tag="checked")
    (project.migrations / f"{TIMELINE}.sql").unlink()
    unchecked = project.execute(TIMELINE, "--dry-run", tag="unchecked")

    assert checked.returncode == unchecked.returncode == 0, unchecked.stdout + unchecked.stderr
    assert SKIPPED not in checked.stdout
    note = [line for line in unchecked.stdout.splitlines() if SKIPPED in line]
    assert len(note) == 1, unchecked.stdout
    assert f"migrations/{TIMELINE}.sql is not there" in note[0]
    assert "Source-SHA256" in note[0]
    assert unchecked.report is not None
    assert f"{TIMELINE}.sql is not there" in unchecked.report
    assert unchecked.result is not None
    assert SKIPPED not in json.dumps(unchecked.result)


def test_a_rollback_without_a_pinned_source_has_nothing_to_skip(project: Project) -> None:
    # A hand-written rollback pins no forward file: no check, and no note about one.
    timeline_project(project)
    rollback = project.migrations / f"{TIMELINE}_rollback.sql"
    rollback.write_text(
        "".join(line for line in rollback.read_text().splitlines(keepends=True)
                if not line.startswith("-- Source-SHA256:"))
    )  # fmt: skip
    (project.migrations / f"{TIMELINE}.sql").unlink()
    run = project.execute(TIMELINE, "--dry-run")

    assert run.returncode == 0, run.stdout + run.stderr
    assert SKIPPED not in run.stdout
