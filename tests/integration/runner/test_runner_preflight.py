"""The preflight: a rehearsal reports the sessions that would block the rollback's locks."""

from __future__ import annotations

import psycopg
import pytest
from runner_support import TIMELINE, Project, timeline_project

from migration_rollback.jobresult import JobResult

pytestmark = pytest.mark.integration


def test_a_dry_run_names_an_idle_transaction_holding_a_table_it_drops(project: Project) -> None:
    timeline_project(project)
    with psycopg.connect(project.url) as blocker:
        blocker.execute("SET application_name = 'stuck-worker'")
        blocker.execute("SELECT count(*) FROM public.timeline_likes").fetchone()
        blocker.execute("SELECT pg_sleep(1.2)").fetchone()  # older than the 1 s floor
        pid = blocker.info.backend_pid

        run = project.execute(TIMELINE, "--dry-run", "--lock-timeout", "1s")

        blocker.rollback()
    # It then waited for that lock in vain: the preflight says whose it was.
    assert run.returncode == 4, run.stdout + run.stderr
    assert run.result is not None
    sessions = JobResult.from_dict(run.result).blocking_sessions
    (session,) = [s for s in sessions if s.pid == pid]
    assert session.state.startswith("idle in transaction")
    assert "timeline_likes" in " ".join(session.relations)
    assert session.seconds >= 1
    assert "SELECT" not in str(run.result["blocking_sessions"])  # never the query text
    assert "preflight" in {s.get("step") for s in run.steps}


def test_no_other_session_no_report(project: Project) -> None:
    timeline_project(project)
    run = project.execute(TIMELINE, "--dry-run")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.result is not None
    assert JobResult.from_dict(run.result).blocking_sessions == ()
