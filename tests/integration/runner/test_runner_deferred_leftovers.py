"""What `execute` and `apply` do with the steps an earlier run left after its COMMIT.

`execute` is the emergency path: it never finishes and never refuses on them (a failed
`CREATE UNIQUE INDEX CONCURRENTLY` once blocked the very rollback of its migration). The steps
of the versions it rolls back are superseded in its transaction, the others reported. `apply`
finishes those proven safe, and proves it: the index there must be the one the step means.
"""

from __future__ import annotations

import subprocess
import sys
import threading

import psycopg
import pytest
from capture_support import apply
from runner_support import Project

pytestmark = pytest.mark.integration

TABLE = "20250101000001_t"
INDEX = "20250101000002_idx"
HISTORY = "supabase_migrations.schema_migrations"


def _write(project: Project, index_sql: str, rollback_sql: str) -> None:
    (project.migrations / f"{TABLE}.sql").write_text(
        "CREATE TABLE public.t (id int PRIMARY KEY, v int);\n"
        "INSERT INTO public.t VALUES (1, 1), (2, 1);\n"
    )
    (project.migrations / f"{INDEX}.sql").write_text(index_sql)
    (project.migrations / f"{INDEX}_rollback.sql").write_text(rollback_sql)


def _closed(project: Project) -> list[object]:
    return [
        project.value("SELECT closed_as FROM migration_rollback.deferred_steps WHERE id = %s", [i])
        for i in (1, 2, 3)
    ]


def _exists(project: Project, name: str) -> object:
    return project.value("SELECT to_regclass(%s) IS NOT NULL", [name])


def _rolled_back(project: Project, *extra: str) -> dict[str, object]:
    run = project.execute(INDEX, "--backup", "none", "--allow-data-loss", *extra)
    assert run.result is not None
    return run.result


def test_a_failed_unique_index_does_not_block_the_rollback_of_its_migration(
    project: Project,
) -> None:
    _write(
        project,
        "CREATE UNIQUE INDEX CONCURRENTLY t_v_key ON public.t (v);\n",
        "DROP INDEX CONCURRENTLY IF EXISTS public.t_v_key;\n",
    )
    assert apply(project)[0] != 0  # duplicates: the build fails after COMMIT, left INVALID

    result = _rolled_back(project)

    assert result["exit_code"] == 0, result.get("error")
    assert "20250101000002" not in project.versions()
    assert not _exists(project, "public.t_v_key")  # the rollback's own DROP took it
    warnings = "\n".join(map(str, result["warnings"]))
    assert "superseded by this rollback (not run): apply of 20250101000002" in warnings
    assert "failed or did not finish" in warnings
    assert _closed(project)[0] == "superseded"


def test_an_unnamed_index_step_neither_blocks_a_dry_run_nor_the_rollback(
    project: Project,
) -> None:
    _write(
        project,
        "CREATE UNIQUE INDEX CONCURRENTLY ON public.t (v);\n",
        "DROP INDEX CONCURRENTLY IF EXISTS public.t_v_idx;\n",
    )
    assert apply(project)[0] != 0

    dry = _rolled_back(project, "--dry-run")
    assert dry["exit_code"] == 0, dry.get("error")
    assert _closed(project)[0] is None  # a dry run writes nothing
    real = _rolled_back(project)

    assert real["exit_code"] == 0, real.get("error")
    assert "20250101000002" not in project.versions()
    assert _closed(project)[0] == "superseded"


def test_an_invalid_index_the_rollback_does_not_drop_is_named(project: Project) -> None:
    _write(
        project,
        "CREATE UNIQUE INDEX CONCURRENTLY t_v_key ON public.t (v);\n",
        "DROP TABLE IF EXISTS public.nothing_here;\n",
    )
    assert apply(project)[0] != 0

    result = _rolled_back(project)

    assert result["exit_code"] == 0, result.get("error")
    assert _exists(project, "public.t_v_key")  # never dropped by anything but the rollback
    warnings = "\n".join(map(str, result["warnings"]))
    assert 'DROP INDEX CONCURRENTLY "public"."t_v_key"' in warnings, warnings


def _insert_step(project: Project, version: str, sql: str, history: str = HISTORY) -> None:
    project.sql(
        "INSERT INTO migration_rollback.deferred_steps (history_table, command, version, "
        "statement, location, sql) VALUES (%s, 'apply', %s, 1, 'x.sql:1', %s)",
        [history, version, sql],
    )


def test_steps_of_other_versions_are_reported_and_obsolete_ones_closed(
    project: Project,
) -> None:
    _write(
        project,
        "CREATE INDEX CONCURRENTLY t_v_idx ON public.t (v);\n",
        "DROP INDEX CONCURRENTLY IF EXISTS public.t_v_idx;\n",
    )
    assert apply(project)[0] == 0  # step 1 done
    _insert_step(project, "20250101000001", "CREATE DATABASE adv_kept")  # applied, other
    _insert_step(project, "20250101000009", "CREATE DATABASE adv_gone")  # not in the history

    result = _rolled_back(project)

    assert result["exit_code"] == 0, result.get("error")
    warnings = "\n".join(map(str, result["warnings"]))
    assert "left pending, not run by execute: apply of 20250101000001" in warnings
    assert "ignored, obsolete: apply of 20250101000009" in warnings
    assert _closed(project) == ["done", None, "obsolete"]


def _index_applied(project: Project) -> None:
    _write(
        project,
        "CREATE INDEX CONCURRENTLY t_v_idx ON public.t (v);\n",
        "DROP INDEX CONCURRENTLY IF EXISTS public.t_v_idx;\n",
    )
    assert apply(project)[0] == 0  # the bookkeeping table made, step 1 done


def test_apply_marks_a_step_of_a_version_no_longer_applied_obsolete(project: Project) -> None:
    _index_applied(project)
    _insert_step(project, "20250101000009", "CREATE DATABASE adv_gone")

    code, _doc, out = apply(project)

    assert code == 0, out
    assert "marked obsolete" in out
    assert _closed(project)[1] == "obsolete"


def test_steps_of_another_history_table_do_not_block_apply(project: Project) -> None:
    _index_applied(project)
    _insert_step(project, "20250101000001", "CREATE DATABASE adv_other", "other.history")

    code, _doc, out = apply(project)

    assert code == 0, out
    assert "adv_other" not in out
    assert _closed(project)[1] is None


def _ci_role(project: Project) -> str:
    """A role that applies migrations: may CREATE in the database (apply's own bookkeeping)
    but not in schema migration_rollback, which another role (execute's audit) made."""
    project.sql("DO $$BEGIN CREATE ROLE ci LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$")
    database = project.url.rsplit("/", 1)[1]
    project.sql(f'GRANT CONNECT, CREATE ON DATABASE "{database}" TO ci')
    project.sql("GRANT USAGE, CREATE ON SCHEMA public, supabase_migrations TO ci")
    project.sql("GRANT ALL ON ALL TABLES IN SCHEMA public, supabase_migrations TO ci")
    project.sql("CREATE SCHEMA IF NOT EXISTS migration_rollback")
    project.sql("GRANT USAGE ON SCHEMA migration_rollback TO ci")
    return project.url.replace("postgres@", "ci@", 1)


def _apply_as(project: Project, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "migration_rollback", "apply"],
        cwd=project.root,
        env=project.environment(url),
        capture_output=True,
        text=True,
        check=False,
    )


def test_apply_needs_no_create_privilege_once_the_table_exists(project: Project) -> None:
    _index_applied(project)
    (project.migrations / "20250101000003_i.sql").write_text(
        "CREATE INDEX CONCURRENTLY t_id_v_idx ON public.t (id, v);\n"
    )
    url = _ci_role(project)
    for schema in ("migration_rollback", "migration_rollback_capture"):
        project.sql(f"GRANT ALL ON ALL TABLES IN SCHEMA {schema} TO ci")
        project.sql(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA {schema} TO ci")
    project.sql("GRANT ALL ON SCHEMA migration_rollback_capture TO ci")  # apply's captures
    project.sql("ALTER TABLE public.t OWNER TO ci")

    proc = _apply_as(project, url)

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "20250101000003" in project.versions()


def test_apply_without_the_table_or_the_privilege_says_which(project: Project) -> None:
    (project.migrations / f"{TABLE}.sql").write_text("CREATE TABLE public.t (id int);\n")
    (project.migrations / f"{INDEX}.sql").write_text(
        "CREATE INDEX CONCURRENTLY t_id_idx ON public.t (id);\n"
    )
    url = _ci_role(project)

    proc = _apply_as(project, url)

    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "table migration_rollback.deferred_steps does not exist" in proc.stdout
    assert "CREATE on schema migration_rollback" in proc.stdout


def test_an_index_of_that_name_with_another_definition_is_refused(project: Project) -> None:
    _write(
        project,
        "CREATE UNIQUE INDEX CONCURRENTLY t_v_key ON public.t (v);\n",
        "DROP INDEX CONCURRENTLY IF EXISTS public.t_v_key;\n",
    )
    assert apply(project)[0] != 0
    project.sql("DELETE FROM public.t WHERE id = 2")
    project.sql("DROP INDEX public.t_v_key")
    project.sql("CREATE INDEX t_v_key ON public.t (id)")

    code, _doc, out = apply(project)

    assert code == 3, out
    assert (
        "exists with another definition: CREATE INDEX t_v_key ON public.t USING btree (id)" in out
    )
    assert _closed(project)[0] is None


_BUILDING = (
    "SELECT count(*) FROM pg_stat_progress_create_index "
    "WHERE index_relid = to_regclass('public.t_v_key')"
)


def test_an_index_someone_is_building_now_is_not_dropped(project: Project) -> None:
    _write(
        project,
        "CREATE UNIQUE INDEX CONCURRENTLY t_v_key ON public.t (v);\n",
        "DROP INDEX CONCURRENTLY IF EXISTS public.t_v_key;\n",
    )
    assert apply(project)[0] != 0
    project.sql("DELETE FROM public.t WHERE id = 2")
    project.sql("DROP INDEX public.t_v_key")
    with psycopg.connect(project.url) as snapshot:
        snapshot.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        snapshot.execute("SELECT 1 FROM public.t")  # the user's build waits for this snapshot
        build = threading.Thread(
            target=project.sql, args=["CREATE UNIQUE INDEX CONCURRENTLY t_v_key ON public.t (v)"]
        )
        build.start()
        while not project.value(_BUILDING):
            build.join(0.05)
        code, _doc, out = apply(project)
        snapshot.rollback()
    build.join()

    assert code == 3, out
    assert "is being built right now by another session" in out
    assert project.value(
        "SELECT indisvalid FROM pg_index WHERE indexrelid = 'public.t_v_key'::regclass"
    )
