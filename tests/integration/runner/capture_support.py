"""Helpers for the capture/restore tests: `apply` and `generate` run as the CLI runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from runner_support import Project


def cli(project: Project, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "migration_rollback", *args],
        cwd=project.root,
        env=project.environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def apply(project: Project, *args: str) -> tuple[int, dict[str, Any], str]:
    """`migration-rollback apply`; (exit code, JSON result, everything printed)."""
    result = project.root / "apply.result.json"
    result.unlink(missing_ok=True)
    proc = cli(project, "apply", "--result-file", str(result), *args)
    doc = json.loads(result.read_text()) if result.exists() else {}
    return proc.returncode, doc, proc.stdout + proc.stderr


def generate(project: Project) -> None:
    proc = cli(project, "generate", "--force")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def write(project: Project, name: str, text: str) -> None:
    (project.migrations / f"{name}.sql").write_text(text)


def rows(project: Project, table: str) -> list[tuple[Any, ...]]:
    return project.sql(f"SELECT * FROM {table} ORDER BY 1")  # test-owned table names


def column_type(project: Project, table: str, column: str) -> str:
    return str(
        project.value(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attname = %s AND NOT attisdropped",
            [table, column],
        )
    )
