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
