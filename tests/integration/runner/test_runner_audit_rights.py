"""The audit log asks only for the rights it needs, and a read-only target is named as such.

`execute` writes one audit row per run. Creating `migration_rollback.audit_log` needs CREATE on
the database, once; after that a role with USAGE on the schema and INSERT/UPDATE on the table
must be able to run (PostgreSQL checks CREATE on the database before it looks whether a schema
of `CREATE SCHEMA IF NOT EXISTS` exists, so running it every time asked for CREATE on every
run). A database that takes no writes (a standby, `default_transaction_read_only`) is said to
be read-only, not blamed on a missing GRANT.
"""

from __future__ import annotations

import pytest
from runner_support import Project, schema_fingerprint

pytestmark = pytest.mark.integration

PRECONDITION_FAILED = 3
NAME = "20251201000000_flag_view"
ROLE = "mr_audit_rights"


@pytest.fixture
def flags(project: Project) -> Project:
    project.add(NAME, "CREATE VIEW public.flags AS SELECT 1 AS id;", "DROP VIEW public.flags;\n")
    return project


def _rights_of_a_deployer(project: Project) -> str:
    """A role that owns what it rolls back and may write the existing audit table, with no
    CREATE on the database."""
    project.sql(
        f"DO $$BEGIN CREATE ROLE {ROLE} LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$"
    )
    database = project.url.rsplit("/", 1)[1]
    project.sql(f'REVOKE CREATE ON DATABASE "{database}" FROM PUBLIC, {ROLE}')
    project.sql(f"GRANT USAGE ON SCHEMA supabase_migrations, migration_rollback TO {ROLE}")
    project.sql(f"GRANT SELECT, DELETE ON supabase_migrations.schema_migrations TO {ROLE}")
    project.sql(f"GRANT SELECT, INSERT, UPDATE ON migration_rollback.audit_log TO {ROLE}")
    project.sql(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA migration_rollback TO {ROLE}")
    project.sql(f"ALTER VIEW public.flags OWNER TO {ROLE}")
    return project.url.replace("postgres@", f"{ROLE}@", 1)


def test_a_role_without_create_on_the_database_runs_once_the_audit_table_exists(
    flags: Project,
) -> None:
    first = flags.execute(NAME, "--dry-run")  # makes the audit table
    assert first.returncode == 0, first.stdout + first.stderr
    url = _rights_of_a_deployer(flags)

    run = flags.execute(NAME, "--dry-run", url=url)

    assert run.returncode == 0, run.stdout + run.stderr
    assert [row["db_user"] for row in (a["who"] for a in flags.audit())] == ["postgres", ROLE]


def test_a_read_only_database_is_named_read_only(flags: Project) -> None:
    database = flags.url.rsplit("/", 1)[1]
    flags.sql(f'ALTER DATABASE "{database}" SET default_transaction_read_only = on')
    before = schema_fingerprint(flags.url)

    run = flags.execute(NAME)

    assert run.returncode == PRECONDITION_FAILED, run.stdout + run.stderr
    assert schema_fingerprint(flags.url) == before
    assert run.result is not None
    message = run.result["error"]["message"]
    assert "read-only" in message
    assert "primary" in message
    assert "needs CREATE" not in message
