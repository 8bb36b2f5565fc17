"""`captures prune` drops capture tables and commits, then lists what it dropped on stdout.
When that stdout cannot be written (a full disk, a reader gone), the drop has happened all the
same: stderr must say so, with what went, not only that the command 'stopped there'."""

from __future__ import annotations

import subprocess
import sys

import pytest
from capture_support import apply, cli, write
from runner_support import Project

pytestmark = pytest.mark.integration

BASE = "20250101000000_base"
FIX = "20250102000000_fix"
OUTPUT_FAILED = 15


def _captured(project: Project) -> None:
    write(project, BASE, "CREATE TABLE public.people (id int PRIMARY KEY, name text);\n")
    assert apply(project)[0] == 0
    project.sql("INSERT INTO public.people VALUES (1, 'a'), (2, 'b')")
    write(project, FIX, "UPDATE public.people SET name = upper(name);\n")
    code, _, out = apply(project)
    assert code == 0, out


def _prune_into(project: Project, stdout: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "migration_rollback", "captures", "prune", "--version", FIX[:14]],
        cwd=project.root,
        env=project.environment(),
        stdout=stdout,  # type: ignore[arg-type]
        stderr=subprocess.PIPE,
        text=True,
        timeout=300,
    )


def test_a_prune_whose_stdout_is_full_says_on_stderr_what_it_dropped(project: Project) -> None:
    _captured(project)
    with open("/dev/full", "w") as full:
        run = _prune_into(project, full)

    assert run.returncode == OUTPUT_FAILED, run.stderr
    assert "dropped 1 capture(s)" in run.stderr, run.stderr
    assert "committed" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr
    assert FIX[:14] not in cli(project, "captures", "list").stdout  # it did happen


def test_a_dry_run_prune_whose_stdout_is_full_says_nothing_was_dropped(
    project: Project,
) -> None:
    _captured(project)
    with open("/dev/full", "w") as full:
        run = subprocess.run(
            [sys.executable, "-m", "migration_rollback", "captures", "prune", "--dry-run",
             "--version", FIX[:14]],
            cwd=project.root, env=project.environment(), stdout=full,
            stderr=subprocess.PIPE, text=True, timeout=300,
        )  # fmt: skip

    assert run.returncode == OUTPUT_FAILED, run.stderr
    assert "committed" not in run.stderr, run.stderr
    assert FIX[:14] in cli(project, "captures", "list").stdout
