"""`apply` against the two ways it used to report success without doing the work.

Its run lock lives on a separate session: if that session ends mid-migration another runner
can take the lock, and apply must not COMMIT then. And a folder with no usable migration (a
misnamed file, a wrong --dir) must be an error that names it, with the same warnings as
validate, not "nothing to apply". And SIGTERM (a cancelled CI job) stops it as it stops execute.
"""

from __future__ import annotations

import json
import signal

import psycopg
import pytest
from capture_support import apply, cli
from gate_support import GATE, gated_apply, wait_for
from runner_support import Project

pytestmark = pytest.mark.integration

PRECONDITION_FAILED = 3
POST_CHECK_FAILED = 10
INTERRUPTED = 13
RUN_LOCK_HOLDER = (
    "SELECT l.pid FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted "
    "AND l.objsubid = 2 AND l.database = (SELECT oid FROM pg_database "
    "WHERE datname = current_database())"
)


def test_apply_does_not_commit_after_losing_its_run_lock(project: Project) -> None:
    (project.migrations / "20250101000001_a.sql").write_text("CREATE TABLE public.a (id int);\n")
    (project.migrations / "20250101000002_b.sql").write_text(
        f"CREATE TABLE public.b (id int);\nSELECT pg_advisory_lock({GATE});\n"
    )
    assert apply(project, "--to", "20250101000001")[0] == 0
    with gated_apply(project, project.root / "lost.json") as (gate, proc):
        project.value("SELECT pg_terminate_backend(%s)", [project.value(RUN_LOCK_HOLDER)])
        # Another runner can take the lock now, while apply's transaction is still open.
        taken = cli(project, "captures", "prune", "--restored")
        assert taken.returncode == 0, taken.stdout + taken.stderr
        gate.execute("SELECT pg_advisory_unlock(%s)", [GATE])
        out, err = proc.communicate(timeout=120)

    assert proc.returncode == POST_CHECK_FAILED, out + err
    assert "run lock was lost" in out
    assert project.versions() == ["20250101000001"]
    assert project.value("SELECT to_regclass('public.b')") is None


def test_apply_names_misnamed_files_and_refuses_a_folder_without_migrations(
    project: Project,
) -> None:
    (project.migrations / "20250101000001-add_t.sql").write_text("CREATE TABLE public.t (id int);")

    code, doc, out = apply(project)
    validate = cli(project, "validate")

    assert code == PRECONDITION_FAILED, out
    assert "no migrations in this folder" in doc["error"]
    assert "supabase/migrations" in doc["error"]
    warning = "20250101000001-add_t.sql: ignored: not named <timestamp>_<name>.sql"
    assert any(warning in w for w in doc["warnings"]), out
    assert warning in validate.stdout + validate.stderr  # the same line, one source


@pytest.mark.parametrize("folder", ["empty", "supabase/migratoins"])
def test_apply_refuses_an_empty_or_missing_folder_naming_it(project: Project, folder: str) -> None:
    (project.root / "empty").mkdir()

    code, doc, out = apply(project, "--dir", folder)

    assert code == PRECONDITION_FAILED, out
    assert doc["error"].startswith(folder + ":"), out
    assert "nothing to apply" not in out


def test_apply_warns_about_a_misnamed_file_beside_good_ones(project: Project) -> None:
    (project.migrations / "20250101000001_ok.sql").write_text("CREATE TABLE public.ok (id int);")
    (project.migrations / "20250101000002-bad.sql").write_text("CREATE TABLE public.bad (id int);")

    code, _doc, out = apply(project)

    assert code == 0, out
    assert project.versions() == ["20250101000001"]
    assert "warning: supabase/migrations/20250101000002-bad.sql: ignored" in out


def test_apply_stopped_by_sigterm_rolls_back_and_reports(project: Project) -> None:
    """A cancelled CI job sends SIGTERM: apply rolls back, says so, writes its result."""
    (project.migrations / "20250101000001_a.sql").write_text(
        f"CREATE TABLE public.a (id int);\nSELECT pg_advisory_lock({GATE});\n"
    )
    result = project.root / "term.json"
    with gated_apply(project, result) as (_gate, proc):
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)

    assert proc.returncode == INTERRUPTED, out + err
    assert "stopped by SIGTERM" in out
    assert json.loads(result.read_text())["exit_code"] == INTERRUPTED
    assert project.versions() == []
    assert project.value("SELECT to_regclass('public.a')") is None


def test_execute_stopped_during_pg_dump_leaves_no_partial_dump(project: Project) -> None:
    """SIGTERM while pg_dump runs: the incomplete `.partial` file is removed with it."""
    project.add("20250101000001_t", "CREATE TABLE public.t (id int);", "DROP TABLE public.t;")
    project.sql("CREATE TABLE public.unrelated (id int)")
    backups = project.root / "backups"
    backups.mkdir()
    with psycopg.connect(project.url) as holder:
        # pg_dump waits on it; the rollback itself never reads this table.
        holder.execute("LOCK TABLE public.unrelated IN ACCESS EXCLUSIVE MODE")
        proc = project.start(
            "20250101000001_t", "--allow-data-loss", "--backup", "pg-dump", "--backup-dir",
            str(backups),
        )  # fmt: skip
        wait_for(
            lambda: (
                project.value(
                    "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND application_name = 'migration-rollback-backup'"
                )
                or proc.poll() is not None
            )
        )
        assert proc.poll() is None, proc.communicate()
        assert list(backups.iterdir()), "pg_dump writes into a .partial file meanwhile"
        proc.send_signal(signal.SIGTERM)
        run = project.finish(proc)
        holder.rollback()

    assert run.returncode == INTERRUPTED, run.stdout + run.stderr
    assert list(backups.iterdir()) == []
    assert project.versions() == ["20250101000001"]
