"""The archiving of a DROP TABLE sends its statements in pipelines (the probe, the move, the
detach): a lock held elsewhere or a statement cut short there must end the run as it did when
they were sent one by one — the lock timeout's exit code (retryable: the operator retries with
a doubled lock_timeout), the error placed at the DROP's file:line, nothing applied."""

from __future__ import annotations

import psycopg
from runner_support import Project, schema_fingerprint

LOCK_TIMEOUT = 4
NAME = "20250101000000_gone"
FORWARD = """CREATE TABLE public.gone (id int PRIMARY KEY, note text DEFAULT 'x');
CREATE TABLE public.keep (id int);
CREATE PUBLICATION feed FOR TABLE public.gone;
"""
ROLLBACK = """BEGIN;
ALTER TABLE public.keep ADD COLUMN seen int;
DROP TABLE public.gone;
COMMIT;
"""


def test_a_lock_held_on_the_archived_table_times_out_retryably_at_its_line(
    project: Project,
) -> None:
    project.add(NAME, FORWARD, ROLLBACK)
    project.sql("INSERT INTO public.gone VALUES (1, 'kept')")
    before = schema_fingerprint(project.url)
    with psycopg.connect(project.url) as blocker:
        blocker.execute("LOCK TABLE public.gone IN ACCESS SHARE MODE")
        run = project.execute(NAME, "--lock-timeout", "300ms")
        blocker.rollback()

    assert run.returncode == LOCK_TIMEOUT, run.stdout + run.stderr
    assert run.result is not None
    assert run.result["retryable"] is True
    error = run.result["error"]
    assert error["sqlstate"] == "55P03"
    assert error["location"].endswith("_rollback.sql:7:1"), error  # the DROP (a 4-line header)
    assert schema_fingerprint(project.url) == before  # the ALTER before it rolled back too
    assert project.value("SELECT note FROM public.gone") == "kept"


def test_a_failure_after_the_archiving_leaves_the_table_and_its_ties_in_place(
    project: Project,
) -> None:
    """The pipelined detach and move are part of the one transaction: a later statement's
    failure takes them back with it (table, default, publication membership)."""
    project.add(NAME, FORWARD, ROLLBACK.replace("COMMIT;", "SELECT 1/0;\nCOMMIT;"))
    before = schema_fingerprint(project.url)
    run = project.execute(NAME)

    assert run.returncode != 0, run.stdout + run.stderr
    assert run.result is not None
    assert run.result["error"]["location"].endswith("_rollback.sql:8:1")
    assert schema_fingerprint(project.url) == before
    assert project.value("SELECT count(*) FROM pg_publication_tables WHERE tablename = 'gone'") == 1
    assert project.value("SELECT count(*) FROM pg_attrdef WHERE adrelid = 'gone'::regclass") == 1
