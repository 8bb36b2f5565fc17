"""`execute` with apply's captures, where a restore meets the schema its rollback is building:
a column the rollback drops afterwards, a statement undone in several steps, generated columns.
What the verifier proved (tests/integration/verify/test_verify_restore_placement.py) runs here on
a real target and puts the data back."""

from __future__ import annotations

import pytest
from capture_support import apply, cli, write
from runner_support import Project

pytestmark = pytest.mark.integration

BASE = "20250101000000_people"
CHANGE = "20250102000000_change"
PEOPLE = (
    "CREATE TABLE public.people (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
    "  name text NOT NULL, nick text DEFAULT 'n', age int DEFAULT 7,\n"
    "  code text GENERATED ALWAYS AS (upper(name)) STORED);\n"
)


def _round_trip(project: Project, pg_server: object, forward: str) -> None:
    write(project, BASE, PEOPLE)
    assert apply(project)[0] == 0
    project.sql("INSERT INTO public.people (name, nick, age) VALUES ('ann', 'a', 1), ('', 'e', 2)")
    write(project, CHANGE, forward)
    code, _, out = apply(project)
    assert code == 0, out
    shadow = str(pg_server.admin_url)  # type: ignore[attr-defined]
    made = cli(project, "generate", "--verify", "--force", "--shadow-url", shadow)
    assert made.returncode == 0, made.stdout + made.stderr
    run = project.execute(CHANGE)
    assert run.returncode == 0, run.stdout + run.stderr


def test_rows_deleted_after_a_backfill_come_back_without_the_new_column(
    project: Project, pg_server: object
) -> None:
    _round_trip(
        project,
        pg_server,
        "ALTER TABLE public.people ADD COLUMN team int;\n"
        "UPDATE public.people SET team = 1 WHERE name <> '';\n"
        "DELETE FROM public.people WHERE team IS NULL;\n"
        "ALTER TABLE public.people ALTER COLUMN team SET NOT NULL;\n",
    )
    assert project.sql("SELECT id, name, nick FROM public.people ORDER BY id") == [
        (1, "ann", "a"),
        (2, "", "e"),
    ]
    assert project.sql(
        "SELECT count(*) FROM information_schema.columns "
        "WHERE (table_schema, table_name, column_name) = ('public', 'people', 'team')"
    ) == [(0,)]


def test_dropped_columns_come_back_with_defaults_values_and_computed(
    project: Project, pg_server: object
) -> None:
    _round_trip(
        project,
        pg_server,
        "ALTER TABLE public.people DROP COLUMN nick, DROP COLUMN age, DROP COLUMN code;\n",
    )
    assert project.sql("SELECT id, nick, age, code FROM public.people ORDER BY id") == [
        (1, "a", 1, "ANN"),
        (2, "e", 2, ""),
    ]
    assert project.sql(
        "SELECT column_name, column_default FROM information_schema.columns "
        "WHERE table_name = 'people' AND column_name IN ('nick', 'age') ORDER BY 1"
    ) == [("age", "7"), ("nick", "'n'::text")]


@pytest.mark.parametrize(
    "added",
    [
        "ALTER TABLE public.people ADD CONSTRAINT named CHECK (name <> '') NOT VALID;\n",
        "CREATE FUNCTION public.stamp() RETURNS trigger LANGUAGE plpgsql AS\n"
        "  $$ BEGIN NEW.name := NEW.name || '!'; RETURN NEW; END $$;\n"
        "CREATE TRIGGER stamp BEFORE UPDATE OR INSERT ON public.people\n"
        "  FOR EACH ROW EXECUTE FUNCTION public.stamp();\n",
    ],
    ids=["check", "trigger"],
)
def test_prior_values_come_back_after_what_the_migration_added_is_gone(
    project: Project, pg_server: object, added: str
) -> None:
    """A CHECK would refuse the prior values, a trigger would rewrite them: the UPDATE's
    restore runs after the rollback dropped what the migration added before it."""
    _round_trip(
        project, pg_server, added + "UPDATE public.people SET name = 'x' WHERE name = '';\n"
    )
    assert project.sql("SELECT id, name, nick FROM public.people ORDER BY id") == [
        (1, "ann", "a"),
        (2, "", "e"),
    ]
