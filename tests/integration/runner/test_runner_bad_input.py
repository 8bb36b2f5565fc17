"""`execute` given the wrong file for a version, psql meta-commands, or a file that is no file.

Each is refused before anything changes (exit 3), with the file and what is wrong; in
particular a history row recorded under another name for the same version is never deleted.
"""

from __future__ import annotations

import os

import pytest
from runner_support import TIMELINE, Project, schema_fingerprint, timeline_project

pytestmark = pytest.mark.integration

PRECONDITION_FAILED = 3
OTHER = "20251113000001_other_feature"


@pytest.fixture
def timeline(project: Project) -> Project:
    timeline_project(project)
    return project


def history(project: Project) -> list[tuple[str, str]]:
    rows = project.sql(
        "SELECT version, name FROM supabase_migrations.schema_migrations ORDER BY version"
    )
    return [(str(v), str(n)) for v, n in rows]


def record_as_other(project: Project) -> None:
    """The database applied OTHER under the timeline's version (two files, one version)."""
    project.sql(
        "UPDATE supabase_migrations.schema_migrations SET name = 'other_feature' "
        "WHERE version = '20251113000001'"
    )


@pytest.mark.parametrize(
    "args",
    [
        pytest.param([TIMELINE], id="by-name"),
        pytest.param(["20251113000001"], id="by-version"),
        pytest.param(["--to", "20251101000000"], id="with-to"),
    ],
)
def test_a_history_row_of_another_migration_is_refused_untouched(
    timeline: Project, args: list[str]
) -> None:
    record_as_other(timeline)
    before_schema = schema_fingerprint(timeline.url)
    before_history = history(timeline)

    run = timeline.execute(*args)

    assert run.returncode == PRECONDITION_FAILED, run.stdout + run.stderr
    assert schema_fingerprint(timeline.url) == before_schema
    assert history(timeline) == before_history
    assert run.result is not None
    assert run.result["outcome"] == "failed"
    message = run.result["error"]["message"]
    assert "records version 20251113000001 as 'other_feature'" in message
    assert "timeline_social_features" in message
    assert "committed" not in run.stdout.lower()


def test_the_full_name_in_the_history_row_is_accepted(timeline: Project) -> None:
    timeline.sql(
        "UPDATE supabase_migrations.schema_migrations SET name = %s WHERE version = %s",
        [TIMELINE, "20251113000001"],
    )

    backups = timeline.root / "backups"
    backups.mkdir()

    run = timeline.execute(
        TIMELINE, "--allow-data-loss", "--backup", "pg-dump", "--backup-dir", str(backups)
    )

    assert run.returncode == 0, run.stdout + run.stderr
    assert "20251113000001" not in timeline.versions()


def test_a_history_table_without_names_is_checked_by_version_only(timeline: Project) -> None:
    timeline.sql("ALTER TABLE supabase_migrations.schema_migrations DROP COLUMN name")

    run = timeline.execute(TIMELINE, "--dry-run")

    assert run.returncode == 0, run.stdout + run.stderr


def test_the_other_migrations_file_rolls_back_its_own_row(timeline: Project) -> None:
    """With both files present, the one the history names is the one that runs."""
    record_as_other(timeline)
    timeline.add(OTHER, "SELECT 1;", "SELECT 1;\n", apply=False)
    (timeline.migrations / f"{TIMELINE}_rollback.sql").unlink()

    run = timeline.execute(OTHER)

    assert run.returncode == 0, run.stdout + run.stderr
    assert "20251113000001" not in timeline.versions()


@pytest.mark.parametrize(
    "meta", ["\\connect other_db", "\\i extra.sql", "\\set ON_ERROR_STOP on", "  \\gexec"]
)
def test_a_meta_command_in_the_rollback_is_refused_with_its_line(
    project: Project, meta: str
) -> None:
    project.add(
        "20251201000000_flags",
        "CREATE TABLE public.flags (id int);",
        f"DROP TABLE public.flags;\n{meta}\nSELECT 1;\n",
        header=False,
    )
    before = schema_fingerprint(project.url)

    run = project.execute("20251201000000_flags")

    assert run.returncode == PRECONDITION_FAILED
    assert schema_fingerprint(project.url) == before
    assert run.result is not None
    message = run.result["error"]["message"]
    assert "20251201000000_flags_rollback.sql:2: psql meta-command" in message
    assert meta.strip() in message


def test_a_backslash_line_in_a_dollar_quoted_body_is_not_a_meta_command(
    project: Project,
) -> None:
    project.add(
        "20251201000000_notes",
        "CREATE TABLE public.notes (t text);",
        "COMMENT ON TABLE public.notes IS $$line one\n\\not a command$$;\n"
        "DROP TABLE public.notes;\n",
        header=False,
    )

    run = project.execute("20251201000000_notes", "--dry-run")

    assert run.returncode == 0, run.stdout + run.stderr


def test_a_rollback_file_that_is_a_pipe_is_refused_without_blocking(timeline: Project) -> None:
    path = timeline.migrations / f"{TIMELINE}_rollback.sql"
    path.unlink()
    os.mkfifo(path)
    before = schema_fingerprint(timeline.url)

    run = timeline.execute(TIMELINE, timeout=60)

    assert run.returncode == PRECONDITION_FAILED
    assert schema_fingerprint(timeline.url) == before
    assert run.result is not None
    assert "named pipe" in run.result["error"]["message"]
    assert str(path.relative_to(timeline.root)) in run.result["error"]["message"]


def test_a_rollback_file_option_naming_a_directory_is_refused(timeline: Project) -> None:
    run = timeline.execute(TIMELINE, "--rollback-file", str(timeline.migrations))

    assert run.returncode == PRECONDITION_FAILED
    assert run.result is not None
    assert "a directory, not a regular file" in run.result["error"]["message"]
