"""`apply` keeps its own session whatever a forward migration sets in it (runner/apply_session.py).

A `supabase db dump` header switches the timeouts off: apply's --lock-timeout must still fire
on a statement queued behind another session's lock, with nothing of the file kept. A stricter
timeout holds to the end of its file; a `SET ROLE` runs the file's later statements as that
role and not the next file's; replica mode is refused before anything runs.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from capture_support import apply, write
from runner_support import Project

pytestmark = pytest.mark.integration

PRECONDITION_FAILED = 3
LOCK_TIMEOUT = 4
DUMP_HEADER = """\
SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;
"""
# What the session holds when the statement runs, kept in a table of the test's.
SEEN = (
    "CREATE TABLE public.{} AS SELECT current_user::text AS who, "
    "current_setting('lock_timeout') AS lock, current_setting('statement_timeout') AS stmt, "
    "current_setting('session_replication_role') AS replication;\n"
)


def seen(project: Project, table: str) -> tuple[str, str, str, str]:
    row = project.sql(f"SELECT who, lock, stmt, replication FROM public.{table}")[0]
    return row[0], row[1], row[2], row[3]


def test_the_dump_header_does_not_switch_off_applys_lock_timeout(project: Project) -> None:
    project.sql("CREATE TABLE public.held (id int)")
    write(project, "20250101000001_remote_schema",
          DUMP_HEADER + "CREATE TABLE public.made (id int);\n"
          "ALTER TABLE public.held ADD COLUMN x int;\n")  # fmt: skip
    with psycopg.connect(project.url, autocommit=True) as holder:
        holder.execute("BEGIN")
        holder.execute("LOCK TABLE public.held IN ACCESS SHARE MODE")
        code, doc, out = apply(project, "--lock-timeout", "1s")  # would wait forever
        holder.execute("ROLLBACK")

    assert code == LOCK_TIMEOUT, out
    assert "lock_timeout" in doc["error"], out
    assert project.value("SELECT to_regclass('public.made')") is None  # nothing half-applied
    assert project.versions() == []
    warning = (
        "20250101000001_remote_schema.sql:1: `SET statement_timeout = 0` changes the runner's "
        "timeouts: apply keeps its own, put back right after it"
    )
    (said,) = [w for w in doc["warnings"] if warning in w]
    assert said.endswith("[and 2 more like it] (apply's: --lock-timeout 1s, "
                         "--statement-timeout 30m)")  # fmt: skip
    assert warning in out  # the human summary says it too


def test_a_stricter_timeout_holds_to_the_end_of_its_file_only(project: Project) -> None:
    write(project, "20250101000001_a",
          "SET lock_timeout = '1s';\n" + SEEN.format("in_a") + "SET statement_timeout = 0;\n"
          + SEEN.format("in_a_after"))  # fmt: skip
    write(project, "20250101000002_b", SEEN.format("in_b"))

    code, _, out = apply(project)

    assert code == 0, out
    assert seen(project, "in_a")[1:3] == ("1s", "30min")
    assert seen(project, "in_a_after")[1:3] == ("1s", "30min")  # 0 is no limit: put back
    assert seen(project, "in_b")[1:3] == ("5s", "30min")


def test_keep_migration_timeouts_keeps_the_files_own_to_its_end(project: Project) -> None:
    write(project, "20250101000001_a", "SET lock_timeout = 0;\n" + SEEN.format("in_a"))
    write(project, "20250101000002_b", SEEN.format("in_b"))

    code, doc, out = apply(project, "--keep-migration-timeouts")

    assert code == 0, out
    assert seen(project, "in_a")[1] == "0"
    assert seen(project, "in_b")[1] == "5s"
    assert any("--keep-migration-timeouts given" in w for w in doc["warnings"]), out


@pytest.fixture
def other_role(project: Project) -> Iterator[str]:
    role = f"apply_session_{uuid.uuid4().hex[:8]}"
    project.sql(f"CREATE ROLE {role}")
    project.sql(f"GRANT USAGE, CREATE ON SCHEMA public TO {role}")
    try:
        yield role
    finally:
        project.sql(f"DROP OWNED BY {role}")
        project.sql(f"DROP ROLE {role}")


def test_a_role_set_by_a_migration_stops_at_the_end_of_its_file(
    project: Project, other_role: str
) -> None:
    login = project.value("SELECT current_user")
    write(project, "20250101000001_a", f"SET ROLE {other_role};\n" + SEEN.format("in_a"))
    write(project, "20250101000002_b", SEEN.format("in_b"))

    code, doc, out = apply(project)

    assert code == 0, out
    assert seen(project, "in_a")[0] == other_role
    assert seen(project, "in_b")[0] == login
    assert project.versions() == ["20250101000001", "20250101000002"]
    assert any(f"20250101000001_a.sql:1: `SET ROLE {other_role}`" in w for w in doc["warnings"])


def test_replica_mode_is_refused_before_anything_runs(project: Project) -> None:
    write(project, "20250101000001_a", "CREATE TABLE public.a (id int);\n")
    replica = "CREATE TABLE public.b (id int);\n  SET session_replication_role = replica;\n"
    write(project, "20250101000002_b", replica)

    code, doc, out = apply(project)

    assert code == PRECONDITION_FAILED, out
    assert "20250101000002_b.sql:2:3: `SET session_replication_role = replica`" in doc["error"]
    assert "apply refuses it" in doc["error"]
    assert project.value("SELECT to_regclass('public.a')") is None
    assert project.versions() == []


def test_replica_mode_set_where_the_parser_cannot_see_fails_the_file(project: Project) -> None:
    write(project, "20250101000001_a",
          "CREATE TABLE public.a (id int);\n"
          "DO $$ BEGIN PERFORM set_config('session_' || 'replication_role', 'replica', false); "
          "END $$;\n")  # fmt: skip

    code, doc, out = apply(project)

    assert code != 0, out
    assert "session_replication_role is 'replica'" in doc["error"], out
    assert project.value("SELECT to_regclass('public.a')") is None
    assert project.versions() == []


def test_no_secret_of_the_connection_in_the_warning(project: Project) -> None:
    password = os.environ.get("PGPASSWORD", "")
    write(project, "20250101000001_a",
          "SELECT set_config('lock_timeout', '0', false), "
          "'postgres://u:hunter2secret@h/db' AS dsn;\n")  # fmt: skip

    code, doc, out = apply(project)

    assert code == 0, out
    assert any("changes the runner's timeouts" in w for w in doc["warnings"]), out
    assert "hunter2secret" not in out + str(doc)
    assert not password or password not in out
