"""After a run that did not commit, the report, the summary and the JSON result say so.

The transaction archived tables and columns before it failed (or, in a dry run, before its
planned ROLLBACK); none of that exists afterwards, so none of it may be presented as done.
"""

from __future__ import annotations

import pytest
from runner_support import TIMELINE, Project, schema_fingerprint, timeline_project

pytestmark = pytest.mark.integration

SQL_ERROR = 5
ARCHIVES = {"public.timeline_likes", "public.profiles.bio"}


def fail_before_commit(project: Project) -> None:
    """Every drop (and so every archive) happens, then a division by zero."""
    path = project.migrations / f"{TIMELINE}_rollback.sql"
    path.write_text(path.read_text().replace("COMMIT;", "SELECT 1/0;\nCOMMIT;"))


def test_failed_run_reports_nothing_changed_and_no_restore_sql(project: Project) -> None:
    timeline_project(project)
    fail_before_commit(project)
    before = schema_fingerprint(project.url)

    run = project.execute(TIMELINE)

    assert run.returncode == SQL_ERROR, run.stdout + run.stderr
    assert schema_fingerprint(project.url) == before
    assert project.value("SELECT to_regnamespace('migration_rollback_archive')") is None
    assert run.report is not None
    report = run.report
    assert "## Archived data" not in report
    assert "To bring it back" not in report
    assert "SET SCHEMA" not in report  # no restore SQL for archives that do not exist
    assert "| Database changed | no: the transaction was rolled back |" in report
    assert "nothing was changed or archived" in report
    assert "which was rolled back: none of it was kept" in report
    undone = report.split("## Changes")[1]
    for source in ARCHIVES:
        assert source in undone
    assert "archived table" not in run.stdout
    assert "undone by the ROLLBACK" in run.stdout


def test_failed_run_result_file_agrees_with_the_report(project: Project) -> None:
    timeline_project(project)
    fail_before_commit(project)

    run = project.execute(TIMELINE)

    assert run.result is not None
    result = run.result
    assert (result["committed"], result["changed"]) == (False, False)
    assert result.get("archived", []) == []
    assert result.get("data_loss", []) == []
    assert result["rows_affected"] == 0
    undone = " ".join(result["rolled_back"])
    for source in ARCHIVES:
        assert source in undone
    assert "restore_hint" not in str(result)
    assert project.audit()[-1]["archived"] in (None, [])  # the audit row agrees too


def test_dry_run_reports_the_rehearsal_as_undone_and_warns_about_sequences(
    project: Project,
) -> None:
    timeline_project(project)
    path = project.migrations / f"{TIMELINE}_rollback.sql"
    # A rollback that restores a row draws from the profiles identity sequence.
    path.write_text(
        path.read_text().replace(
            "COMMIT;", "INSERT INTO public.profiles (name) VALUES ('restored');\nCOMMIT;"
        )
    )
    next_id = project.value("SELECT last_value FROM public.profiles_id_seq")

    run = project.execute(TIMELINE, "--dry-run")

    assert run.returncode == 0, run.stdout + run.stderr
    assert run.result is not None
    assert run.report is not None
    assert run.result.get("archived", []) == []
    assert project.value("SELECT last_value FROM public.profiles_id_seq") > next_id  # advanced
    (note,) = run.result["notes"]
    assert "nextval()" in note
    assert "INSERT INTO public.profiles" in note
    assert "nextval()" in run.stdout
    assert "## Notes" in run.report
    assert "INSERT INTO public.profiles" in run.report.split("## Notes")[1]
    assert "## Archived data" not in run.report
