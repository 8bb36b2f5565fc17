"""A pending file named like a rollback with no forward beside it (`..._fix_rollback.sql`
without `..._fix.sql`): Supabase applies it as a migration of its own; `apply` cannot tell
which it is, so it stops before anything runs instead of passing over it and applying the
later ones (adversarial round 35, section 8). One already applied is no obstacle."""

from __future__ import annotations

import pytest
from capture_support import apply, write
from runner_support import Project, schema_fingerprint

pytestmark = pytest.mark.integration

PRECONDITION_FAILED = 3


def test_apply_stops_at_a_pending_unpaired_rollback_name(project: Project) -> None:
    write(project, "20250902000000_fix_rollback", "CREATE TABLE public.fixed (id int);\n")
    write(project, "20250903000000_later", "CREATE TABLE public.later (id int);\n")
    before = schema_fingerprint(project.url)

    code, _, out = apply(project)

    assert code == PRECONDITION_FAILED, out
    assert "20250902000000_fix_rollback.sql: named like a rollback file" in out
    assert "nothing was applied" in out
    assert schema_fingerprint(project.url) == before
    assert project.value("SELECT to_regclass('public.later') IS NULL") is True


def test_an_applied_unpaired_rollback_name_does_not_stop_apply(project: Project) -> None:
    write(project, "20250902000000_fix", "CREATE TABLE public.fixed (id int);\n")
    code, _, out = apply(project)
    assert code == 0, out
    (project.migrations / "20250902000000_fix.sql").rename(
        project.migrations / "20250902000000_fix_rollback.sql"
    )
    write(project, "20250903000000_later", "CREATE TABLE public.later (id int);\n")

    code, _, out = apply(project)

    assert code == 0, out
    assert project.value("SELECT to_regclass('public.later') IS NOT NULL") is True


def test_the_rollback_left_after_execute_does_not_stop_apply(project: Project) -> None:
    """The usual way after a rollback: the forward file removed, its rollback left beside the
    others; execute's audit row says it was rolled back, so it is no migration of its own."""
    name = "20250902000000_fix"
    project.add(name, "CREATE TABLE public.fixed (id int);\n", "DROP TABLE public.fixed;\n")
    done = project.execute(name, "--allow-data-loss")
    assert done.returncode == 0, done.stdout + done.stderr
    (project.migrations / f"{name}.sql").unlink()
    write(project, "20250903000000_later", "CREATE TABLE public.later (id int);\n")

    code, _, out = apply(project)

    assert code == 0, out
    assert project.value("SELECT to_regclass('public.later') IS NOT NULL") is True
