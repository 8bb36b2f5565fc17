"""Two files with one version: replayed for verdicts, but never acted on by guess on a database.

The history table keeps one row per version, so `apply` refuses a pending shared version and
`execute` refuses a bare version that several rollback files claim; naming the file is how the
user resolves it.
"""

from __future__ import annotations

import pytest
from capture_support import apply, write
from runner_support import Project, schema_fingerprint

pytestmark = pytest.mark.integration

PRECONDITION_FAILED = 3
VERSION = "20250101000007"


def test_apply_refuses_a_pending_shared_version_naming_both_files(project: Project) -> None:
    write(project, f"{VERSION}_dup_a", "CREATE TABLE public.dup_a (id int);\n")
    write(project, f"{VERSION}_dup_b", "CREATE TABLE public.dup_b (id int);\n")
    before = schema_fingerprint(project.url)

    code, _, out = apply(project)

    assert code == PRECONDITION_FAILED, out
    assert f"{VERSION}_dup_a.sql, {VERSION}_dup_b.sql" in out
    assert "rename all but one" in out
    assert schema_fingerprint(project.url) == before


def test_execute_refuses_a_bare_shared_version_and_runs_the_named_file(project: Project) -> None:
    project.add(
        f"{VERSION}_dup_a", "CREATE TABLE public.dup_a (id int);\n", "DROP TABLE public.dup_a;\n"
    )
    project.add(
        f"{VERSION}_dup_b",
        "CREATE TABLE public.dup_b (id int);\n",
        "DROP TABLE public.dup_b;\n",
        apply=False,
    )
    before = schema_fingerprint(project.url)

    bare = project.execute(VERSION)

    assert bare.returncode == PRECONDITION_FAILED, bare.stdout + bare.stderr
    assert bare.result is not None
    assert "name the migration file" in bare.result["error"]["message"]
    assert schema_fingerprint(project.url) == before

    named = project.execute(f"{VERSION}_dup_a")

    assert named.returncode == 0, named.stdout + named.stderr
    assert project.value("SELECT to_regclass('public.dup_a') IS NULL") is True
