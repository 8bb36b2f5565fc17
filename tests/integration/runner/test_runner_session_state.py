"""A rollback that would change the runner's session (its timeouts, its role, whether triggers
and foreign keys fire) is refused before it runs, naming the statement; the database stays as
it was. A search_path the rollback sets is its own business, and runs."""

from __future__ import annotations

import pytest
from runner_support import Project, schema_fingerprint

pytestmark = pytest.mark.integration

PRECONDITION_FAILED = 3
NAME = "20251201000000_orders"
FORWARD = "CREATE TABLE public.orders (id int PRIMARY KEY);\nINSERT INTO public.orders VALUES (1);"


@pytest.mark.parametrize(
    ("statement", "what"),
    [
        ("SET lock_timeout = 0;", "SET lock_timeout changes the runner's timeouts"),
        (
            "SELECT pg_catalog.set_config('statement_timeout', '0', false);",
            "set_config('statement_timeout', ...) changes the runner's timeouts",
        ),
        (
            "SET session_replication_role = replica;",
            "SET session_replication_role changes whether triggers and foreign-key checks fire",
        ),
    ],
)
def test_a_statement_undoing_the_runners_session_refuses_the_run(
    project: Project, statement: str, what: str
) -> None:
    # After the 4 header lines and "-- undo": the statement is the rollback's line 6.
    project.add(NAME, FORWARD, f"-- undo\n{statement}\nDROP TABLE public.orders;\n")
    before = schema_fingerprint(project.url)

    run = project.execute(NAME)

    assert run.returncode == PRECONDITION_FAILED, run.stdout + run.stderr
    assert run.result is not None
    message = run.result["error"]["message"]
    assert f"{NAME}_rollback.sql:6:1: {statement.rstrip(';')!r}: {what}" in message
    assert "nothing was run" in message
    assert schema_fingerprint(project.url) == before
    assert project.value("SELECT count(*) FROM public.orders") == 1
    assert project.versions() == ["20251201000000"]
    assert [a["outcome"] for a in project.audit()] == ["failed"]


def test_the_rollbacks_own_search_path_is_allowed(project: Project) -> None:
    rollback = "SET search_path = public;\nSET LOCAL search_path TO public;\nDROP TABLE orders;\n"
    project.add(NAME, FORWARD, rollback)

    run = project.execute(NAME)

    assert run.returncode == 0, run.stdout + run.stderr
    assert project.value("SELECT to_regclass('public.orders')") is None  # archived
    assert project.versions() == []
