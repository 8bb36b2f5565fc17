"""Definition restores that must not widen anyone's rights or half-apply (real PostgreSQL).

A SECURITY DEFINER routine or an owner-rights view whose owner the rollback's role cannot set
back is refused (not recreated under the rollback's role); a capture catalog others may write,
or a kept statement a capture never writes, is refused before anything runs; a routine whose
defaults the migration added is dropped and created again (refused when something depends on
it); an index comes back with its replica identity and clustering."""

from __future__ import annotations

from typing import Any

import pytest
from capture_support import apply, generate, write
from runner_support import Project

pytestmark = pytest.mark.integration

PRECONDITION_FAILED = 3
OWNER, ROLLER = "mr_defsafe_owner", "mr_defsafe_roller"
BASE = "20250101000000_items"
BASE_SQL = "CREATE TABLE public.items (id bigint PRIMARY KEY, name text NOT NULL);\n"
GONE = "20250102000000_gone"
CATALOG = "migration_rollback_capture.captures"


def _role(project: Project, name: str) -> None:
    project.sql(
        f"DO $$BEGIN CREATE ROLE {name} LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$"
    )


def _base(project: Project, outside: str) -> None:
    write(project, BASE, BASE_SQL)
    code, _, out = apply(project)
    assert code == 0, out
    project.sql(outside)


def _dropped(project: Project, statement: str) -> None:
    write(project, GONE, statement)
    code, _, out = apply(project)
    assert code == 0, out
    generate(project)
    assert "-- MANUAL:" in (project.migrations / f"{GONE}_rollback.sql").read_text()


def _roller_url(project: Project) -> str:
    """A role that may run the rollback (audit, history, catalog, CREATE in public) and is
    not a member of the objects' owner."""
    _role(project, ROLLER)
    project.sql(
        f"GRANT USAGE ON SCHEMA supabase_migrations, migration_rollback, "
        f"migration_rollback_capture TO {ROLLER};"
        f"GRANT SELECT, DELETE ON supabase_migrations.schema_migrations TO {ROLLER};"
        f"GRANT SELECT, INSERT, UPDATE ON migration_rollback.audit_log TO {ROLLER};"
        f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA migration_rollback TO {ROLLER};"
        f"GRANT SELECT, UPDATE ON migration_rollback_capture.captures TO {ROLLER};"
        f"GRANT CREATE, USAGE ON SCHEMA public TO {ROLLER};"
        f"GRANT SELECT ON public.items TO {ROLLER}"
    )
    return project.url.replace("postgres@", f"{ROLLER}@", 1)


def _audit_table(project: Project) -> None:
    """The audit table made once by a role that may (the roller may not create schemas)."""
    assert project.execute(BASE, "--dry-run").returncode == 0


OWNED = {
    "definer routine": (
        "CREATE FUNCTION public.whoami() RETURNS text LANGUAGE sql SECURITY DEFINER"
        " AS $$ SELECT current_user::text $$",
        "ALTER FUNCTION public.whoami() OWNER TO {owner}",
        "DROP FUNCTION public.whoami();",
        "SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE proname = 'whoami'",
    ),
    "owner-rights view": (
        "CREATE VIEW public.named AS SELECT id, name FROM public.items",
        "ALTER VIEW public.named OWNER TO {owner}",
        "DROP VIEW public.named;",
        "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'named'",
    ),
    "invoker routine": (
        "CREATE FUNCTION public.whoami() RETURNS text LANGUAGE sql"
        " AS $$ SELECT current_user::text $$",
        "ALTER FUNCTION public.whoami() OWNER TO {owner}",
        "DROP FUNCTION public.whoami();",
        "SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE proname = 'whoami'",
    ),
    "invoker view": (
        "CREATE VIEW public.named WITH (security_invoker = true) AS"
        " SELECT id, name FROM public.items",
        "ALTER VIEW public.named OWNER TO {owner}",
        "DROP VIEW public.named;",
        "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'named'",
    ),
}


@pytest.mark.parametrize("step", ["data", "transaction"])
@pytest.mark.parametrize("case", ["definer routine", "owner-rights view"])
def test_owner_rights_object_whose_owner_cannot_be_set_back_is_refused(
    project: Project, case: str, step: str
) -> None:
    """Recreated by a role that is not a member of its owner, it would run with that role's
    rights (the old code recreated it so, exit 0): refused before anything runs (`data`), or,
    for a capture kept without saying how the object runs, on the recreated object inside the
    transaction, which rolls back whole."""
    create, own, drop, owner_of = OWNED[case]
    _role(project, OWNER)
    _base(project, f"{create}; {own.format(owner=OWNER)}")
    _dropped(project, drop)
    _audit_table(project)
    if step == "transaction":
        project.sql(f"UPDATE {CATALOG} SET detail = detail #- '{{rights,runs_as_owner}}'")

    run = project.execute(GONE, url=_roller_url(project))

    assert run.returncode == PRECONDITION_FAILED, run.stdout + run.stderr
    error: dict[str, Any] = (run.result or {})["error"]
    assert error["class"] == "PreconditionError"
    assert OWNER in error["message"]
    assert "owner's rights" in error["message"]
    assert run.step(step)["outcome"] == "failed"
    assert ("whoami()" if "routine" in case else "named") in error["message"]
    assert project.sql(owner_of) == []  # not recreated: the transaction rolled back
    assert project.versions() == ["20250101000000", "20250102000000"]


@pytest.mark.parametrize("case", ["invoker routine", "invoker view"])
def test_caller_rights_object_keeps_the_note(project: Project, case: str) -> None:
    create, own, drop, owner_of = OWNED[case]
    _role(project, OWNER)
    _base(project, f"{create}; {own.format(owner=OWNER)}")
    _dropped(project, drop)
    _audit_table(project)

    run = project.execute(GONE, url=_roller_url(project))

    assert run.returncode == 0, run.stdout + run.stderr
    assert project.sql(owner_of) == [(ROLLER,)]
    assert f"owner {OWNER} not set back" in run.stdout + run.stderr + str(run.result)


# --- the capture catalog is trusted only when no one else may write it ------------------

TRIGGER_SQL = """
CREATE FUNCTION public.noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER keep_me BEFORE UPDATE ON public.items FOR EACH ROW EXECUTE FUNCTION public.noop();
"""


@pytest.mark.parametrize(
    "tamper",
    [
        f"GRANT INSERT ON {CATALOG} TO {OWNER}",
        f"GRANT UPDATE (detail) ON {CATALOG} TO PUBLIC",
        f"GRANT TRIGGER ON {CATALOG} TO {OWNER}",
        f"ALTER TABLE {CATALOG} OWNER TO {OWNER}",
        f"ALTER SCHEMA migration_rollback_capture OWNER TO {OWNER}",
    ],
    ids=["insert", "column-update-public", "trigger", "table-owner", "schema-owner"],
)
def test_catalog_others_may_write_is_refused(project: Project, tamper: str) -> None:
    _role(project, OWNER)
    _base(project, TRIGGER_SQL)
    _dropped(project, "DROP TRIGGER keep_me ON public.items;")
    project.sql(tamper)

    run = project.execute(GONE)

    assert run.returncode == PRECONDITION_FAILED, run.stdout + run.stderr
    message = (run.result or {})["error"]["message"]
    assert "migration_rollback_capture" in message
    assert (OWNER if OWNER in tamper else "PUBLIC") in message
    assert project.value("SELECT count(*) FROM pg_trigger WHERE tgname = 'keep_me'") == 0
    assert project.versions() == ["20250101000000", "20250102000000"]


def test_kept_statement_of_another_kind_is_refused(project: Project) -> None:
    """A catalog row changed by hand: its extra statement is not run (the old code ran it)."""
    _base(project, TRIGGER_SQL)
    _dropped(project, "DROP TRIGGER keep_me ON public.items;")
    project.sql(
        f"UPDATE {CATALOG} SET detail = jsonb_set(detail, '{{restore}}', "
        "detail->'restore' || '[\"GRANT ALL ON public.items TO PUBLIC\"]'::jsonb)"
    )

    run = project.execute(GONE)

    assert run.returncode == PRECONDITION_FAILED, run.stdout + run.stderr
    assert "a capture never writes" in (run.result or {})["error"]["message"]
    assert run.step("data")["outcome"] == "failed"  # refused before the transaction began
    assert not any(s.get("step") == "transaction" for s in run.steps)
    assert project.value("SELECT relacl FROM pg_class WHERE relname = 'items'") is None
    assert project.value("SELECT count(*) FROM pg_trigger WHERE tgname = 'keep_me'") == 0


# --- a replaced routine CREATE OR REPLACE cannot put back --------------------------------

REGREET = "20250103000000_regreet"
GREET = """
CREATE FUNCTION public.greet(who text) RETURNS text LANGUAGE sql AS $$ SELECT 'hi ' || who $$;
COMMENT ON FUNCTION public.greet(text) IS 'the old greeting';
REVOKE ALL ON FUNCTION public.greet(text) FROM PUBLIC;
"""
REGREET_SQL = """
CREATE OR REPLACE FUNCTION public.greet(who text DEFAULT 'you') RETURNS text LANGUAGE sql
  AS $$ SELECT 'hello ' || who $$;
"""
GREET_STATE = (
    "SELECT prosrc, pronargdefaults, obj_description(oid, 'pg_proc'), proacl::text FROM pg_proc "
    "WHERE oid = 'public.greet(text)'::regprocedure"
)


def _regreet(project: Project, outside: str) -> list[tuple[Any, ...]]:
    """The routine's state before the migration replaced it."""
    _base(project, outside)
    before = project.sql(GREET_STATE)
    write(project, REGREET, REGREET_SQL)
    assert apply(project)[0] == 0
    (project.migrations / f"{REGREET}_rollback.sql").write_text(
        f"-- ROLLBACK: {REGREET}\n\n"
        f"-- undoes {REGREET}.sql:2: CREATE OR REPLACE FUNCTION public.greet(who text)\n"
        "-- MANUAL: restore the previous definition of public.greet(text)\n"
    )
    return before


def test_routine_given_defaults_is_dropped_and_created_again(project: Project) -> None:
    """CREATE OR REPLACE cannot remove parameter defaults: the old code's restore failed."""
    before = _regreet(project, GREET)

    run = project.execute(REGREET)

    assert run.returncode == 0, run.stdout + run.stderr
    assert project.sql(GREET_STATE) == before
    assert before[0][1] == 0


def test_routine_given_defaults_with_a_dependent_is_refused(project: Project) -> None:
    _regreet(project, GREET + "CREATE VIEW public.greeting AS SELECT public.greet('x') AS g;")

    run = project.execute(REGREET)

    assert run.returncode == PRECONDITION_FAILED, run.stdout + run.stderr
    message = (run.result or {})["error"]["message"]
    assert "view public.greeting depend" in message
    assert "CASCADE" in message
    assert project.value("SELECT public.greet()") == "hello you"  # nothing rolled back
    assert project.value("SELECT to_regclass('public.greeting') IS NOT NULL") is True


# --- an index's place in its table ---------------------------------------------------------

INDEX_ROLES = (
    "SELECT i.indisreplident, i.indisclustered, c.relreplident::text FROM pg_index i "
    "JOIN pg_class c ON c.oid = i.indrelid WHERE i.indexrelid = to_regclass('public.items_key')"
)


STATISTICS = (
    "SELECT attstattarget FROM pg_attribute "
    "WHERE attrelid = to_regclass('public.items_lower') AND attnum = 1"
)


def test_dropped_index_gets_its_replica_identity_and_clustering_back(project: Project) -> None:
    """What the table (and ALTER INDEX) say of an index, not pg_get_indexdef: the old
    restore recreated the index alone."""
    _base(
        project,
        "CREATE UNIQUE INDEX items_key ON public.items (name);"
        "ALTER TABLE public.items REPLICA IDENTITY USING INDEX items_key;"
        "ALTER TABLE public.items CLUSTER ON items_key;"
        "CREATE INDEX items_lower ON public.items (lower(name));"
        "ALTER INDEX public.items_lower ALTER COLUMN 1 SET STATISTICS 500",
    )
    _dropped(project, "DROP INDEX public.items_key, public.items_lower;")

    run = project.execute(GONE)

    assert run.returncode == 0, run.stdout + run.stderr
    assert project.sql(INDEX_ROLES) == [(True, True, "i")]
    assert project.value(STATISTICS) == 500


def test_global_default_privileges_do_not_keep_the_catalog_from_being_trusted(
    project: Project,
) -> None:
    """A project's ALTER DEFAULT PRIVILEGES GRANT ALL ON TABLES (no IN SCHEMA) gave a role
    write access to the catalog and every capture table `apply` made: `execute` refused to
    trust them, with no way on but a REVOKE by hand. `apply` revokes them before its COMMIT."""
    _role(project, OWNER)
    project.sql(f"ALTER DEFAULT PRIVILEGES GRANT ALL ON TABLES TO {OWNER}")
    try:
        _base(project, TRIGGER_SQL)
        _dropped(project, "DROP TRIGGER keep_me ON public.items;")
        given = project.value(
            "SELECT count(*) FROM pg_class c, aclexplode(c.relacl) a "
            "WHERE c.relnamespace = 'migration_rollback_capture'::regnamespace "
            f"AND a.grantee = '{OWNER}'::regrole"
        )
        assert given == 0

        run = project.execute(GONE, "--allow-manual")

        assert run.returncode == 0, run.stdout + run.stderr
        assert project.value("SELECT count(*) FROM pg_trigger WHERE tgname = 'keep_me'") == 1
    finally:
        project.sql(f"ALTER DEFAULT PRIVILEGES REVOKE ALL ON TABLES FROM {OWNER}")
