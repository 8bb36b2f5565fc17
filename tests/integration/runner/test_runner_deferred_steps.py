"""Statements that run after COMMIT, and runs stopped before they finish.

A run killed (SIGKILL: the pod deleted, OOM) after its COMMIT while a `... CONCURRENTLY`
statement waits left a history that claims the work done: the next run said "nothing to apply"
or "not recorded as applied". The steps are now recorded as pending with the history change,
and the next apply finishes those proven safe to run again, or refuses naming each statement;
execute only reports them (test_runner_deferred_leftovers.py).
"""

from __future__ import annotations

import signal
import subprocess
import sys

import psycopg
import pytest
from capture_support import apply, cli
from gate_support import wait_for
from runner_support import Project

pytestmark = pytest.mark.integration

PRECONDITION_FAILED = 3
TABLE = "20250101000001_t"
INDEX = "20250101000002_idx"


def _waiting(project: Project, prefix: str) -> object:
    return project.value(
        "SELECT pid FROM pg_stat_activity WHERE query ILIKE %s AND wait_event_type = 'Lock'",
        [prefix + "%"],
    )


def _kill_while_waiting(project: Project, proc: subprocess.Popen[str], prefix: str) -> None:
    """SIGKILL the runner while its statement after COMMIT waits, then cut that session (as
    the pod's network going away does)."""
    wait_for(lambda: _waiting(project, prefix))
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    project.sql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query ILIKE %s",
        [prefix + "%"],
    )


def _index(project: Project) -> object:
    """NULL when public.t_v_idx does not exist, else whether it is valid."""
    return project.value(
        "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('public.t_v_idx')"
    )


def _start_apply(project: Project) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "migration_rollback", "apply"],
        cwd=project.root,
        env=project.environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _write_index_migrations(project: Project) -> None:
    (project.migrations / f"{TABLE}.sql").write_text(
        "CREATE TABLE public.t (id int PRIMARY KEY, v int);\n"
    )
    (project.migrations / f"{INDEX}.sql").write_text(
        "CREATE TABLE public.other (id int);\nCREATE INDEX CONCURRENTLY t_v_idx ON public.t (v);\n"
    )


def test_apply_killed_before_its_index_is_built_is_finished_by_the_next_apply(
    project: Project,
) -> None:
    _write_index_migrations(project)
    assert apply(project, "--to", TABLE.split("_")[0])[0] == 0
    with psycopg.connect(project.url) as holder:
        holder.execute("LOCK TABLE public.t IN SHARE UPDATE EXCLUSIVE MODE")  # the build waits
        _kill_while_waiting(project, _start_apply(project), "CREATE INDEX CONCURRENTLY")
        holder.rollback()
    assert "20250101000002" in project.versions()
    assert not _index(project)  # left INVALID by the stopped build

    code, doc, out = apply(project)

    assert code == 0, out
    assert _index(project) is True
    assert any(
        "finished what an earlier apply of 20250101000002 left" in w for w in doc["warnings"]
    ), out
    assert "IF NOT EXISTS t_v_idx" in out
    assert project.value("SELECT count(*) FROM migration_rollback.deferred_steps") == 1
    assert (
        project.value(
            "SELECT count(*) FROM migration_rollback.deferred_steps WHERE done_at IS NULL"
        )
        == 0
    )


def test_execute_killed_before_its_deferred_drop_is_reported_then_finished_by_apply(
    project: Project,
) -> None:
    _write_index_migrations(project)
    (project.migrations / f"{INDEX}_rollback.sql").write_text(
        "DROP INDEX CONCURRENTLY IF EXISTS public.t_v_idx;\nDROP TABLE public.other;\n"
    )
    assert apply(project)[0] == 0
    with psycopg.connect(project.url) as holder:
        holder.execute("LOCK TABLE public.t IN SHARE UPDATE EXCLUSIVE MODE")
        proc = project.start(INDEX, "--allow-data-loss", "--backup", "none")
        _kill_while_waiting(project, proc, "DROP INDEX CONCURRENTLY")
        holder.rollback()
    assert "20250101000002" not in project.versions()
    assert _index(project) is not None  # the rollback committed, its index drop did not run
    dead = project.audit()[-1]
    assert dead["outcome"] == "running"
    # The dead run's row is reported once it is older than the next run's lock wait.
    wait_for(
        lambda: project.value(
            "SELECT now() - started_at > interval '2 seconds' FROM migration_rollback.audit_log "
            "WHERE id = %s",
            [dead["id"]],
        )
    )

    run = project.execute(INDEX, "--allow-data-loss", "--backup", "none", "--lock-timeout", "1s")

    assert _index(project) is not None  # execute never finishes what an earlier run left
    assert run.result is not None
    warnings = "\n".join(run.result["warnings"])
    assert "left pending, not run by execute: execute of 20250101000002" in warnings, warnings
    assert f"audit row {dead['id']}" in warnings, warnings
    assert "still said 'running' while this run holds the run lock" in warnings
    assert [a["outcome"] for a in project.audit() if a["id"] == dead["id"]] == ["died"]
    assert "not recorded" in run.result["error"]["message"]  # nothing left to roll back
    # The migration is gone for good: the next apply finishes the drop (the very index).
    (project.migrations / f"{INDEX}.sql").unlink()
    code, _doc, out = apply(project)
    assert code == 0, out
    assert _index(project) is None
    assert "finished what an earlier execute of 20250101000002 left" in out
    assert f"audit row {dead['id']}" not in out  # not reported again


def test_a_step_not_proven_safe_to_run_again_is_refused_with_the_statement(
    project: Project,
) -> None:
    """A leftover whose re-run is not proven safe is named, never re-run, never ignored."""
    _write_index_migrations(project)
    assert apply(project)[0] == 0
    project.sql(
        "INSERT INTO migration_rollback.deferred_steps (history_table, command, version, "
        "statement, location, sql) VALUES ('supabase_migrations.schema_migrations', 'apply', "
        "'20250101000002', 1, 'x.sql:1', 'CREATE DATABASE adv_other')"
    )

    code, doc, out = apply(project)
    dry = cli(project, "apply", "--dry-run")

    assert code == PRECONDITION_FAILED, out
    assert "apply of 20250101000002 committed" in doc["error"]
    assert "CREATE DATABASE adv_other" in doc["error"]
    assert "SET done_at = now(), closed_as = 'done' WHERE id IN (" in out
    assert dry.returncode == PRECONDITION_FAILED, dry.stdout + dry.stderr
