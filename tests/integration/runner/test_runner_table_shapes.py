"""A bookkeeping table that exists in another shape is named for what it is, not "needs CREATE".

The runner keeps its records in tables it finds by name: the audit log, the deferred steps, the
history table, and it moves archived tables into the archive schema. When the name is taken by
a view, or a table lacking a column or with a column of another type, the hint for a first run
("the role needs CREATE on the database") sent people after a privilege they had. Each is now
refused before anything changes, saying what is there and what to do. The archive schema made
by another role is used when this role may create in it (no COMMENT ON SCHEMA by a non-owner),
and named, with the GRANT to run, when it may not.
"""

from __future__ import annotations

import pytest
from capture_support import apply
from runner_support import Project, schema_fingerprint

pytestmark = pytest.mark.integration

PRECONDITION_FAILED = 3
NAME = "20251201000000_flags"
ROLE = "mr_archive_shape"


@pytest.fixture
def flags(project: Project) -> Project:
    project.add(NAME, "CREATE TABLE public.flags (id int);", "DROP TABLE public.flags;\n")
    return project


def refused(project: Project, *args: str) -> str:
    before = schema_fingerprint(project.url)
    run = project.execute(*args)
    assert run.returncode == PRECONDITION_FAILED, run.stdout + run.stderr
    assert schema_fingerprint(project.url) == before
    assert NAME[:14] in project.versions()
    assert run.result is not None
    message = str(run.result["error"]["message"])
    assert "needs CREATE" not in message
    return message


AUDIT_SHAPES = {
    "view": (
        "CREATE VIEW migration_rollback.audit_log AS SELECT 1 AS id",
        "migration_rollback.audit_log exists but is a view, not a table",
    ),
    "missing-column": (
        "CREATE TABLE migration_rollback.audit_log (id bigint, migration text)",
        "migration_rollback.audit_log exists but lacks column sha256, who",
    ),
    "other-type": (
        "CREATE TABLE migration_rollback.audit_log (id bigint GENERATED ALWAYS AS IDENTITY, "
        "migration text, sha256 text, who text, host text, started_at timestamptz, "
        "finished_at timestamptz, outcome text, dry_run boolean, statements jsonb, "
        "archived jsonb, error text)",
        "its column who is text, not jsonb",
    ),
}


@pytest.mark.parametrize("shape", AUDIT_SHAPES)
def test_an_audit_log_of_another_shape_is_named(flags: Project, shape: str) -> None:
    create, said = AUDIT_SHAPES[shape]
    flags.sql("CREATE SCHEMA migration_rollback")
    flags.sql(create)

    message = refused(flags, NAME, "--allow-data-loss")

    assert said in message
    assert "rename it" in message


def test_a_deferred_steps_view_is_named(flags: Project) -> None:
    flags.sql("CREATE SCHEMA migration_rollback")
    flags.sql("CREATE VIEW migration_rollback.deferred_steps AS SELECT 1 AS id")

    message = refused(flags, NAME, "--allow-data-loss")

    assert "migration_rollback.deferred_steps exists but is a view" in message


def _history_as_a_view(project: Project, columns: str = "*") -> None:
    project.sql("ALTER TABLE supabase_migrations.schema_migrations RENAME TO real_history")
    project.sql(
        f"CREATE VIEW supabase_migrations.schema_migrations AS "
        f"SELECT {columns} FROM supabase_migrations.real_history"
    )


def test_a_history_view_is_named_by_execute(flags: Project) -> None:
    _history_as_a_view(flags)

    message = refused(flags, NAME, "--allow-data-loss")

    assert "supabase_migrations.schema_migrations exists but is a view" in message
    assert "--history-table" in message


def test_a_history_table_without_version_is_named_by_apply(project: Project) -> None:
    (project.migrations / f"{NAME}.sql").write_text("CREATE TABLE public.flags (id int);\n")
    _history_as_a_view(project, "name")

    code, _, said = apply(project)

    assert code == PRECONDITION_FAILED, said
    assert "schema_migrations exists but is a view" in said
    assert project.value("SELECT to_regclass('public.flags')") is None


def _role_owning_flags(project: Project) -> str:
    """A role that owns the table it rolls back and may write the bookkeeping, with no CREATE
    on the database (as a deployer's role is)."""
    project.sql(
        f"DO $$BEGIN CREATE ROLE {ROLE} LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$"
    )
    database = project.url.rsplit("/", 1)[1]
    project.sql(f'REVOKE CREATE ON DATABASE "{database}" FROM PUBLIC, {ROLE}')
    project.sql(f"GRANT USAGE ON SCHEMA supabase_migrations, migration_rollback TO {ROLE}")
    project.sql(f"GRANT SELECT, DELETE ON supabase_migrations.schema_migrations TO {ROLE}")
    project.sql(f"GRANT SELECT, INSERT, UPDATE ON migration_rollback.audit_log TO {ROLE}")
    project.sql(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA migration_rollback TO {ROLE}")
    project.sql(f"ALTER TABLE public.flags OWNER TO {ROLE}")
    project.sql(f"GRANT USAGE, CREATE ON SCHEMA public TO {ROLE}")
    project.sql("CREATE SCHEMA migration_rollback_archive")  # made by another role
    return project.url.replace("postgres@", f"{ROLE}@", 1)


def test_an_archive_schema_of_another_role_is_named_then_used(flags: Project) -> None:
    first = flags.execute(NAME, "--dry-run", "--allow-data-loss")  # makes the audit table
    assert first.returncode == 0, first.stdout + first.stderr
    url = _role_owning_flags(flags)
    before = schema_fingerprint(flags.url)

    run = flags.execute(NAME, "--allow-data-loss", url=url)

    assert run.returncode != 0, run.stdout + run.stderr
    assert schema_fingerprint(flags.url) == before
    assert run.result is not None
    message = str(run.result["error"]["message"])
    assert "archive schema migration_rollback_archive exists (owned by postgres)" in message
    assert f"GRANT USAGE, CREATE ON SCHEMA migration_rollback_archive TO {ROLE}" in message

    flags.sql(f"GRANT USAGE, CREATE ON SCHEMA migration_rollback_archive TO {ROLE}")
    again = flags.execute(NAME, "--allow-data-loss", url=url, tag="again")

    assert again.returncode == 0, again.stdout + again.stderr
    assert flags.value("SELECT to_regclass('public.flags')") is None
    archived = "SELECT count(*) FROM pg_tables WHERE schemaname = 'migration_rollback_archive'"
    assert flags.value(archived) == 1


def test_a_capture_catalog_of_another_shape_is_named_by_apply_and_execute(
    flags: Project,
) -> None:
    flags.sql("CREATE SCHEMA migration_rollback_capture")
    flags.sql("CREATE VIEW migration_rollback_capture.captures AS SELECT 1 AS id")

    message = refused(flags, NAME, "--allow-data-loss")
    (flags.migrations / "20251202000000_more.sql").write_text("CREATE TABLE public.more (i int);")
    code, _, said = apply(flags)

    for text in (message, said):
        assert "migration_rollback_capture.captures exists but is a view" in text
    assert code == PRECONDITION_FAILED
    assert flags.value("SELECT to_regclass('public.more')") is None
