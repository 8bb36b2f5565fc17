"""execute refuses a rollback statement with CASCADE, as validate calls it an error.

A hand-edited `DROP FUNCTION ... CASCADE` ran (with --allow-data-loss and a backup) and took a
RESTRICTIVE RLS policy made later in the dashboard with it: the table became readable through
the permissive policy, and nothing (impact, report, audit) named the policy. execute now
applies validate's own rule (sql/cascades.unmarked_cascades) before anything runs.
"""

from __future__ import annotations

import pytest
from runner_support import Project, schema_fingerprint

pytestmark = pytest.mark.integration

PRECONDITION_FAILED = 3
NAME = "20250201000000_fn"
FORWARD = (
    "create function public.is_blocked() returns boolean language sql stable"
    " as $$ select false $$;\n"
)
CASCADE = "DROP FUNCTION IF EXISTS public.is_blocked() CASCADE;\n"
# The data-loss gate passed, as in the finding: only CASCADE is left to refuse.
LOSS = ("--allow-data-loss", "--backup", "pg-dump", "--backup-dir", "backups")
POLICIES = "select polname from pg_policy where polrelid = 'public.docs'::regclass order by 1"


@pytest.fixture
def cascading(project: Project) -> Project:
    project.sql(
        "create table public.docs (id int primary key, body text);"
        "alter table public.docs enable row level security;"
        "create policy p_all on public.docs for select using (true);"
    )
    (project.root / "backups").mkdir()
    project.add(NAME, FORWARD, CASCADE)
    project.sql(
        "create policy p_block on public.docs as restrictive for select"
        " using (not public.is_blocked())"
    )
    return project


def test_a_cascade_is_refused_and_the_policy_stays(cascading: Project) -> None:
    before = schema_fingerprint(cascading.url)

    run = cascading.execute(NAME, *LOSS)

    assert run.returncode == PRECONDITION_FAILED, run.stdout + run.stderr
    assert run.result is not None
    message = run.result["error"]["message"]
    assert f"{NAME}_rollback.sql:5: DROP FUNCTION IF EXISTS public.is_blocked() CASCADE" in message
    assert "--allow-cascade" in message
    assert cascading.sql(POLICIES) == [("p_all",), ("p_block",)]
    assert schema_fingerprint(cascading.url) == before


def test_allow_cascade_runs_it(cascading: Project) -> None:
    run = cascading.execute(NAME, *LOSS, "--allow-cascade")

    assert run.returncode == 0, run.stdout + run.stderr
    assert cascading.sql(POLICIES) == [("p_all",)]


def test_the_files_own_mark_allows_it_as_validate_does(cascading: Project) -> None:
    path = cascading.migrations / f"{NAME}_rollback.sql"
    path.write_text(path.read_text() + "-- migration-rollback: allow-cascade\n")

    run = cascading.execute(NAME, *LOSS)

    assert run.returncode == 0, run.stdout + run.stderr


def test_a_purged_drop_table_cascade_is_refused_an_archived_one_is_not(project: Project) -> None:
    (project.root / "backups").mkdir()
    project.add(
        "20250301000000_t", "create table public.t (id int);\n", "DROP TABLE public.t CASCADE;\n"
    )
    project.sql("create view public.v as select * from public.t")

    purged = project.execute("20250301000000_t", *LOSS, "--purge")

    assert purged.returncode == PRECONDITION_FAILED, purged.stdout + purged.stderr
    assert project.value("select to_regclass('public.v') is not null")
    archived = project.execute("20250301000000_t", *LOSS)
    assert archived.returncode == 0, archived.stdout + archived.stderr
