"""Data rollbacks: `apply` keeps what each statement changes; `execute` puts it back exactly."""

from __future__ import annotations

import pytest
from capture_support import apply, column_type, generate, rows, write
from runner_support import Project

pytestmark = pytest.mark.integration

BASE = "20250101000000_people"
BASE_SQL = """
CREATE TABLE public.people (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL,
  nick text,
  age text
);
"""
SEED = """
INSERT INTO public.people (name, nick, age) VALUES
  ('ada', NULL, '36'), ('bob', 'b', 'forty'), ('cy', NULL, '007'), ('di', 'd', NULL),
  ('eve', NULL, ' 12');
"""
FIX = "20250102000000_normalise_people"
# Overwrites NULLs, then converts a column lossily: 'forty' -> NULL, '007' -> 7, ' 12' -> NULL.
FIX_SQL = """
UPDATE public.people SET nick = coalesce(nick, lower(name)) WHERE nick IS NULL OR id > 1;
ALTER TABLE public.people ALTER COLUMN age TYPE integer
  USING (CASE WHEN age ~ '^[0-9]+$' THEN age::integer END);
"""
PRIOR = [
    (1, "ada", None, "36"),
    (2, "bob", "b", "forty"),
    (3, "cy", None, "007"),
    (4, "di", "d", None),
    (5, "eve", None, " 12"),
]


def _people(project: Project) -> None:
    write(project, BASE, BASE_SQL)
    code, _, out = apply(project)
    assert code == 0, out
    project.sql(SEED)
    write(project, FIX, FIX_SQL)


def test_target_exact_prior_values_and_type_come_back(project: Project) -> None:
    _people(project)
    code, doc, out = apply(project)
    assert code == 0, out
    assert [a["version"] for a in doc["applied"]] == ["20250102000000"]
    assert doc["applied"][0]["captured_rows"] == 10  # 5 rows before the UPDATE, 5 before ALTER
    assert rows(project, "public.people")[2] == (3, "cy", "cy", 7)
    assert project.sql(
        "SELECT version, name, statements FROM supabase_migrations.schema_migrations "
        "WHERE version = '20250102000000'"
    ) == [("20250102000000", "normalise_people", [s.strip() for s in _statements(FIX_SQL)])]
    generate(project)
    rollback = (project.migrations / f"{FIX}_rollback.sql").read_text()
    assert "-- MANUAL:" in rollback  # the UPDATE: no rollback can know the prior values

    run = project.execute(FIX)

    assert run.returncode == 0, run.stdout + run.stderr
    assert rows(project, "public.people") == PRIOR
    assert column_type(project, "public.people", "age") == "text"
    assert project.versions() == ["20250101000000"]
    restore = run.result["restore"] if run.result else []
    assert {e["object"] for e in restore} >= {"update public.people", "alter-type public.people"}
    assert all(e.get("conflicts", 0) == 0 for e in restore)
    assert run.report is not None
    assert "## Data restored from captures" in run.report


def _statements(text: str) -> list[str]:
    return [s for s in text.split(";") if s.strip()]


def test_manual_type_without_history_is_restored_by_the_capture(project: Project) -> None:
    """A rollback that cannot name the prior type (MANUAL): the capture restores type and values."""
    _people(project)
    assert apply(project)[0] == 0
    (project.migrations / f"{FIX}_rollback.sql").write_text(
        f"-- ROLLBACK: {FIX}\n\n"
        f"-- undoes {FIX}.sql:3: ALTER TABLE public.people ALTER COLUMN age TYPE integer\n"
        "-- MANUAL: column age of public.people changed type; restore the previous type\n\n"
        f"-- undoes {FIX}.sql:2: UPDATE public.people SET nick = ...\n"
        "-- MANUAL: UPDATE changed rows of public.people: restore them from the backup\n"
    )

    run = project.execute(FIX)

    assert run.returncode == 0, run.stdout + run.stderr
    assert rows(project, "public.people") == PRIOR
    assert column_type(project, "public.people", "age") == "text"


def test_without_capture_behaviour_is_unchanged(project: Project) -> None:
    _people(project)
    code, doc, out = apply(project, "--no-capture", "20250102000000")
    assert code == 0, out
    assert {c["status"] for c in doc["applied"][0]["captures"]} == {"opted-out"}
    generate(project)

    run = project.execute(FIX)

    assert run.returncode == 3  # MANUAL markers: a human must restore from the backup
    assert "MANUAL" in run.stdout
    assert project.versions() == ["20250101000000", "20250102000000"]


def test_conflicts_are_counted_and_fail_by_default(project: Project) -> None:
    _people(project)
    assert apply(project)[0] == 0
    generate(project)
    project.sql("UPDATE public.people SET nick = 'changed later' WHERE id = 2")
    project.sql("INSERT INTO public.people (name, age) VALUES ('new', 1)")

    dry = project.execute(FIX, "--dry-run", tag="dry")

    assert dry.returncode == 3, dry.stdout
    assert dry.result is not None
    update = next(e for e in dry.result["restore"] if e["object"] == "update public.people")
    assert update["conflicts"] == 1
    assert update["rows_written_since"] == 2  # the changed row and the new one
    assert "--on-conflict" in dry.result["error"]["message"]

    kept = project.execute(FIX, "--on-conflict", "keep-current", tag="keep")

    assert kept.returncode == 0, kept.stdout + kept.stderr
    people = {r[0]: r for r in rows(project, "public.people")}
    assert people[2][2] == "changed later"  # the app's later change is kept
    assert people[1] == PRIOR[0]
    assert people[3] == PRIOR[2]
    assert people[6] == (6, "new", None, "1")  # a row written since: converted back by cast


def test_restore_captured_overwrites_later_changes(project: Project) -> None:
    _people(project)
    assert apply(project)[0] == 0
    generate(project)
    project.sql("UPDATE public.people SET nick = 'changed later' WHERE id = 2")

    run = project.execute(FIX, "--on-conflict", "restore-captured")

    assert run.returncode == 0, run.stdout + run.stderr
    assert rows(project, "public.people") == PRIOR


def test_delete_insert_truncate_and_drop_column_come_back(project: Project) -> None:
    write(project, BASE, BASE_SQL + "CREATE TABLE public.tags (t text PRIMARY KEY);")
    assert apply(project)[0] == 0
    project.sql(SEED + "INSERT INTO public.tags VALUES ('x'), ('y');")
    write(
        project,
        "20250103000000_mixed",
        "DELETE FROM public.people p WHERE p.age IS NULL;\n"
        "INSERT INTO public.people (name, nick) VALUES ('zed', 'z');\n"
        "TRUNCATE public.tags;\n"
        "ALTER TABLE public.people DROP COLUMN nick;\n",
    )
    named = "SELECT id, name, nick, age FROM public.people ORDER BY id"
    before_people = project.sql(named)
    code, _, out = apply(project)
    assert code == 0, out
    generate(project)

    run = project.execute("20250103000000_mixed")

    assert run.returncode == 0, run.stdout + run.stderr
    # A re-added column comes back last (PostgreSQL cannot insert one in place): by name.
    assert project.sql(named) == before_people
    assert rows(project, "public.tags") == [("x",), ("y",)]


def test_capture_limit_refuses_and_applies_nothing(project: Project) -> None:
    _people(project)

    code, doc, out = apply(project, "--capture-max-rows", "3")

    assert code == 3, out
    assert "--no-capture 20250102000000" in (doc.get("error") or "")
    assert project.versions() == ["20250101000000"]
    assert column_type(project, "public.people", "age") == "text"


def test_no_key_is_a_manual_reason_not_a_guess(project: Project) -> None:
    write(project, BASE, "CREATE TABLE public.loose (a int, b text);")
    assert apply(project)[0] == 0
    project.sql("INSERT INTO public.loose VALUES (1, 'x'), (2, NULL)")
    write(project, "20250102000000_loose", "UPDATE public.loose SET b = 'y';")

    code, doc, out = apply(project)

    assert code == 0, out
    (capture,) = doc["applied"][0]["captures"]
    assert capture["status"] == "manual"
    assert "no primary key" in capture["reason"]


def test_dry_run_applies_nothing_and_password_never_printed(project: Project) -> None:
    _people(project)
    project.sql("ALTER ROLE postgres PASSWORD 'S3cret-pw'")
    url = project.url.replace("postgres@", "postgres:S3cret-pw@")
    project.url = url

    code, doc, out = apply(project, "--dry-run")

    assert code == 0, out
    assert doc["dry_run"] is True
    assert doc["committed"] == []
    assert "S3cret-pw" not in out
    assert "S3cret-pw" not in str(doc)
    assert project.versions() == ["20250101000000"]


def test_captures_list_and_prune(project: Project) -> None:
    _people(project)
    assert apply(project)[0] == 0
    from capture_support import cli

    listed = cli(project, "captures", "list")
    assert "20250102000000 #1 update public.people" in listed.stdout
    refused = cli(project, "captures", "prune")
    assert refused.returncode == 2
    pruned = cli(project, "captures", "prune", "--version", "20250102000000")
    assert pruned.returncode == 0
    assert "dropped 2 capture(s)" in pruned.stdout
    assert "20250102000000" not in cli(project, "captures", "list").stdout
