"""Every reason to refuse a rollback: each one clear, with its exit code, database untouched."""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

import pytest
from runner_support import TIMELINE, Project, schema_fingerprint, timeline_project

pytestmark = pytest.mark.integration

PRECONDITION_FAILED = 3
BACKUP_FAILED = 6
CONNECTION_FAILED = 7
USAGE = 2


@pytest.fixture
def timeline(project: Project) -> Project:
    timeline_project(project)
    return project


def _refused(project: Project, before: object, run_code: int, expected: int) -> None:
    assert run_code == expected
    assert schema_fingerprint(project.url) == before


def test_migration_not_in_history(timeline: Project) -> None:
    timeline.sql(
        "DELETE FROM supabase_migrations.schema_migrations WHERE version = '20251113000001'"
    )
    before = schema_fingerprint(timeline.url)

    run = timeline.execute(TIMELINE)

    _refused(timeline, before, run.returncode, PRECONDITION_FAILED)
    assert run.result is not None
    assert "20251113000001 is not recorded as applied" in run.result["error"]["message"]
    assert "not recorded as applied" in run.stdout
    assert [a["outcome"] for a in timeline.audit()] == ["failed"]


def test_sha256_mismatch(timeline: Project) -> None:
    before = schema_fingerprint(timeline.url)

    run = timeline.execute(TIMELINE, "--expect-sha256", "0" * 64)

    _refused(timeline, before, run.returncode, PRECONDITION_FAILED)
    assert run.result is not None
    assert "--expect-sha256 pins 000" in run.result["error"]["message"]


def test_sha256_match_is_accepted(timeline: Project) -> None:
    data = (timeline.migrations / f"{TIMELINE}_rollback.sql").read_bytes()

    run = timeline.execute(TIMELINE, "--expect-sha256", hashlib.sha256(data).hexdigest())

    assert run.returncode == 0, run.stdout + run.stderr


def test_forward_migration_changed_since_generation(timeline: Project) -> None:
    forward = timeline.migrations / f"{TIMELINE}.sql"
    forward.write_text(forward.read_text() + "\n-- edited after the rollback was generated\n")
    before = schema_fingerprint(timeline.url)

    run = timeline.execute(TIMELINE)

    _refused(timeline, before, run.returncode, PRECONDITION_FAILED)
    assert run.result is not None
    assert "generated from a migration with sha256" in run.result["error"]["message"]


def test_header_naming_another_migration(timeline: Project) -> None:
    path = timeline.migrations / f"{TIMELINE}_rollback.sql"
    path.write_text(path.read_text().replace(f"-- ROLLBACK: {TIMELINE}", "-- ROLLBACK: 1_other"))
    before = schema_fingerprint(timeline.url)

    run = timeline.execute(TIMELINE)

    _refused(timeline, before, run.returncode, PRECONDITION_FAILED)


def test_missing_rollback_file(timeline: Project) -> None:
    (timeline.migrations / f"{TIMELINE}_rollback.sql").unlink()
    before = schema_fingerprint(timeline.url)

    run = timeline.execute(TIMELINE)

    _refused(timeline, before, run.returncode, PRECONDITION_FAILED)
    assert run.result is not None
    assert "cannot read the rollback" in run.result["error"]["message"]


def test_rollback_that_does_not_parse_names_file_line_and_column(project: Project) -> None:
    project.add("20251201000000_bad", "SELECT 1;", "DROP TABLE x;\nDROP TABEL y;\n", header=False)
    before = schema_fingerprint(project.url)

    run = project.execute("20251201000000_bad")

    _refused(project, before, run.returncode, PRECONDITION_FAILED)
    assert run.result is not None
    assert "20251201000000_bad_rollback.sql:2:" in run.result["error"]["message"]


def test_manual_markers_stop_the_run_unless_allowed(project: Project) -> None:
    project.add(
        "20251201000000_seed",
        "CREATE TABLE public.flags (id int);",
        "-- MANUAL: review the rows inserted into flags\nDROP TABLE public.flags;\n",
    )
    before = schema_fingerprint(project.url)

    refused = project.execute("20251201000000_seed", tag="refused")
    _refused(project, before, refused.returncode, PRECONDITION_FAILED)
    assert refused.result is not None
    assert "review the rows inserted into flags" in refused.result["error"]["message"]

    allowed = project.execute("20251201000000_seed", "--allow-manual", tag="allowed")
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr


def test_destructive_rollback_needs_allow_data_loss(project: Project) -> None:
    project.add(
        "20251201000000_seed",
        "CREATE TABLE public.flags (id int); INSERT INTO public.flags VALUES (1);",
        "TRUNCATE public.flags;\n",
    )
    before = schema_fingerprint(project.url)

    run = project.execute("20251201000000_seed")

    _refused(project, before, run.returncode, PRECONDITION_FAILED)
    assert run.result is not None
    assert "--allow-data-loss" in run.result["error"]["message"]
    assert project.value("SELECT count(*) FROM public.flags") == 1


def test_destructive_rollback_with_backup_none_is_refused(project: Project) -> None:
    project.add(
        "20251201000000_seed",
        "CREATE TABLE public.flags (id int); INSERT INTO public.flags VALUES (1);",
        "DELETE FROM public.flags;\n",
    )
    before = schema_fingerprint(project.url)

    run = project.execute("20251201000000_seed", "--allow-data-loss", "--backup", "none")

    _refused(project, before, run.returncode, PRECONDITION_FAILED)
    assert run.result is not None
    assert "--backup none" in run.result["error"]["message"]


def _mood_project(project: Project, rollback: str) -> None:
    project.add(
        "20251201000000_mood",
        "CREATE TYPE public.mood AS ENUM ('ok', 'sad');"
        "CREATE TABLE public.diary (id int PRIMARY KEY, mood public.mood);"
        "INSERT INTO public.diary VALUES (1, 'ok');",
        rollback,
    )


def test_a_cascade_counts_as_data_loss_before_anything_runs(project: Project) -> None:
    # DROP TYPE ... CASCADE drops every column of that type: announced, so refused up front.
    _mood_project(project, "DROP TYPE public.mood CASCADE;\n")
    before = schema_fingerprint(project.url)

    run = project.execute("20251201000000_mood")

    _refused(project, before, run.returncode, PRECONDITION_FAILED)
    assert run.result is not None
    assert "CASCADE" in run.result["error"]["message"]


def test_unannounced_data_loss_is_caught_before_commit(project: Project) -> None:
    # Code the classifier cannot see into drops a column: only the post-check can tell.
    _mood_project(
        project,
        "DO $$ BEGIN EXECUTE 'ALTER TABLE public.diary DROP COLUMN mood'; END $$;\n",
    )
    before = schema_fingerprint(project.url)

    run = project.execute("20251201000000_mood")

    _refused(project, before, run.returncode, 10)
    assert run.result is not None
    assert "column public.diary.mood" in run.result["error"]["message"]


def test_missing_backup_dir(timeline: Project, tmp_path: Path) -> None:
    before = schema_fingerprint(timeline.url)

    run = timeline.execute(
        TIMELINE, "--backup", "pg-dump", "--backup-dir", str(tmp_path / "not-mounted")
    )

    _refused(timeline, before, run.returncode, BACKUP_FAILED)
    assert run.result is not None
    assert "not-mounted does not exist" in run.result["error"]["message"]


def test_history_table_missing(timeline: Project) -> None:
    before = schema_fingerprint(timeline.url)

    run = timeline.execute(TIMELINE, "--history-table", "public.schema_migrations")

    _refused(timeline, before, run.returncode, PRECONDITION_FAILED)
    assert run.result is not None
    assert "history table public.schema_migrations does not exist" in run.result["error"]["message"]


def test_history_table_with_only_a_version_column(project: Project) -> None:
    project.sql("CREATE TABLE public.applied (version bigint PRIMARY KEY)")
    project.add("20251201000000_t", "CREATE TABLE public.t (id int);", "DROP TABLE public.t;\n")
    project.sql("INSERT INTO public.applied VALUES (20251201000000)")

    run = project.execute("20251201000000_t", "--history-table", "public.applied")

    assert run.returncode == 0, run.stdout + run.stderr
    assert project.value("SELECT count(*) FROM public.applied") == 0


def test_usage_errors_exit_2(timeline: Project) -> None:
    both = timeline.execute(TIMELINE, "--to", "1", tag="both")
    neither = timeline.execute(tag="neither")
    bad_duration = timeline.execute(TIMELINE, "--lock-timeout", "soon", tag="duration")

    assert (both.returncode, neither.returncode, bad_duration.returncode) == (USAGE, USAGE, USAGE)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("postgresql://postgres@127.0.0.1/x?bogus=1", "an unknown query parameter"),
        ("postgresql://postgres@127.0.0.1:notaport/x", "its port is not a number"),
        ("not a url at all", "a word without '='"),
    ],
)
def test_bad_url_fails_fast_and_is_not_retryable(timeline: Project, url: str, says: str) -> None:
    run = timeline.execute(TIMELINE, url=url)

    assert run.returncode == CONNECTION_FAILED
    assert run.result is not None
    assert says in run.result["error"]["message"]
    assert run.result["retryable"] is False


def test_refused_connection_is_retryable(timeline: Project) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket closes

    run = timeline.execute(TIMELINE, url=f"postgresql://postgres@127.0.0.1:{port}/x")

    assert run.returncode == CONNECTION_FAILED
    assert run.result is not None
    assert run.result["retryable"] is True
    assert "Connection refused" in run.result["error"]["message"]
