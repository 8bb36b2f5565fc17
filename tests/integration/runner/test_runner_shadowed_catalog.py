"""The runner's SQL is PostgreSQL's catalog's, even after the migration puts its own schema first.

A rollback (or a migration) that sets `search_path = evil, pg_catalog, public` makes every
unqualified type, function and operator resolve in `evil` first: a domain `oid`, `regclass`,
`text` or `name`, a function `to_regclass` or `pg_get_indexdef`, an operator `=` on oids there
took the place of pg_catalog's in the queries of the archive, the detach and the captures,
which failed (or answered wrong) half-way through the transaction. They now run with
pg_catalog first, and the migration's own statements with the path it set.
"""

from __future__ import annotations

import pytest
from capture_support import apply
from runner_support import Project

pytestmark = pytest.mark.integration

NAME = "20251201000000_gone"
# Everything here raises: reaching any of it is the failure.
SHADOWS = """
CREATE SCHEMA evil;
CREATE DOMAIN evil.oid AS pg_catalog.int8 CHECK (VALUE < 0);
CREATE DOMAIN evil.regclass AS pg_catalog.int8 CHECK (VALUE < 0);
CREATE DOMAIN evil.text AS pg_catalog.varchar(1);
CREATE DOMAIN evil.name AS pg_catalog.varchar(1);
CREATE FUNCTION evil.boom() RETURNS pg_catalog.bool LANGUAGE plpgsql
  AS $$BEGIN RAISE EXCEPTION 'shadowed catalog object used'; END$$;
CREATE FUNCTION evil.to_regclass(pg_catalog.text) RETURNS pg_catalog.regclass LANGUAGE plpgsql
  AS $$BEGIN RAISE EXCEPTION 'shadowed to_regclass used'; END$$;
CREATE FUNCTION evil.pg_get_indexdef(pg_catalog.oid) RETURNS pg_catalog.text LANGUAGE plpgsql
  AS $$BEGIN RAISE EXCEPTION 'shadowed pg_get_indexdef used'; END$$;
CREATE FUNCTION evil.eq(pg_catalog.oid, pg_catalog.oid) RETURNS pg_catalog.bool
  LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'shadowed = used'; END$$;
CREATE OPERATOR evil.= (LEFTARG = pg_catalog.oid, RIGHTARG = pg_catalog.oid, FUNCTION = evil.eq);
"""
SHADOWED = "SET search_path = evil, pg_catalog, public;\n"


def _tables(project: Project) -> None:
    project.sql(SHADOWS)
    project.add(
        NAME,
        "CREATE TABLE public.parent (id int PRIMARY KEY);"
        "CREATE TABLE public.gone (id int PRIMARY KEY, parent int REFERENCES public.parent,"
        " note text);"
        "CREATE INDEX gone_note ON public.gone (note);"
        "CREATE TABLE public.child (gone int REFERENCES public.gone);"
        "CREATE VIEW public.gone_view AS SELECT id FROM public.gone;"
        "INSERT INTO public.parent VALUES (1); INSERT INTO public.gone VALUES (1, 1, 'x');",
        SHADOWED + "DROP TABLE public.gone CASCADE;\nDROP TABLE public.parent;\n",
    )


def test_execute_archives_and_detaches_under_a_shadowing_search_path(project: Project) -> None:
    _tables(project)

    run = project.execute(NAME, "--allow-data-loss")

    assert run.returncode == 0, run.stdout + run.stderr
    assert NAME[:14] not in project.versions()
    archived = project.value(
        "SELECT count(*) FROM pg_tables WHERE schemaname = 'migration_rollback_archive'"
    )
    assert archived == 2
    assert project.value("SELECT to_regclass('public.gone')") is None


def test_the_rollback_still_runs_on_its_own_search_path(project: Project) -> None:
    """The migration's statements see the path it set: an unqualified name resolves in its
    first schema, as it would without the runner."""
    project.sql(SHADOWS)
    project.add(
        NAME,
        "CREATE TABLE evil.gone (id int);",
        SHADOWED + "DROP TABLE gone;\n",
    )

    run = project.execute(NAME, "--allow-data-loss")

    assert run.returncode == 0, run.stdout + run.stderr
    assert project.value("SELECT to_regclass('evil.gone')") is None
    archived = "SELECT tablename FROM pg_tables WHERE schemaname = 'migration_rollback_archive'"
    assert str(project.value(archived)).startswith("gone")


def test_apply_captures_under_a_shadowing_search_path(project: Project) -> None:
    project.sql(SHADOWS)
    project.sql("CREATE TABLE public.kept (id int PRIMARY KEY, note text)")
    project.sql("INSERT INTO public.kept VALUES (1, 'a'), (2, 'b')")
    (project.migrations / f"{NAME}.sql").write_text(
        SHADOWED + "DELETE FROM public.kept WHERE id = 2;\nCREATE TABLE made (id int);\n"
    )

    code, result, said = apply(project)

    assert code == 0, said
    assert project.value("SELECT count(*) FROM public.kept") == 1
    assert project.value("SELECT to_regclass('evil.made')") is not None  # its own path
    assert result["applied"][0]["version"] == NAME[:14]


def test_a_database_search_path_that_shadows_the_catalog(project: Project) -> None:
    """Set for every session (ALTER DATABASE/ROLE ... SET): the runner's sessions read the
    catalog first from the start; the rollback still runs on that path."""
    _tables(project)
    database = project.url.rsplit("/", 1)[1]
    project.sql(f'ALTER DATABASE "{database}" SET search_path = evil, pg_catalog, public')

    run = project.execute(NAME, "--allow-data-loss")

    assert run.returncode == 0, run.stdout + run.stderr
    assert project.value("SELECT pg_catalog.to_regclass('public.gone')") is None


def test_a_plain_set_outlives_the_commit_and_the_deferred_steps_still_run(
    project: Project,
) -> None:
    """`SET` (not LOCAL) stays in force after COMMIT, where the deferred statements run and
    the runner reads their outcome: the catalog is still read first there."""
    project.sql(SHADOWS)
    project.sql("CREATE TABLE public.kept (id int PRIMARY KEY, note text)")
    (project.migrations / f"{NAME}.sql").write_text(
        SHADOWED + "CREATE INDEX CONCURRENTLY kept_note ON public.kept (note);\n"
    )

    code, _, said = apply(project)

    assert code == 0, said
    assert project.value("SELECT pg_catalog.to_regclass('public.kept_note')") is not None
