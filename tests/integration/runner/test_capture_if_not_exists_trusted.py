"""IF NOT EXISTS of what the engine took for new from history: a column no migration made on a
migration's table, an index no migration made on a migration's table. The rollback drops it
(`DROP COLUMN` archived, `DROP INDEX`), but the object may have been made in the dashboard
before the migration ran, and then IF NOT EXISTS changed nothing. `apply` read whether it was
there; `execute` keeps the step, not run, when it was (the values stay where they are), and
runs it as before when the statement made the object. `apply`, `generate`, then `execute`."""

from __future__ import annotations

import pytest
from capture_support import apply, cli, generate, write
from runner_support import Project, Run

pytestmark = pytest.mark.integration

BASE = "20250101000000_base"
MIGRATION = "20250102000000_maybe"
KEPT = "kept: it existed before the migration (IF NOT EXISTS left it), nothing to undo"
COLUMNS = (
    "SELECT attrelid::regclass::text FROM pg_attribute WHERE attname = 'c' AND attnum > 0 "
    "AND NOT attisdropped AND attrelid IN ('public.t'::regclass, 'public.u'::regclass) ORDER BY 1"
)
INDEXES = "SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE '%by_name' ORDER BY 1"


def _apply(project: Project, by_hand: str, forward: str) -> list[dict[str, object]]:
    """Migration 1 makes public.t and public.u, `by_hand` runs in the dashboard, migration 2
    (`forward`) is applied with captures; the rollbacks are generated."""
    write(
        project,
        BASE,
        "CREATE TABLE public.t (id int PRIMARY KEY, name text);\n"
        "CREATE TABLE public.u (id int PRIMARY KEY, name text);\n",
    )
    assert apply(project)[0] == 0
    project.sql("INSERT INTO public.t VALUES (1, 'a'), (2, 'b'); INSERT INTO public.u VALUES (1)")
    project.sql(by_hand)
    write(project, MIGRATION, forward)
    code, doc, out = apply(project)
    assert code == 0, out
    generate(project)
    return doc["applied"][0]["captures"]  # type: ignore[index, no-any-return]


def _rollback(project: Project) -> str:
    return (project.migrations / f"{MIGRATION}_rollback.sql").read_text()


def _status(run: Run, start: str) -> tuple[object, object]:
    assert run.result is not None, run.stdout + run.stderr
    step = next(s for s in run.result["statements"] if str(s["sql"]).startswith(start))
    return step["status"], step.get("note")


# Both columns are new to history (their tables are migrations'); only t's was made by hand.
ADD_COLUMNS = (
    "ALTER TABLE public.t ADD COLUMN IF NOT EXISTS c text;\n"
    "ALTER TABLE public.u ADD COLUMN IF NOT EXISTS c text;\n"
)
BY_HAND_COLUMN = "ALTER TABLE public.t ADD COLUMN c text; UPDATE public.t SET c = 'hand ' || id"


def test_a_column_made_by_hand_keeps_its_values_one_the_migration_made_goes(
    project: Project,
) -> None:
    captures = _apply(project, BY_HAND_COLUMN, ADD_COLUMNS)
    assert [c.get("existed") for c in captures] == [True, None], captures
    rollback = _rollback(project)
    assert "ALTER TABLE public.t DROP COLUMN IF EXISTS c" in rollback, rollback
    assert "ALTER TABLE public.u DROP COLUMN IF EXISTS c" in rollback, rollback

    run = project.execute(MIGRATION)

    assert run.returncode == 0, run.stdout + run.stderr
    assert project.sql(COLUMNS) == [("t",)]  # u's column, the migration's, is gone
    assert project.sql("SELECT id, c FROM public.t ORDER BY id") == [(1, "hand 1"), (2, "hand 2")]
    assert _status(run, "ALTER TABLE public.t DROP COLUMN") == ("kept", KEPT)
    assert _status(run, "ALTER TABLE public.u DROP COLUMN") == ("done", None)
    assert KEPT in run.stdout
    archived = [(a["kind"], a["source"]) for a in run.result["archived"]]  # type: ignore[index]
    assert archived == [("column", "public.u.c")], archived  # only what was dropped
    assert project.versions() == ["20250101000000"]


def test_kept_it_is_no_data_destroying_step_even_with_purge(project: Project) -> None:
    """--purge makes a DROP COLUMN a data-destroying step, which refuses `--backup none`;
    kept, it is not one: nothing is destroyed, no backup is needed."""
    _apply(project, BY_HAND_COLUMN, "ALTER TABLE public.t ADD COLUMN IF NOT EXISTS c text;\n")

    run = project.execute(MIGRATION, "--purge", "--allow-data-loss", "--backup", "none")

    assert run.returncode == 0, run.stdout + run.stderr
    assert project.sql(COLUMNS) == [("t",)]


ADD_INDEXES = (
    "CREATE INDEX IF NOT EXISTS by_name ON public.t (name);\n"
    "CREATE INDEX IF NOT EXISTS u_by_name ON public.u (name);\n"
)


def test_an_index_made_by_hand_is_kept_one_the_migration_made_goes(project: Project) -> None:
    captures = _apply(project, "CREATE INDEX by_name ON public.t (lower(name))", ADD_INDEXES)
    assert [(c["kind"], c.get("existed")) for c in captures] == [
        ("create-index", True),
        ("create-index", None),
    ], captures
    rollback = _rollback(project)
    assert "DROP INDEX IF EXISTS public.by_name" in rollback, rollback
    assert "DROP INDEX IF EXISTS public.u_by_name" in rollback, rollback

    run = project.execute(MIGRATION)

    assert run.returncode == 0, run.stdout + run.stderr
    assert project.sql(INDEXES) == [
        ("by_name", "CREATE INDEX by_name ON public.t USING btree (lower(name))")
    ]  # the dashboard's index, untouched; the migration's gone
    assert _status(run, "DROP INDEX IF EXISTS public.by_name") == ("kept", KEPT)
    assert _status(run, "DROP INDEX IF EXISTS public.u_by_name") == ("done", None)


def test_a_verified_drop_table_of_a_table_made_by_hand_is_kept(
    project: Project, pg_server: object
) -> None:
    """`generate --verify` fills the MANUAL item of an IF NOT EXISTS table no migration made
    from the shadow, where it did not exist: the rollback drops it. In the target it was the
    dashboard's, with rows: apply saw it, so execute keeps the step, not run."""
    write(project, BASE, "CREATE TABLE public.other (id int);\n")
    assert apply(project)[0] == 0
    project.sql("CREATE TABLE public.notes (id int); INSERT INTO public.notes VALUES (7)")
    write(project, MIGRATION, "CREATE TABLE IF NOT EXISTS public.notes (id int);\n")
    code, doc, out = apply(project)
    assert code == 0, out
    assert doc["applied"][0]["captures"][0].get("existed") is True, doc
    shadow = str(pg_server.admin_url)  # type: ignore[attr-defined]
    made = cli(project, "generate", "--verify", "--force", "--shadow-url", shadow)
    assert made.returncode == 0, made.stdout + made.stderr
    rollback = _rollback(project)
    assert "DROP TABLE IF EXISTS public.notes" in rollback, rollback

    run = project.execute(MIGRATION)

    assert run.returncode == 0, run.stdout + run.stderr
    assert project.sql("SELECT id FROM public.notes") == [(7,)]  # not even archived
    assert _status(run, "DROP TABLE IF EXISTS public.notes") == ("kept", KEPT)


def test_a_capture_of_another_text_of_the_migration_keeps_nothing(project: Project) -> None:
    """The migration file was edited after apply (its lines swapped) and the rollback made
    again: the capture's line 1 was t's column (made by hand), the file's line 1 is now u's
    (made by the migration). Kept by that line, u's column would stay and t's go; the capture
    speaks of another text, so no step is kept on its word (both run, as before captures)."""
    _apply(project, BY_HAND_COLUMN, ADD_COLUMNS)
    swapped = "".join(reversed(ADD_COLUMNS.splitlines(keepends=True)))
    write(project, MIGRATION, swapped)
    generate(project)

    run = project.execute(MIGRATION, "--allow-data-loss")

    assert run.returncode == 0, run.stdout + run.stderr
    assert _status(run, "ALTER TABLE public.u DROP COLUMN") == ("done", None)
    assert project.sql(COLUMNS) == []
    assert not any(s["status"] == "kept" for s in run.result["statements"])  # type: ignore[index]
    assert "another text" in run.stdout, run.stdout


COLUMN_STATE = (
    "SELECT pg_get_expr(d.adbin, d.adrelid), a.attnotnull FROM pg_attribute a "
    "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
    "WHERE a.attrelid = 'public.t'::regclass AND a.attname = 'c'"
)


def test_a_kept_column_gets_back_the_default_and_not_null_a_later_statement_changed(
    project: Project,
) -> None:
    """The engine took the column for new: its DROP COLUMN undoes the later SET DEFAULT and
    SET NOT NULL too. It was the dashboard's, with a default of its own and no NOT NULL, and the
    DROP is kept: where it would have run, the column's default and NOT NULL are set back as
    apply read them before the IF NOT EXISTS (not left as the migration made them)."""
    _apply(
        project,
        "ALTER TABLE public.t ADD COLUMN c text DEFAULT 'hand'",
        "ALTER TABLE public.t ADD COLUMN IF NOT EXISTS c text;\n"
        "ALTER TABLE public.t ALTER COLUMN c SET DEFAULT 'x', ALTER COLUMN c SET NOT NULL;\n",
    )
    assert project.sql(COLUMN_STATE) == [("'x'::text", True)]  # as the migration left it

    run = project.execute(MIGRATION)

    assert run.returncode == 0, run.stdout + run.stderr
    assert project.sql(COLUMN_STATE) == [("'hand'::text", False)]
    assert project.sql("SELECT id, c FROM public.t ORDER BY id") == [(1, "hand"), (2, "hand")]


def test_a_kept_column_without_default_or_not_null_is_left_without(project: Project) -> None:
    _apply(
        project,
        BY_HAND_COLUMN,
        "ALTER TABLE public.t ADD COLUMN IF NOT EXISTS c text;\n"
        "ALTER TABLE public.t ALTER COLUMN c SET DEFAULT 'x';\n",
    )

    run = project.execute(MIGRATION)

    assert run.returncode == 0, run.stdout + run.stderr
    assert project.sql(COLUMN_STATE) == [(None, False)]
