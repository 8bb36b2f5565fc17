"""Definitions no migration wrote: `apply` keeps them before a DROP or CREATE OR REPLACE, and
`execute` puts them back where the rollback undoes that statement (its MANUAL item answered)."""

from __future__ import annotations

import pytest
from capture_support import apply, generate, write
from runner_support import Project

pytestmark = pytest.mark.integration

BASE = "20250101000000_items"
BASE_SQL = """
CREATE TABLE public.items (id bigint PRIMARY KEY, name text, touched text);
CREATE FUNCTION public.stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.touched := 'stamped'; RETURN NEW; END $$;
"""
# Made in the dashboard: no migration wrote them.
OUTSIDE = """
CREATE TRIGGER keep_me BEFORE UPDATE OF name ON public.items
  FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION public.stamp();
ALTER TABLE public.items ENABLE ALWAYS TRIGGER keep_me;
COMMENT ON TRIGGER keep_me ON public.items IS 'made by hand';
CREATE FUNCTION public.greet(who text) RETURNS text LANGUAGE sql AS $$ SELECT 'hi ' || who $$;
COMMENT ON FUNCTION public.greet(text) IS 'the old greeting';
REVOKE ALL ON FUNCTION public.greet(text) FROM PUBLIC;
ALTER TABLE public.items ENABLE ROW LEVEL SECURITY;
CREATE POLICY readers ON public.items AS RESTRICTIVE FOR SELECT TO PUBLIC
  USING (name IS NOT NULL AND id > 0);
"""
TRIGGER = "20250102000000_retrigger"
TRIGGER_SQL = """
DROP TRIGGER IF EXISTS keep_me ON public.items;
CREATE TRIGGER keep_me BEFORE INSERT ON public.items
  FOR EACH ROW EXECUTE FUNCTION public.stamp();
"""
TRIGGER_DEF = "SELECT pg_get_triggerdef(oid), tgenabled::text, obj_description(oid, 'pg_trigger') "
TRIGGER_DEF += "FROM pg_trigger WHERE tgname = 'keep_me'"


def _base(project: Project, outside: bool = True) -> None:
    write(project, BASE, BASE_SQL)
    code, _, out = apply(project)
    assert code == 0, out
    if outside:
        project.sql(OUTSIDE)


def _apply_and_generate(
    project: Project, name: str, text: str, *, manual: bool = True
) -> dict[str, object]:
    write(project, name, text)
    code, doc, out = apply(project)
    assert code == 0, out
    generate(project)
    rollback = (project.migrations / f"{name}_rollback.sql").read_text()
    # The generator cannot know a prior definition no migration wrote.
    assert ("-- MANUAL:" in rollback) is manual
    return doc


def test_dropped_trigger_made_outside_migrations_is_recreated_exactly(project: Project) -> None:
    _base(project)
    before = project.sql(TRIGGER_DEF)
    doc = _apply_and_generate(project, TRIGGER, TRIGGER_SQL)
    captures = doc["applied"][0]["captures"]  # type: ignore[index]
    assert [(c["kind"], c["absent"]) for c in captures] == [("drop-trigger", False)]
    assert project.sql(TRIGGER_DEF) != before

    run = project.execute(TRIGGER)

    assert run.returncode == 0, run.stdout + run.stderr
    assert project.sql(TRIGGER_DEF) == before
    assert before[0][1:] == ("A", "made by hand")
    assert project.versions() == ["20250101000000"]


def test_drop_if_exists_of_an_absent_trigger_does_not_block(project: Project) -> None:
    _base(project, outside=False)
    doc = _apply_and_generate(project, TRIGGER, TRIGGER_SQL)
    captures = doc["applied"][0]["captures"]  # type: ignore[index]
    assert [(c["kind"], c["absent"]) for c in captures] == [("drop-trigger", True)]

    run = project.execute(TRIGGER)

    assert run.returncode == 0, run.stdout + run.stderr
    assert project.sql(TRIGGER_DEF) == []  # the migration's trigger gone, none recreated
    assert project.versions() == ["20250101000000"]


FUNCTION = "20250103000000_regreet"
FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION public.greet(who text) RETURNS text LANGUAGE sql
  AS $$ SELECT 'hello ' || who $$;
"""
FUNCTION_STATE = (
    "SELECT prosrc, obj_description(oid, 'pg_proc'), proacl::text FROM pg_proc "
    "WHERE oid = 'public.greet(text)'::regprocedure"
)


def _unknown_history(project: Project) -> None:
    """The rollback of a project whose earlier migrations do not say whether it existed."""
    (project.migrations / f"{FUNCTION}_rollback.sql").write_text(
        f"-- ROLLBACK: {FUNCTION}\n\n"
        f"-- undoes {FUNCTION}.sql:2: CREATE OR REPLACE FUNCTION public.greet(who text)\n"
        "-- MANUAL: function public.greet(text) is created with OR REPLACE and earlier "
        "migrations are not known: if it existed before, restore its previous definition; "
        "if not, run: DROP FUNCTION IF EXISTS public.greet(text)\n"
    )


def test_replaced_function_made_outside_migrations_gets_its_old_body(project: Project) -> None:
    _base(project)
    before = project.sql(FUNCTION_STATE)
    write(project, FUNCTION, FUNCTION_SQL)
    assert apply(project)[0] == 0
    _unknown_history(project)
    assert project.value("SELECT public.greet('x')") == "hello x"

    run = project.execute(FUNCTION)

    assert run.returncode == 0, run.stdout + run.stderr
    assert project.value("SELECT public.greet('x')") == "hi x"
    assert project.sql(FUNCTION_STATE) == before


def test_replaced_function_that_did_not_exist_is_dropped(project: Project) -> None:
    _base(project, outside=False)
    write(project, FUNCTION, FUNCTION_SQL)
    assert apply(project)[0] == 0
    _unknown_history(project)

    run = project.execute(FUNCTION)

    assert run.returncode == 0, run.stdout + run.stderr
    assert project.value("SELECT to_regprocedure('public.greet(text)')") is None


def test_a_step_the_rollback_runs_itself_is_left_to_it(project: Project) -> None:
    """The migrations say greet is new here, so the rollback drops it: its group runs SQL, and
    the capture does not recreate the function over it (two recreations of one object collide
    when the rollback's later steps rename it); the run is not blocked."""
    _base(project)
    _apply_and_generate(project, FUNCTION, FUNCTION_SQL, manual=False)

    run = project.execute(FUNCTION)

    assert run.returncode == 0, run.stdout + run.stderr
    assert project.value("SELECT to_regprocedure('public.greet(text)')") is None


def test_dropped_function_comes_back_with_comment_and_privileges(project: Project) -> None:
    _base(project)
    before = project.sql(FUNCTION_STATE)
    _apply_and_generate(project, "20250104000000_ungreet", "DROP FUNCTION public.greet(text);")

    run = project.execute("20250104000000_ungreet")

    assert run.returncode == 0, run.stdout + run.stderr
    assert project.sql(FUNCTION_STATE) == before


POLICY = "20250105000000_unpolicy"
POLICY_STATE = (
    "SELECT polname, polpermissive, polcmd::text, polroles::text, "
    "pg_get_expr(polqual, polrelid), pg_get_expr(polwithcheck, polrelid) FROM pg_policy"
)


def test_dropped_policy_is_rebuilt_from_the_catalog(project: Project) -> None:
    _base(project)
    before = project.sql(POLICY_STATE)
    _apply_and_generate(project, POLICY, "DROP POLICY IF EXISTS readers ON public.items;")
    assert project.sql(POLICY_STATE) == []

    run = project.execute(POLICY)

    assert run.returncode == 0, run.stdout + run.stderr
    assert project.sql(POLICY_STATE) == before
    assert before[0][1] is False  # RESTRICTIVE came back as it was


def test_drop_function_cascade_stays_manual(project: Project) -> None:
    _base(project)
    text = "DROP FUNCTION public.greet(text) CASCADE;"
    doc = _apply_and_generate(project, "20250106000000_cascade", text)
    (capture,) = doc["applied"][0]["captures"]  # type: ignore[index]
    assert capture["status"] == "manual"

    run = project.execute("20250106000000_cascade")

    assert run.returncode == 3  # the MANUAL marker still blocks


INDEX = "20250107000000_unindex"
INDEX_STATE = (
    "SELECT pg_get_indexdef(c.oid), obj_description(c.oid, 'pg_class') FROM pg_class c "
    "WHERE c.oid = to_regclass('public.items_named')"
)


def test_dropped_index_made_outside_migrations_is_rebuilt_exactly(project: Project) -> None:
    _base(project)
    project.sql(
        "CREATE UNIQUE INDEX items_named ON public.items (lower(name)) WITH (fillfactor = 70) "
        "WHERE name IS NOT NULL; COMMENT ON INDEX public.items_named IS 'by hand'"
    )
    before = project.sql(INDEX_STATE)
    doc = _apply_and_generate(project, INDEX, "DROP INDEX IF EXISTS public.items_named;")
    (capture,) = doc["applied"][0]["captures"]  # type: ignore[index]
    assert (capture["kind"], capture["absent"]) == ("drop-index", False)
    assert project.sql(INDEX_STATE) == []

    run = project.execute(INDEX)

    assert run.returncode == 0, run.stdout + run.stderr
    assert project.sql(INDEX_STATE) == before
    assert before[0][1] == "by hand"


def test_index_of_a_constraint_is_a_reason(project: Project) -> None:
    """DROP INDEX of a constraint's index fails on its own: the capture says why it kept
    nothing, and the migration fails as it would without `apply`."""
    _base(project)
    project.sql("ALTER TABLE public.items ADD CONSTRAINT items_name_key UNIQUE (name)")
    write(project, INDEX, "DROP INDEX IF EXISTS public.items_name_key;")

    code, _, out = apply(project)

    assert code != 0
    assert "items_name_key" in out
    assert project.value("SELECT to_regclass('public.items_name_key') IS NOT NULL") is True


@pytest.mark.parametrize(
    "text",
    [
        "DROP FUNCTION IF EXISTS public.nothing(no_such_type);",
        "DROP FUNCTION IF EXISTS no_such_schema.nothing(int);",
        "DROP TRIGGER IF EXISTS nothing ON public.no_such_table;",
        "DROP POLICY IF EXISTS nothing ON no_such_schema.items;",
        "DROP INDEX IF EXISTS no_such_schema.nothing;",
    ],
)
def test_drop_if_exists_of_nothing_applies_and_keeps_absent(project: Project, text: str) -> None:
    """The capture resolves names as the statement does, without failing where IF EXISTS
    makes the statement a no-op."""
    _base(project, outside=False)
    write(project, "20250108000000_nothing", text)

    code, doc, out = apply(project)

    assert code == 0, out
    (capture,) = doc["applied"][0]["captures"]
    assert (capture["status"], capture["absent"]) == ("captured", True)


VIEW = "20250109000000_unview"
VIEW_STATE = (
    "SELECT pg_get_viewdef(c.oid), c.reloptions::text, obj_description(c.oid, 'pg_class'), "
    "col_description(c.oid, 1), pg_get_userbyid(c.relowner), "
    "(SELECT array_agg(a::text ORDER BY a::text) FROM unnest(c.relacl) a) FROM pg_class c "
    "WHERE c.oid = to_regclass('public.named_items')"
)


def test_dropped_view_comes_back_with_options_comments_and_privileges(project: Project) -> None:
    _base(project)
    project.sql(
        "CREATE VIEW public.named_items WITH (security_invoker = true) AS "
        "SELECT id, upper(name) AS shout FROM public.items WHERE name IS NOT NULL "
        "WITH LOCAL CHECK OPTION;"
        "COMMENT ON VIEW public.named_items IS 'by hand';"
        "COMMENT ON COLUMN public.named_items.id IS 'the id';"
        "REVOKE ALL ON public.named_items FROM PUBLIC;"
        "GRANT SELECT ON public.named_items TO PUBLIC"
    )
    before = project.sql(VIEW_STATE)
    _apply_and_generate(project, VIEW, "DROP VIEW IF EXISTS public.named_items;")
    assert project.sql(VIEW_STATE) == []

    run = project.execute(VIEW)

    assert run.returncode == 0, run.stdout + run.stderr
    assert project.sql(VIEW_STATE) == before
    assert "=r/postgres" in before[0][5]  # PUBLIC's SELECT, beyond the owner's defaults


def test_view_with_a_trigger_is_a_reason(project: Project) -> None:
    _base(project)
    project.sql(
        "CREATE VIEW public.named_items AS SELECT id, name FROM public.items;"
        "CREATE FUNCTION public.noop() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RETURN NEW; END $$;"
        "CREATE TRIGGER instead INSTEAD OF INSERT ON public.named_items "
        "FOR EACH ROW EXECUTE FUNCTION public.noop()"
    )
    write(project, VIEW, "DROP VIEW public.named_items;")

    code, doc, out = apply(project)

    assert code == 0, out
    (capture,) = doc["applied"][0]["captures"]
    assert capture["status"] == "manual"
    assert "trigger" in capture["reason"]


def test_an_old_body_naming_what_was_renamed_since_is_put_back(project: Project) -> None:
    """A SQL function's body is checked at CREATE: the old one, naming a table an earlier
    change renamed, was refused at the restore and the whole rollback failed (hivecom:
    fix_function_bodies_after_network_table_renames). Put back as the catalog held it."""
    _base(project, outside=False)
    project.sql(
        "CREATE TABLE public.hosts (id int);"
        "CREATE FUNCTION public.greet(who text) RETURNS text LANGUAGE sql"
        " AS $$ SELECT who || count(*) FROM public.hosts $$;"
        "ALTER TABLE public.hosts RENAME TO servers;"
    )
    before = project.sql("SELECT prosrc FROM pg_proc WHERE proname = 'greet'")
    write(project, FUNCTION, FUNCTION_SQL)
    assert apply(project)[0] == 0
    _unknown_history(project)

    run = project.execute(FUNCTION)

    assert run.returncode == 0, run.stdout + run.stderr
    assert project.sql("SELECT prosrc FROM pg_proc WHERE proname = 'greet'") == before
    assert project.value("SHOW check_function_bodies") == "on"
