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
