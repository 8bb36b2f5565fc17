"""Flags that name a migration version refuse one that does not exist, naming it and what
exists: a typo in `apply --no-capture` kept the captures it meant to skip, and one in
`captures prune --version` printed "dropped 0 capture(s)", both with exit 0."""

from __future__ import annotations

import pytest
from capture_support import apply, cli
from runner_support import Project

pytestmark = pytest.mark.integration

PRECONDITION_FAILED = 3


def _two_migrations(project: Project) -> None:
    (project.migrations / "20250101000001_t.sql").write_text(
        "CREATE TABLE public.t (id int PRIMARY KEY, v int);\nINSERT INTO public.t VALUES (1, 1);\n"
    )
    (project.migrations / "20250101000002_u.sql").write_text("UPDATE public.t SET v = 2;\n")


def test_apply_no_capture_of_an_unknown_version_is_refused(project: Project) -> None:
    _two_migrations(project)

    code, doc, out = apply(project, "--no-capture", "99999999999999")

    assert code == PRECONDITION_FAILED, out
    assert doc["error"].startswith("--no-capture 99999999999999: no migration in the folder")
    assert "20250101000001, 20250101000002" in doc["error"]
    assert project.versions() == []


def test_captures_prune_of_a_version_without_captures_is_refused(project: Project) -> None:
    _two_migrations(project)
    assert apply(project)[0] == 0

    for extra in ((), ("--dry-run",)):
        pruned = cli(project, "captures", "prune", "--version", "42", *extra)

        assert pruned.returncode == PRECONDITION_FAILED, pruned.stdout + pruned.stderr
        assert "--version 42: no capture is kept for this version" in pruned.stdout + pruned.stderr
        assert "captures exist for: 20250101000001, 20250101000002" in pruned.stdout + pruned.stderr
    kept = cli(project, "captures", "prune", "--version", "20250101000002")
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert "dropped 1 capture(s)" in kept.stdout
