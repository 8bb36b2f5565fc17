"""A database URL with surrounding whitespace: the trailing newline of `echo url > file` and of
a Secret made with --from-file. The check stripped it while the connection used the raw text,
so the run failed on `database "name\\n" does not exist` while showing `/name`. Now one parsed
string is shown and connected to, and the whitespace ignored is said (never the URL itself)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from runner_support import Project

pytestmark = pytest.mark.integration

NOTE = "surrounding whitespace (a trailing newline?) was ignored"


def _run(project: Project, *args: str) -> tuple[subprocess.CompletedProcess[str], Any]:
    """The CLI with the URL (in the environment, as the Job has it) ending in a newline."""
    result = project.root / "result.json"
    result.unlink(missing_ok=True)
    file_args = ("--result-file", str(result)) if args[0] in ("apply", "execute") else ()
    proc = subprocess.run(
        [sys.executable, "-m", "migration_rollback", *args, *file_args],
        cwd=project.root,
        env=project.environment(url=project.url + "\n"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    return proc, json.loads(result.read_text()) if result.exists() else None


def test_apply_execute_and_captures_connect_to_the_database_they_show(project: Project) -> None:
    project.add("20250101000001_t", "CREATE TABLE public.t (id int);", "DROP TABLE public.t;")
    (project.migrations / "20250101000002_u.sql").write_text("CREATE TABLE public.u (id int);")

    applied, applied_doc = _run(project, "apply")
    executed, executed_doc = _run(project, "execute", "20250101000001_t", "--dry-run")
    listed, _ = _run(project, "captures", "list")

    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert any(NOTE in w for w in applied_doc["warnings"])
    assert project.versions() == ["20250101000001", "20250101000002"]
    assert executed.returncode == 0, executed.stdout + executed.stderr
    assert any(NOTE in w for w in executed_doc["warnings"])
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert NOTE in listed.stderr


def test_validate_verify_connects_to_the_shadow_server_it_shows(project: Project) -> None:
    """--shadow-url with a trailing newline: the scratch databases are made on that server."""
    project.add("20250101000001_t", "CREATE TABLE public.t (id int);", "DROP TABLE public.t;")
    admin = project.url.rsplit("/", 1)[0] + "/postgres\n"
    command = ["validate", "--verify", "--shadow-url", admin]
    proc = subprocess.run(
        [sys.executable, "-m", "migration_rollback", *command],
        cwd=project.root,
        env=project.environment(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert NOTE in out
    assert 'database "postgres\n' not in out
