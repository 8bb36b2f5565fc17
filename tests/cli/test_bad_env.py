"""Environment variables of the shadow cluster with values that cannot be used: each is named,
exit 2, before any cluster is started. MIGRATION_ROLLBACK_PG_BINDIR pointing nowhere was
skipped in silence (the proof then ran on whatever other binaries there were), and an unknown
MIGRATION_ROLLBACK_PG_USER ended as "internal error: KeyError". A scratch directory that cannot
hold the cluster is named the same way, never a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"MIGRATION_ROLLBACK_PG_BINDIR": "/nonexistent/bin"},
            "MIGRATION_ROLLBACK_PG_BINDIR=/nonexistent/bin: no initdb and postgres there",
        ),
        pytest.param(
            {"MIGRATION_ROLLBACK_PG_USER": "no-such-user-zq"},
            "MIGRATION_ROLLBACK_PG_USER=no-such-user-zq: no such user",
            marks=pytest.mark.skipif(os.geteuid() != 0, reason="the user is read as root only"),
        ),
        (
            {"MIGRATION_ROLLBACK_SCRATCH_DIR": "/nonexistent/scratch"},
            "MIGRATION_ROLLBACK_SCRATCH_DIR=/nonexistent/scratch: no such directory",
        ),
        (
            {"MIGRATION_ROLLBACK_SCRATCH_DIR": "/etc/passwd"},
            "MIGRATION_ROLLBACK_SCRATCH_DIR=/etc/passwd: not a directory",
        ),
    ],
    ids=["bindir", "user", "scratch-missing", "scratch-file"],
)
def test_a_shadow_setting_that_cannot_be_used_is_named(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    migrations = tmp_path / "supabase" / "migrations"
    migrations.mkdir(parents=True)
    (migrations / "20250101000001_a.sql").write_text("create table public.a (id int);\n")
    full = {**os.environ, "PYTHONPATH": f"{REPO / 'operator'}{os.pathsep}{REPO}", **env}
    full.pop("MIGRATION_ROLLBACK_SHADOW_URL", None)
    proc = subprocess.run(
        [sys.executable, "-m", "migration_rollback", "validate", "--verify"],
        cwd=tmp_path,
        env=full,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stdout
    assert "internal error" not in proc.stdout + proc.stderr


def test_a_port_in_use_is_named_not_a_bug() -> None:
    # It ended "internal error: OSError: [Errno 98] Address already in use (a bug ...)".
    with socket.socket() as held:
        held.bind(("0.0.0.0", 0))  # noqa: S104 (the operator listens on every address)
        held.listen()
        port = held.getsockname()[1]
        env = {
            **os.environ,
            "PYTHONPATH": f"{REPO / 'operator'}{os.pathsep}{REPO}",
            "METRICS_PORT": str(port),
            "KUBECONFIG": "/nonexistent/kubeconfig",
        }
        env["HEALTH_PORT"] = str(port - 1 if port > 1025 else port + 1)
        proc = subprocess.run(
            [sys.executable, "-m", "migration_rollback", "operator"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 2, proc.stderr
    assert f"METRICS_PORT {port}" in proc.stderr
    assert "internal error" not in proc.stderr
