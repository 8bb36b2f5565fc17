"""A connection string on the command line anywhere but --database-url / --shadow-url is refused
before anything runs, with an error that names where it stands and quotes none of it; a value
that must be a version is checked as one before any connection is made."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.leaks import leaked

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "Zq7Head/TailOfThePassw0rd"
KEYWORD = f"host=127.0.0.1 port=1 user=app password='{PASSWORD}' dbname=shop"
URL = "postgresql://app:Zq7Head%2FTailOfThePassw0rd@127.0.0.1:1/shop"
UNREACHABLE = "postgresql://app@127.0.0.1:1/shop"  # nothing listens: a connection would fail


def run(cwd: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIGRATION_ROLLBACK_", "PG"))}
    env.update(PYTHONPATH=f"{REPO / 'operator'}{os.pathsep}{REPO}")
    env["MIGRATION_ROLLBACK_DATABASE_URL"] = UNREACHABLE
    env.update(extra)
    return subprocess.run(
        [sys.executable, "-m", "migration_rollback", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "args",
    [
        ["execute", "--to", URL, "--dry-run"],
        ["execute", f"20250101000001_x {KEYWORD}", "--dry-run"],
        ["execute", "--to", "0", "--lock-timeout", URL],
        ["execute", "--to", URL.replace("postgresql:", "postgresql+psycopg2:"), "--dry-run"],
        ["execute", "--to", "0", f"--lock-timeout=postgres+asyncpg://app:{PASSWORD}@db/x"],
        ["execute", "--to", "0", "--history-table", URL],
        ["apply", "--no-capture", URL],
        ["captures", "prune", "--version", KEYWORD],
    ],
)
def test_a_pasted_connection_string_is_refused_unquoted(tmp_path: Path, args: list[str]) -> None:
    done = run(tmp_path, *args)
    assert done.returncode == 2, done.stderr
    assert "looks like a connection string (not shown)" in done.stderr
    assert not leaked(PASSWORD, done.stdout + done.stderr)


@pytest.mark.parametrize(
    "args",
    [
        ["execute", "--to", "2025-01-01", "--dry-run"],
        ["apply", "--to", "v2"],
        ["apply", "--no-capture", "latest"],
        ["captures", "prune", "--version", "20250101000001_x"],
    ],
)
def test_a_version_is_checked_before_connecting(tmp_path: Path, args: list[str]) -> None:
    # Exit 2 with the reason, not the unreachable database's connection error (exit 7).
    done = run(tmp_path, *args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "is not a version" in done.stderr


def test_a_cloud_token_length_password_runs(tmp_path: Path) -> None:
    # Cloud IAM tokens are 1-2k characters: the scrubber's cut-edge pattern nested one group
    # per character and every command died of RecursionError before it started.
    token = "".join(chr(ord("A") + i % 26) + str(i % 7) for i in range(1000))
    url = f"postgresql://app:{token}@127.0.0.1:1/shop"
    done = run(tmp_path, "execute", "--database-url", url, "--to", "0", "--dry-run")
    assert "Recursion" not in done.stdout + done.stderr
    assert "127.0.0.1" in done.stdout + done.stderr, done.stdout + done.stderr  # got to connect
    assert not leaked(token, done.stdout + done.stderr)


@pytest.mark.parametrize("value", [URL, KEYWORD])
def test_a_connection_string_in_an_options_environment_variable_is_refused(
    tmp_path: Path, value: str
) -> None:
    # MIGRATION_ROLLBACK_DIR stands for --dir: its value was echoed as the folder not found.
    done = run(tmp_path, "execute", "--to", "0", "--dry-run", MIGRATION_ROLLBACK_DIR=value)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "MIGRATION_ROLLBACK_DIR looks like a connection string (not shown)" in done.stderr
    assert not leaked(PASSWORD, done.stdout + done.stderr)
