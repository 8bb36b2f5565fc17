"""CREATE TABLE / SEQUENCE / SCHEMA / EXTENSION and ADD COLUMN IF NOT EXISTS of what no migration
made: `apply` keeps whether it existed. Existed: `execute` answers the rollback's MANUAL item
(nothing to undo, the object untouched). Absent: removing it destroys what it holds, the data-loss
gate's call, so the item stays MANUAL and execute stops, saying it did not exist and which DROP
to write; nothing is dropped."""

from __future__ import annotations

import pytest
from capture_support import apply, generate, write
from runner_support import Project

pytestmark = pytest.mark.integration

BASE = "20250101000000_base"
MIGRATION = "20250102000000_maybe"

# kind: (made outside migrations when it existed, the forward statement, how to see it)
CASES = {
    "table": (
        "CREATE TABLE app.notes (id int); INSERT INTO app.notes VALUES (1)",
        "SET search_path = app, public;\nCREATE TABLE IF NOT EXISTS notes (id int);\n",
        "SELECT count(*) FROM pg_class WHERE relname = 'notes' "
        "AND relnamespace = 'app'::regnamespace",
    ),
    "sequence": (
        "CREATE SEQUENCE app.counter",
        "CREATE SEQUENCE IF NOT EXISTS app.counter;\n",
        "SELECT count(*) FROM pg_class WHERE relname = 'counter'",
    ),
    "schema": (
        "CREATE SCHEMA extra",
        "CREATE SCHEMA IF NOT EXISTS extra;\n",
        "SELECT count(*) FROM pg_namespace WHERE nspname = 'extra'",
    ),
    "extension": (
        "CREATE EXTENSION seg",
        "CREATE EXTENSION IF NOT EXISTS seg;\n",
        "SELECT count(*) FROM pg_extension WHERE extname = 'seg'",
    ),
    "column": (
        "ALTER TABLE app.things ADD COLUMN note text",
        "SET search_path = app, public;\nALTER TABLE things ADD COLUMN IF NOT EXISTS note text;\n",
        "SELECT count(*) FROM pg_attribute WHERE attrelid = 'app.things'::regclass "
        "AND attname = 'note' AND NOT attisdropped",
    ),
}


def _prepare(project: Project, kind: str, *, existed: bool) -> dict[str, object]:
    made, forward, _ = CASES[kind]
    write(project, BASE, "CREATE TABLE public.other (id int);\n")
    assert apply(project)[0] == 0
    project.sql("CREATE SCHEMA app; CREATE TABLE app.things (id int)")
    if existed:
        project.sql(made)
    write(project, MIGRATION, forward)
    code, doc, out = apply(project)
    assert code == 0, out
    generate(project)
    assert "-- MANUAL:" in (project.migrations / f"{MIGRATION}_rollback.sql").read_text()
    return doc


def _capture(doc: dict[str, object]) -> dict[str, object]:
    (capture,) = doc["applied"][0]["captures"]  # type: ignore[index]
    return capture  # type: ignore[no-any-return]


@pytest.mark.parametrize("kind", sorted(CASES))
def test_what_existed_before_is_kept_and_the_item_answered(project: Project, kind: str) -> None:
    doc = _prepare(project, kind, existed=True)
    assert _capture(doc)["existed"] is True
    seen = CASES[kind][2]
    before = project.sql(seen)

    run = project.execute(MIGRATION)

    assert run.returncode == 0, run.stdout + run.stderr
    assert project.sql(seen) == before == [(1,)]  # untouched
    assert "existed before the migration" in run.stdout
    assert project.versions() == ["20250101000000"]
    if kind == "table":
        assert project.sql("SELECT id FROM app.notes") == [(1,)]


@pytest.mark.parametrize("kind", sorted(CASES))
def test_what_the_statement_made_stays_manual_with_the_drop_to_write(
    project: Project, kind: str
) -> None:
    doc = _prepare(project, kind, existed=False)
    capture = _capture(doc)
    assert capture["status"] == "manual"
    seen = CASES[kind][2]
    assert project.sql(seen) == [(1,)]

    run = project.execute(MIGRATION)

    assert run.returncode == 3, run.stdout + run.stderr
    assert project.sql(seen) == [(1,)]  # nothing dropped: the data-loss gate's call
    assert project.versions() == ["20250101000000", "20250102000000"]
    said = run.stdout + run.stderr
    assert "MANUAL" in said
    assert "did not exist before this migration" in said  # what apply read, said
