"""A rollback the verifier calls verified because captures restore its data keeps its MANUAL
markers: `execute` without captures (`apply --no-capture`) still stops at them."""

from __future__ import annotations

import pytest
from capture_support import apply, cli, write
from runner_support import Project

pytestmark = pytest.mark.integration

BASE = "20250101000000_people"
TOUCH = "20250102000000_touch"


def test_verified_from_captures_still_refuses_without_them(
    project: Project, pg_server: object
) -> None:
    write(project, BASE, "CREATE TABLE public.people (id int PRIMARY KEY, name text, nick text);\n")
    assert apply(project)[0] == 0
    project.sql("INSERT INTO public.people VALUES (1, 'Ada', NULL), (2, 'Bob', 'b')")
    write(project, TOUCH, "UPDATE public.people SET nick = lower(name) WHERE nick IS NULL;\n")
    code, _, out = apply(project, "--no-capture", "20250102000000")
    assert code == 0, out
    shadow = str(pg_server.admin_url)  # type: ignore[attr-defined]

    made = cli(project, "generate", "--verify", "--force", "--shadow-url", shadow)

    assert made.returncode == 0, made.stdout + made.stderr
    verdict = next(line for line in made.stdout.splitlines() if TOUCH in line)
    assert verdict.split()[0] == "verified", made.stdout
    assert "-- MANUAL:" in (project.migrations / f"{TOUCH}_rollback.sql").read_text()
    run = project.execute(TOUCH)
    assert run.returncode == 3, run.stdout + run.stderr  # MANUAL markers, no capture
    assert "MANUAL" in run.stdout
    assert project.sql("SELECT nick FROM public.people ORDER BY id") == [("ada",), ("b",)]


SWAP_BASE = "20250101000000_contacts"
SWAP = "20250102000000_swap_role"


def test_enum_swap_applies_with_captures_and_rolls_back(
    project: Project, pg_server: object
) -> None:
    """The capture of a converted enum column keeps its values as text: the migration's own
    DROP TYPE of the old enum is not blocked by the capture table (it was: apply failed)."""
    write(
        project,
        SWAP_BASE,
        "CREATE TYPE public.role AS ENUM ('a', 'b');\n"
        "CREATE TABLE public.contacts (id int PRIMARY KEY, poste public.role);\n",
    )
    assert apply(project)[0] == 0
    project.sql("INSERT INTO public.contacts VALUES (1, 'a'), (2, 'b'), (3, NULL)")
    write(
        project,
        SWAP,
        "ALTER TYPE public.role RENAME TO role_old;\n"
        "CREATE TYPE public.role AS ENUM ('a', 'b', 'c');\n"
        "ALTER TABLE public.contacts ALTER COLUMN poste TYPE public.role\n"
        "  USING poste::text::public.role;\n"
        "DROP TYPE public.role_old;\n",
    )
    code, doc, out = apply(project)
    assert code == 0, out
    assert [c["status"] for c in doc["applied"][0]["captures"]] == ["captured"]
    shadow = str(pg_server.admin_url)  # type: ignore[attr-defined]
    made = cli(project, "generate", "--verify", "--force", "--shadow-url", shadow)
    assert made.returncode == 0, made.stdout + made.stderr

    run = project.execute(SWAP)

    assert run.returncode == 0, run.stdout + run.stderr
    assert project.sql("SELECT id, poste::text FROM public.contacts ORDER BY id") == [
        (1, "a"),
        (2, "b"),
        (3, None),
    ]
    assert project.sql("SELECT enum_range(NULL::public.role)::text") == [("{a,b}",)]


TREE = "20250101000000_tree"
PRUNE = "20250102000000_prune"
TREE_SQL = """
CREATE TYPE public.mood AS ENUM ('ok', 'bad');
CREATE TABLE public.orgs (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE public.teams (
  id int PRIMARY KEY, org int NOT NULL REFERENCES public.orgs ON DELETE CASCADE, mood public.mood
);
CREATE TABLE public.members (
  id int PRIMARY KEY, team int REFERENCES public.teams ON DELETE CASCADE, note text
);
CREATE TABLE public.invites (
  id int PRIMARY KEY, org int REFERENCES public.orgs ON DELETE SET NULL, email text
);
"""
TREE_ROWS = """
INSERT INTO public.orgs VALUES (1, 'a'), (2, 'b');
INSERT INTO public.teams VALUES (10, 1, 'ok'), (11, 1, 'bad'), (20, 2, NULL);
INSERT INTO public.members VALUES (100, 10, 'x'), (101, 11, NULL), (200, 20, 'y');
INSERT INTO public.invites VALUES (1000, 1, 'i@a'), (2000, 2, 'i@b');
"""


def _state(project: Project) -> list[list[tuple[object, ...]]]:
    return [
        project.sql(f"SELECT * FROM public.{table} ORDER BY 1")  # test-owned names
        for table in ("orgs", "teams", "members", "invites")
    ]


def test_a_cascading_delete_keeps_and_restores_the_children(
    project: Project, pg_server: object
) -> None:
    """ON DELETE CASCADE (two levels deep) and SET NULL children are kept with the DELETE and
    put back after their parents; the verifier calls the rollback verified."""
    write(project, TREE, TREE_SQL)
    assert apply(project)[0] == 0
    project.sql(TREE_ROWS)
    before = _state(project)
    write(project, PRUNE, "DELETE FROM public.orgs WHERE name = 'a';\n")
    code, doc, out = apply(project)
    assert code == 0, out
    kept = {(c["target"], c["rows"]) for c in doc["applied"][0]["captures"]}
    assert kept == {
        ("public.orgs", 1),
        ("public.teams", 2),
        ("public.members", 2),
        ("public.invites", 1),
    }
    assert project.sql("SELECT count(*) FROM public.members") == [(1,)]
    shadow = str(pg_server.admin_url)  # type: ignore[attr-defined]
    made = cli(project, "generate", "--verify", "--force", "--shadow-url", shadow)
    assert made.returncode == 0, made.stdout + made.stderr
    verdict = next(line for line in made.stdout.splitlines() if PRUNE in line)
    assert verdict.split()[0] == "verified", made.stdout

    run = project.execute(PRUNE)

    assert run.returncode == 0, run.stdout + run.stderr
    assert _state(project) == before


def test_a_self_referencing_cascade_is_not_kept(project: Project) -> None:
    write(
        project,
        TREE,
        "CREATE TABLE public.nodes (id int PRIMARY KEY, up int REFERENCES public.nodes "
        "ON DELETE CASCADE);\n",
    )
    assert apply(project)[0] == 0
    write(project, PRUNE, "DELETE FROM public.nodes WHERE id = 1;\n")
    code, doc, out = apply(project)
    assert code == 0, out
    (entry,) = doc["applied"][0]["captures"]
    assert entry["status"] == "manual"
    assert "reaches public.nodes twice" in entry["reason"]
