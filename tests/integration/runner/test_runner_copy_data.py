"""Inline COPY data (`COPY ... FROM stdin;` and its rows) against a real server: `apply` and
`execute` send statements one by one and cannot send the rows, so each refuses the file before
anything changes (exit 3), naming the COPY's file:line and what to do instead.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from runner_support import Project, schema_fingerprint

pytestmark = pytest.mark.integration

PRECONDITION_FAILED = 3
SEED = (
    "CREATE TABLE public.countries (id int, name text);\n"
    "COPY public.countries (id, name) FROM stdin;\n"
    "1\tFrance\n"
    "\\.\n"
)


def apply(project: Project) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "migration_rollback", "apply"],
        cwd=project.root,
        env=project.environment(),
        capture_output=True,
        text=True,
        check=False,
    )


def test_apply_refuses_a_migration_with_inline_copy_data(project: Project) -> None:
    project.add("20251201000000_first", "CREATE TABLE public.first (id int);", "", apply=False)
    project.add("20251201000001_seed", SEED, "DROP TABLE public.countries;\n", apply=False)
    before = schema_fingerprint(project.url)

    run = apply(project)

    assert run.returncode == PRECONDITION_FAILED, run.stdout + run.stderr
    out = " ".join((run.stdout + run.stderr).split())
    assert "20251201000001_seed.sql:2: COPY ... FROM stdin with inline data" in out
    assert "apply cannot send inline COPY data" in out
    assert schema_fingerprint(project.url) == before  # not even the first migration
    assert project.versions() == []


def test_execute_refuses_a_rollback_with_inline_copy_data(project: Project) -> None:
    project.add(
        "20251201000000_flags",
        "CREATE TABLE public.flags (id int);",
        "DELETE FROM public.flags;\nCOPY public.flags (id) FROM stdin;\n1\n2\n\\.\n",
        header=False,
    )
    before = schema_fingerprint(project.url)

    run = project.execute("20251201000000_flags")

    assert run.returncode == PRECONDITION_FAILED, run.stdout + run.stderr
    assert schema_fingerprint(project.url) == before
    assert run.result is not None
    message = run.result["error"]["message"]
    assert "20251201000000_flags_rollback.sql:2: COPY ... FROM stdin" in message
    assert "execute cannot send inline COPY data" in message
