"""Helpers for the shadow-major tests: server binaries of a major, found or fetched."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from migration_rollback.verify.cluster import find_major_bindir

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "scripts" / "pg-binaries.sh"


def server_binaries(major: int) -> Path:
    """A bin directory of this major: found, or fetched by the project's script."""
    found = find_major_bindir(major)
    if found is not None:
        return found
    if major == 15:
        pytest.fail(
            "no PostgreSQL 15 server binaries: run scripts/setup (it installs Debian's "
            "postgresql and postgresql-contrib)"
        )
    run = subprocess.run(
        ["bash", str(SCRIPT), str(major)], capture_output=True, text=True, timeout=900
    )
    if run.returncode != 0:
        pytest.fail(
            f"PostgreSQL {major} binaries missing and `scripts/pg-binaries.sh {major}` failed "
            f"(exit {run.returncode}): {run.stderr.strip()[-2000:]}"
        )
    found = find_major_bindir(major)
    if found is None:
        pytest.fail(f"scripts/pg-binaries.sh {major} ran but no PostgreSQL {major} was found")
    return found
