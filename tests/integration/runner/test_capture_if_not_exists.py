"""CREATE INDEX IF NOT EXISTS on a table no migration made: `apply` keeps whether the index
existed, and `execute` answers the rollback's MANUAL item from it (keep it, or drop it)."""

from __future__ import annotations

import pytest
from capture_support import apply, generate, write
from runner_support import Project

pytestmark = pytest.mark.integration

BASE = "20250101000000_base"
INDEX = "20250102000000_index"
# The table is the dashboard's: the generator cannot know whether the index was there.
INDEX_SQL = "SET search_path = app, public;\nCREATE INDEX IF NOT EXISTS by_name ON notes (name);\n"
INDEX_STATE = "SELECT indexdef FROM pg_indexes WHERE indexname = 'by_name'"


def _prepare(project: Project, *, existed: bool) -> dict[str, object]:
    write(project, BASE, "CREATE TABLE public.other (id int);\n")
    assert apply(project)[0] == 0
    project.sql("CREATE SCHEMA app; CREATE TABLE app.notes (id int PRIMARY KEY, name text)")
    if existed:
        project.sql("CREATE INDEX by_name ON app.notes (lower(name))")
    write(project, INDEX, INDEX_SQL)
    code, doc, out = apply(project)
    assert code == 0, out
    generate(project)
    assert "-- MANUAL:" in (project.migrations / f"{INDEX}_rollback.sql").read_text()
    return doc


def _capture(doc: dict[str, object]) -> tuple[object, object]:
    (capture,) = doc["applied"][0]["captures"]  # type: ignore[index]
    return capture["kind"], capture["absent"]


def test_an_index_that_existed_is_kept(project: Project) -> None:
    doc = _prepare(project, existed=True)
    assert _capture(doc) == ("create-index", False)
    assert doc["applied"][0]["captures"][0]["existed"] is True  # type: ignore[index]
    before = project.sql(INDEX_STATE)

    run = project.execute(INDEX)

    assert run.returncode == 0, run.stdout + run.stderr
    assert project.sql(INDEX_STATE) == before != []  # the dashboard's index, untouched
    assert "existed before the migration" in run.stdout
    assert project.versions() == ["20250101000000"]


def test_an_index_the_statement_made_is_dropped(project: Project) -> None:
    doc = _prepare(project, existed=False)
    assert _capture(doc) == ("create-index", True)
    assert project.sql(INDEX_STATE) != []

    run = project.execute(INDEX)

    assert run.returncode == 0, run.stdout + run.stderr
    assert project.sql(INDEX_STATE) == []
    assert project.sql("SELECT count(*) FROM app.notes") == [(0,)]  # its table stays
    assert project.versions() == ["20250101000000"]


def test_without_a_capture_the_manual_item_still_stops_execute(project: Project) -> None:
    write(project, BASE, "CREATE TABLE public.other (id int);\n")
    assert apply(project)[0] == 0
    project.sql("CREATE SCHEMA app; CREATE TABLE app.notes (id int PRIMARY KEY, name text)")
    write(project, INDEX, INDEX_SQL)
    assert apply(project, "--no-capture", "20250102000000")[0] == 0
    generate(project)

    run = project.execute(INDEX)

    assert run.returncode == 3, run.stdout + run.stderr
    assert "MANUAL" in run.stdout
    assert project.sql(INDEX_STATE) != []  # nothing guessed
