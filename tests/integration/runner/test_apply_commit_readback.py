"""A signal during `apply`'s COMMIT: whether the COMMIT landed is read back, never guessed.

The COMMIT is held at the gate by a deferred constraint trigger (it fires inside COMMIT), so
the SIGTERM lands while COMMIT runs. psycopg then cancels it: the trigger either lets the
cancel abort the COMMIT (not landed) or swallows it and returns (the COMMIT lands though the
client was told to stop). The result file, the output and the exit code say which, as the
history table on a new connection shows it.
"""

from __future__ import annotations

import json
import signal
import threading

import psycopg
import pytest
from capture_support import apply
from gate_support import GATE, gated, gated_apply, wait_for
from runner_support import Project

pytestmark = pytest.mark.integration

INTERRUPTED = 13
CONNECTION_LOST = 8
VERSION = "20250101000001"

# The trigger's body: wait at the gate; when `swallow`, a cancel is caught and COMMIT goes on.
_WAIT = f"PERFORM pg_advisory_lock({GATE});"
_BODIES = {
    False: f"BEGIN {_WAIT} RETURN NULL; END",
    True: f"BEGIN {_WAIT} RETURN NULL; EXCEPTION WHEN query_canceled THEN RETURN NULL; END",
}


def _gated_at_commit(project: Project, *, swallow: bool) -> None:
    (project.migrations / f"{VERSION}_a.sql").write_text(
        "CREATE TABLE public.a (id int);\n"
        "CREATE FUNCTION public.at_commit() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"{_BODIES[swallow]} $$;\n"
        "CREATE CONSTRAINT TRIGGER at_commit AFTER INSERT ON public.a "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION public.at_commit();\n"
        "INSERT INTO public.a VALUES (1);\n"
        # Runs after COMMIT: its pending record is written with the history row and read back.
        "CREATE INDEX CONCURRENTLY a_id_idx ON public.a (id);\n"
    )


def _stop_during_commit(project: Project) -> tuple[int, dict[str, object], str]:
    result = project.root / "commit.json"
    with gated_apply(project, result, query="COMMIT") as (_gate, proc):
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    return proc.returncode, json.loads(result.read_text()), out + err


def test_a_commit_that_landed_despite_sigterm_is_reported_as_landed(project: Project) -> None:
    _gated_at_commit(project, swallow=True)

    code, doc, out = _stop_during_commit(project)

    assert project.versions() == [VERSION]  # the COMMIT did land
    assert code == INTERRUPTED, out
    assert doc["commit_read_back"] == {VERSION: "landed"}, out
    assert doc["committed"] == [VERSION]
    assert "during the COMMIT of migration 20250101000001; read back" in str(doc["error"])
    assert "it landed" in out
    assert f"{VERSION}_a: 5 statement(s), committed" in out
    # Stopped: the index is left to the next apply, recorded as pending with the history row.
    assert project.value("SELECT to_regclass('public.a_id_idx')") is None
    code, _doc, out = apply(project)
    assert code == 0, out
    assert project.value("SELECT to_regclass('public.a_id_idx')") is not None


def test_a_commit_that_sigterm_stopped_is_reported_as_not_landed(project: Project) -> None:
    _gated_at_commit(project, swallow=False)

    code, doc, out = _stop_during_commit(project)

    assert project.versions() == []
    assert project.value("SELECT to_regclass('public.a')") is None
    assert code == INTERRUPTED, out
    assert doc["commit_read_back"] == {VERSION: "not landed"}, out
    assert doc["committed"] == []
    assert "it did not land" in str(doc["error"])


def _history_gated_at_commit(project: Project, *, swallow: bool) -> None:
    """`execute` forgets the version in its transaction: a deferred trigger on the history
    table holds that transaction's COMMIT at the gate."""
    project.add(f"{VERSION}_t", "CREATE TABLE public.t (id int);", "DROP TABLE public.t;")
    project.sql(
        "CREATE FUNCTION public.at_commit() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"{_BODIES[swallow]} $$"
    )
    project.sql(
        "CREATE CONSTRAINT TRIGGER at_commit AFTER DELETE "
        "ON supabase_migrations.schema_migrations DEFERRABLE INITIALLY DEFERRED "
        "FOR EACH ROW EXECUTE FUNCTION public.at_commit()"
    )


@pytest.mark.parametrize(("swallow", "landed"), [(True, True), (False, False)])
def test_execute_stopped_during_commit_reads_back_whether_it_landed(
    project: Project, swallow: bool, landed: bool
) -> None:
    _history_gated_at_commit(project, swallow=swallow)
    with psycopg.connect(project.url, autocommit=True) as gate:
        gate.execute("SELECT pg_advisory_lock(%s)", [GATE])
        proc = project.start(f"{VERSION}_t")
        wait_for(lambda: gated(project, "COMMIT") or proc.poll() is not None)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGTERM)
        run = project.finish(proc)

    assert run.returncode == INTERRUPTED, run.everything()
    assert run.result is not None
    assert project.versions() == ([] if landed else [VERSION])
    assert run.result["committed"] is landed
    assert run.result["commit_read_back"] == ("landed" if landed else "not landed")
    said = "it landed" if landed else "it did not land"
    assert said in run.result["error"]["message"], run.everything()


def test_a_session_ended_during_commit_is_read_back_as_not_landed(project: Project) -> None:
    """The server ends apply's session while COMMIT waits: the COMMIT is aborted with it, and
    apply says so from the history table, not from the broken connection."""
    _gated_at_commit(project, swallow=False)
    result = project.root / "ended.json"
    with gated_apply(project, result, query="COMMIT") as (_gate, proc):
        project.value(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'COMMIT' "
            "AND application_name LIKE 'migration-rollback%%'"
        )
        out, err = proc.communicate(timeout=120)
    doc = json.loads(result.read_text())

    assert proc.returncode == CONNECTION_LOST, out + err
    assert doc["commit_read_back"] == {VERSION: "not landed"}, out
    assert "the connection broke during the COMMIT" in str(doc["error"])
    assert project.versions() == []


COMMIT_UNKNOWN = 11
HISTORY = "supabase_migrations.schema_migrations"


def _read_back_waits(project: Project) -> bool:
    """apply's read-back session waits on a table lock (the history table the test holds)."""
    return bool(
        project.value(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND application_name LIKE 'migration-rollback%%' "
            "AND query LIKE '%%schema_migrations%%'"
        )
    )


def test_a_second_signal_during_the_read_back_says_unknown(project: Project) -> None:
    """The read-back is held on the history table (a lock queued behind apply's transaction,
    granted once the first SIGTERM aborts its COMMIT); a second SIGTERM cuts it short. What the
    COMMIT did was never read: unknown (11), never "not landed"."""
    _gated_at_commit(project, swallow=False)
    result = project.root / "twice.json"
    with psycopg.connect(project.url) as locker:
        with gated_apply(project, result, query="COMMIT") as (_gate, proc):
            queued = threading.Thread(
                target=locker.execute, args=[f"LOCK TABLE {HISTORY} IN ACCESS EXCLUSIVE MODE"]
            )
            queued.start()
            wait_for(lambda: project.value(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'relation' AND NOT granted "
                "AND mode = 'AccessExclusiveLock'"))  # fmt: skip
            proc.send_signal(signal.SIGTERM)
            wait_for(lambda: _read_back_waits(project) or proc.poll() is not None)
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=120)
            queued.join(timeout=60)
        locker.rollback()
    doc = json.loads(result.read_text())

    assert proc.returncode == COMMIT_UNKNOWN, out + err
    assert doc["commit_read_back"] == {VERSION: "unknown"}, out
    assert doc["committed"] == []
    assert "its outcome could not be read back" in str(doc["error"])
    assert project.versions() == []  # it had not landed: unknown was the true answer
