"""Faults during a run: failing SQL, a killed backend, held locks, timeouts, signals, and two
runners at once. Each must end with a classified exit code and leave the database unchanged."""

from __future__ import annotations

import contextlib
import signal
import subprocess
from collections.abc import Iterator

import psycopg
import pytest
from capture_support import apply
from gate_support import wait_for
from runner_support import TIMELINE, Project, schema_fingerprint, timeline_project

pytestmark = pytest.mark.integration

LOCK_TIMEOUT = 4
SQL_ERROR = 5
CONNECTION_LOST = 8
STATEMENT_TIMEOUT = 9
DEFERRED_FAILED = 12
INTERRUPTED = 13
TRANSACTION_CONFLICT = 14

SLOW = "20251201000000_slow"


# Runners are Python processes started per test: on a loaded machine one can take many
# seconds to reach its first statement.
def sleeping_backend(project: Project) -> int | None:
    """The pid of the runner's session while it sits in the rollback's pg_sleep."""
    return project.value(
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'migration-rollback' "
        "AND query LIKE 'SELECT pg_sleep%%' AND state = 'active'"
    )


# The run lock is an advisory lock on two int4 keys (objsubid 2); the tests' gates take one
# bigint key (objsubid 1), so a gate's holder is never taken for the run lock's.
RUN_LOCK = (
    "l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 "
    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


def run_lock_holder(project: Project) -> int | None:
    return project.value(f"SELECT l.pid FROM pg_locks l WHERE {RUN_LOCK}")


def slow_project(project: Project, seconds: float) -> None:
    """Timeline applied, plus a migration whose rollback drops a table, then sleeps."""
    timeline_project(project)
    project.add(
        SLOW,
        "CREATE TABLE public.scratch (id int); INSERT INTO public.scratch VALUES (1);",
        f"DROP TABLE public.scratch;\nSELECT pg_sleep({seconds});\n"
        "DROP FUNCTION public.like_count(bigint);\n",
    )


def test_sql_error_at_statement_k_of_n_applies_nothing(project: Project) -> None:
    timeline_project(project)
    path = project.migrations / f"{TIMELINE}_rollback.sql"
    path.write_text(path.read_text().replace("COMMIT;", "SELECT 1/0;\nCOMMIT;"))
    before = schema_fingerprint(project.url)

    run = project.execute(TIMELINE)

    assert run.returncode == SQL_ERROR
    assert schema_fingerprint(project.url) == before
    assert "20251113000001" in project.versions()
    assert run.result is not None
    error = run.result["error"]
    assert error["sqlstate"] == "22012"
    assert error["statement"] == 5
    assert error["location"].endswith("_rollback.sql:10:1")
    statuses = [s["status"] for s in run.result["statements"]]
    assert statuses == ["done", "done", "done", "done", "failed"]
    assert run.result["committed"] is False
    audit = project.audit()
    assert audit[-1]["outcome"] == "failed"
    assert "division by zero" in audit[-1]["error"]
    assert "nothing was changed" in run.stdout


def test_backend_killed_mid_transaction(project: Project) -> None:
    slow_project(project, 30)
    before = schema_fingerprint(project.url)

    proc = project.start(SLOW)
    wait_for(lambda: sleeping_backend(project))
    project.value("SELECT pg_terminate_backend(%s)", [sleeping_backend(project)])
    run = project.finish(proc)

    assert run.returncode == CONNECTION_LOST, run.stdout + run.stderr
    assert run.result is not None
    assert run.result["retryable"] is True
    assert run.result["error"]["sqlstate"] == "57P01"
    assert schema_fingerprint(project.url) == before
    assert project.audit()[-1]["outcome"] == "failed"


def test_table_lock_held_elsewhere_hits_lock_timeout(project: Project) -> None:
    timeline_project(project)
    before = schema_fingerprint(project.url)
    with psycopg.connect(project.url) as blocker:
        blocker.execute("LOCK TABLE public.timeline_likes IN ACCESS SHARE MODE")
        run = project.execute(TIMELINE, "--lock-timeout", "1s")
        blocker.rollback()

    assert run.returncode == LOCK_TIMEOUT, run.stdout + run.stderr
    assert run.result is not None
    assert run.result["retryable"] is True
    assert run.result["error"]["sqlstate"] == "55P03"
    # It waited for the lock (its own clock, not the process's start-up) before giving up.
    assert run.step("transaction")["duration_ms"] >= 1000, run.steps
    assert schema_fingerprint(project.url) == before


def test_statement_timeout(project: Project) -> None:
    slow_project(project, 30)
    before = schema_fingerprint(project.url)

    run = project.execute(SLOW, "--statement-timeout", "500ms")

    assert run.returncode == STATEMENT_TIMEOUT, run.stdout + run.stderr
    assert run.result is not None
    assert run.result["error"]["sqlstate"] == "57014"
    assert schema_fingerprint(project.url) == before


def test_sigterm_stops_cleanly_and_records_it(project: Project) -> None:
    slow_project(project, 30)
    before = schema_fingerprint(project.url)

    proc = project.start(SLOW)
    wait_for(lambda: sleeping_backend(project))
    proc.send_signal(signal.SIGTERM)
    run = project.finish(proc)

    assert run.returncode == INTERRUPTED, run.stdout + run.stderr
    assert run.result is not None
    assert run.result["committed"] is False
    assert schema_fingerprint(project.url) == before
    wait_for(lambda: sleeping_backend(project) is None)
    assert project.audit()[-1]["outcome"] == "failed"


def gated_project(project: Project, gate: int) -> None:
    """Timeline applied, plus a migration whose rollback drops a table, then waits on an
    advisory lock the test holds: a runner stays inside its transaction until the test says."""
    timeline_project(project)
    project.add(
        SLOW,
        "CREATE TABLE public.scratch (id int); INSERT INTO public.scratch VALUES (1);",
        f"DROP TABLE public.scratch;\nSELECT pg_advisory_xact_lock({gate});\n"
        "DROP FUNCTION public.like_count(bigint);\n",
    )


GATE = 4242


@contextlib.contextmanager
def first_runner_at_the_gate(project: Project) -> Iterator[subprocess.Popen[str]]:
    """A first runner started and held inside its transaction (so holding the run lock) for
    as long as the block runs; the gate opens when the block ends."""
    gated_project(project, GATE)
    with psycopg.connect(project.url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", [GATE])
        first = project.start(SLOW, "--lock-timeout", "60s", tag="first")
        wait_for(lambda: waiting_on_gate(project, GATE), timeout=60)
        yield first
        holder.execute("SELECT pg_advisory_unlock(%s)", [GATE])


def test_second_runner_gives_up_with_the_lock_code(project: Project) -> None:
    with first_runner_at_the_gate(project) as first:
        second = project.execute(SLOW, "--lock-timeout", "500ms", tag="second")
    first_run = project.finish(first, tag="first")

    assert first_run.returncode == 0, first_run.stdout + first_run.stderr
    assert second.returncode == LOCK_TIMEOUT
    assert second.result is not None
    assert "another rollback is running on this database" in second.result["error"]["message"]
    assert second.result["retryable"] is True
    outcomes = sorted(a["outcome"] for a in project.audit())
    assert outcomes == ["failed", "succeeded"]


def test_two_runners_are_serialized_never_interleaved(project: Project) -> None:
    # The first runner waits on a gate the test holds, so the second one certainly starts
    # while the first holds the run lock: no reliance on how fast processes start.
    with first_runner_at_the_gate(project) as first:
        second = project.start(SLOW, "--lock-timeout", "60s", tag="second")
        # Polling the run lock: its audit step (and that step's log line) is behind it.
        wait_for(lambda: polling_the_run_lock(project))
    first_run = project.finish(first, tag="first")
    second_run = project.finish(second, tag="second")

    assert first_run.returncode == 0, first_run.stdout + first_run.stderr
    # The second waited for the lock, then found the migration no longer applied.
    assert second_run.returncode == 3, second_run.stdout + second_run.stderr
    assert second_run.step("lock")["outcome"] == "ok"
    first_finished = first_run.step("transaction")["ts"]
    second_audited = second_run.step("audit")["ts"]
    second_checked = second_run.step("preconditions")["ts"]
    assert second_audited < first_finished < second_checked
    assert project.value("SELECT to_regclass('public.scratch')") is None


def waiting_on_gate(project: Project, gate: int) -> bool:
    return bool(
        project.value(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
            "AND objid = %s",
            [gate],
        )
    )


def polling_the_run_lock(project: Project) -> bool:
    """A runner that does not hold the run lock has asked for it (its session's last query),
    so it has done everything that comes before. (The holder's own session asked for it too:
    it is left out by what it holds, not by a pid read apart.)"""
    return bool(
        project.value(
            "SELECT count(*) FROM pg_stat_activity a WHERE a.application_name = "
            "'migration-rollback' AND a.query LIKE '%pg_try_advisory_lock%' AND NOT EXISTS "
            f"(SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND {RUN_LOCK})"
        )
    )


def test_lock_timeout_after_the_advisory_lock_is_held_by_a_stray_session(
    project: Project,
) -> None:
    timeline_project(project)
    holder = subprocess.Popen(
        [
            "psql",
            project.url,
            "-c",
            "SELECT pg_advisory_lock(hashtext('migration-rollback'), hashtext(current_database()));"
            # Held until the test ends it: however long the runner takes to start.
            " SELECT pg_sleep(600);",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: run_lock_holder(project))
        run = project.execute(TIMELINE, "--lock-timeout", "300ms")
    finally:
        # The backend would sleep on without its client: end it, and the lock with it.
        project.value(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'psql' AND datname = current_database()"
        )
        holder.terminate()
        holder.wait()

    assert run.returncode == LOCK_TIMEOUT
    assert run.result is not None
    assert "application 'psql'" in run.result["error"]["message"]


def test_connection_lost_during_commit_is_read_back_not_guessed(project: Project) -> None:
    timeline_project(project)
    # A deferred trigger on the history table runs at COMMIT and sleeps: the test kills the
    # session while COMMIT is in flight, and the runner must find out what happened.
    project.sql(
        """
        CREATE FUNCTION public.slow_commit() RETURNS trigger LANGUAGE plpgsql AS
          $$ BEGIN PERFORM pg_sleep(30); RETURN OLD; END $$;
        CREATE CONSTRAINT TRIGGER slow_commit AFTER DELETE ON supabase_migrations.schema_migrations
          DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION public.slow_commit();
        """
    )
    before = schema_fingerprint(project.url)

    proc = project.start(TIMELINE)
    committing = (
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'migration-rollback' "
        "AND query = 'COMMIT' AND state = 'active'"
    )
    wait_for(lambda: project.value(committing))
    project.value("SELECT pg_terminate_backend(%s)", [project.value(committing)])
    run = project.finish(proc)

    assert run.returncode == CONNECTION_LOST, run.stdout + run.stderr
    assert run.result is not None
    assert "did not commit" in run.result["error"]["message"]
    assert run.result["committed"] is False
    assert schema_fingerprint(project.url) == before


def test_failing_deferred_statement_after_commit_is_reported(project: Project) -> None:
    project.add(
        "20251201000000_reindex",
        "CREATE TABLE public.things (id int);",
        "DROP TABLE public.things;\nREINDEX INDEX CONCURRENTLY public.no_such_index;\n"
        "VACUUM public.things;\n",
    )

    run = project.execute("20251201000000_reindex")

    assert run.returncode == 12, run.stdout + run.stderr
    assert run.result is not None
    assert run.result["committed"] is True
    assert run.result["outcome"] == "committed-with-errors"
    assert [d["status"] for d in run.result["deferred"]] == ["failed", "not run"]
    assert project.versions() == []
    assert project.audit()[-1]["outcome"] == "committed-with-errors"
    assert "run them by hand" in run.result["error"]["message"]


def test_deadlock_with_another_session_is_retryable_and_applies_nothing(project: Project) -> None:
    """A real deadlock: the rollback holds one table and waits for a second that another
    session reads, which then asks for the first. The rollback's session is the one the server
    aborts (its deadlock check comes first); the run must say so, retryable, nothing applied."""
    timeline_project(project)
    project.add(
        DEADLOCK,
        "CREATE TABLE public.dl_a (id int); CREATE TABLE public.dl_b (id int);\n"
        "CREATE INDEX dl_a_id ON public.dl_a (id); CREATE INDEX dl_b_id ON public.dl_b (id);",
        "DROP INDEX public.dl_a_id;\nDROP INDEX public.dl_b_id;\n",
    )
    before = schema_fingerprint(project.url)
    with psycopg.connect(project.url) as other:
        other.execute("SET deadlock_timeout = '10min'")  # never the victim
        other.execute("SELECT count(*) FROM public.dl_b")  # holds dl_b against DROP INDEX
        run = project.start(DEADLOCK, "--lock-timeout", "5m", env={"PGOPTIONS": _CHECK_LATER})
        wait_for(lambda: waiting_on(project, "dl_b"), timeout=60)  # it holds dl_a now
        other.execute("SET statement_timeout = '2min'")  # a guard, should the test be wrong
        other.execute("SELECT count(*) FROM public.dl_a")  # closes the cycle; waits for dl_a
        other.rollback()
        finished = project.finish(run)

    assert finished.returncode == TRANSACTION_CONFLICT, finished.stdout + finished.stderr
    assert finished.result is not None
    assert finished.result["retryable"] is True
    assert finished.result["committed"] is False
    assert finished.result["error"]["sqlstate"] == "40P01"
    assert schema_fingerprint(project.url) == before
    assert DEADLOCK.split("_", 1)[0] in project.versions()


DEADLOCK = "20251202000000_two_indexes"
# Each session checks for a deadlock once, when its own wait passes its deadlock_timeout: the
# runner's check must come after the other session closed the cycle (it does so at once, once
# it sees the runner wait), and before the other's (10 minutes).
_CHECK_LATER = "-c deadlock_timeout=5s"


def waiting_on(project: Project, table: str) -> bool:
    """The runner's session waits for a lock on `table`."""
    return bool(
        project.value(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
            "WHERE NOT l.granted AND l.relation = %s::regclass "
            "AND a.application_name = 'migration-rollback'",
            [f"public.{table}"],
        )
    )


def test_apply_statement_after_commit_failing_is_not_retryable(project: Project) -> None:
    """`apply` runs CONCURRENTLY after COMMIT: the migration is recorded by then, so its
    failure is exit 12 (run it by hand), never one a retry would skip silently."""
    (project.migrations / "20251203000000_unique_email.sql").write_text(
        "CREATE TABLE public.users (email text);\n"
        "INSERT INTO public.users VALUES ('a@x'), ('a@x');\n"
        "CREATE UNIQUE INDEX CONCURRENTLY users_email ON public.users (email);\n"
    )

    code, doc, out = apply(project)

    assert code == DEFERRED_FAILED, out
    assert doc["exit_code"] == DEFERRED_FAILED
    assert doc["error"].startswith("committed, but a statement that runs after COMMIT failed")
    assert "recorded as pending" in doc["error"]
    assert doc["committed"] == ["20251203000000"]
    assert "20251203000000" in project.versions()
