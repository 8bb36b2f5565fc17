"""IF NOT EXISTS captures resolve a name as the server resolves the statement: an index in its
table's schema (a same-named index elsewhere is another), quoted mixed-case names as written,
an unqualified table in the first schema of the search_path (not wherever a same-named table
is found), an added column on the table the search_path finds. `apply`, then `execute`."""

from __future__ import annotations

import pytest
from capture_support import apply, generate, write
from runner_support import Project

pytestmark = pytest.mark.integration

BASE = "20250101000000_base"
MIGRATION = "20250102000000_maybe"
INDEXES = (
    "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind = 'i' AND lower(c.relname) = 'by_name' ORDER BY 1, 2"
)


def _apply(project: Project, outside: str, forward: str) -> dict[str, object]:
    """Base applied, `outside` made in the dashboard, then `forward` applied and generated."""
    write(project, BASE, "CREATE TABLE public.other (id int);\n")
    assert apply(project)[0] == 0
    project.sql(outside)
    write(project, MIGRATION, forward)
    code, doc, out = apply(project)
    assert code == 0, out
    generate(project)
    (capture,) = doc["applied"][0]["captures"]  # type: ignore[index]
    return capture  # type: ignore[no-any-return]


def test_a_same_named_index_in_another_schema_is_not_this_one(project: Project) -> None:
    capture = _apply(
        project,
        "CREATE INDEX by_name ON public.other (id); CREATE SCHEMA app; "
        "CREATE TABLE app.notes (id int, name text)",
        "CREATE INDEX IF NOT EXISTS by_name ON app.notes (name);\n",
    )
    assert (capture["kind"], capture["absent"]) == ("create-index", True)

    run = project.execute(MIGRATION)

    assert run.returncode == 0, run.stdout + run.stderr
    assert project.sql(INDEXES) == [("public", "by_name")]  # the dashboard's stays


def test_quoted_mixed_case_names_are_the_ones_written(project: Project) -> None:
    capture = _apply(
        project,
        'CREATE SCHEMA "App"; CREATE TABLE "App"."Notes" (id int, name text); '
        'CREATE INDEX by_name ON "App"."Notes" (id)',
        'CREATE INDEX IF NOT EXISTS "By_Name" ON "App"."Notes" (name);\n',
    )
    assert (capture["kind"], capture["absent"]) == ("create-index", True)

    run = project.execute(MIGRATION)

    assert run.returncode == 0, run.stdout + run.stderr
    assert project.sql(INDEXES) == [("App", "by_name")]


def test_an_unqualified_table_is_made_in_the_first_schema_of_the_path(project: Project) -> None:
    # public.notes exists, app.notes does not: the statement makes app.notes.
    capture = _apply(
        project,
        "CREATE SCHEMA app; CREATE TABLE public.notes (id int); "
        "INSERT INTO public.notes VALUES (1)",
        "SET search_path = app, public;\nCREATE TABLE IF NOT EXISTS notes (id int);\n",
    )
    assert capture["status"] == "manual", capture
    assert 'DROP TABLE "app"."notes"' in str(capture["reason"]), capture

    run = project.execute(MIGRATION)

    assert run.returncode == 3, run.stdout + run.stderr
    assert project.sql("SELECT id FROM public.notes") == [(1,)]


def test_an_added_column_is_read_on_the_table_the_path_finds(project: Project) -> None:
    # app comes first but has no `other`: the column is public.other's, which had it. The
    # rollback names the same table (the engine looks `other` up along the path); public.other
    # is a migration's table, whose history has no `note`, so the rollback drops the column.
    # apply saw it there before the statement: execute keeps that step, not run, the
    # column and its values where they are.
    capture = _apply(
        project,
        "CREATE SCHEMA app; ALTER TABLE public.other ADD COLUMN note text; "
        "INSERT INTO public.other VALUES (1, 'kept')",
        "SET search_path = app, public;\nALTER TABLE other ADD COLUMN IF NOT EXISTS note text;\n",
    )
    assert capture.get("existed") is True, capture
    rollback = (project.migrations / f"{MIGRATION}_rollback.sql").read_text()
    assert "ALTER TABLE public.other DROP COLUMN IF EXISTS note" in rollback, rollback
    assert "app.other" not in rollback, rollback

    run = project.execute(MIGRATION)

    assert run.returncode == 0, run.stdout + run.stderr
    assert project.sql("SELECT id, note FROM public.other") == [(1, "kept")]
    assert run.result is not None
    assert [s["status"] for s in run.result["statements"]] == ["kept"], run.result
    assert not run.result.get("archived"), run.result
