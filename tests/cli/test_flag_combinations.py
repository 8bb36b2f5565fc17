"""Every command's flags probed against each other and out of range (adversarial review A).

A flag the command would ignore (a --verify option without --verify, --backup-dir without a
backup, --max-age without require-recent) or a value out of range (--jobs 0, -1 or huge, a
negative or garbage timeout) is one clear error naming the flag, exit 2, before any file is
written or any connection made; never silently accepted, never a traceback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "supabase" / "migrations"
V = "20251120000001"
NOWHERE = "postgresql://u@127.0.0.1:1/db"  # refused at once: a run that got this far connected
BAD = [
    # (arguments, the flag the message must name)
    *[
        ((command, *flag), flag[0])
        for command in ("generate", "validate")
        for flag in (
            ("--jobs", "2"),
            ("--shadow-url", NOWHERE),
            ("--pg-major", "15"),
            ("--allow-other-major",),
            ("--exact-column-order",),
        )
    ],
    *[
        ((command, "--verify", "--jobs", jobs), "--jobs")
        for command in ("generate", "validate")
        for jobs in ("0", "-1", "100000", "two")
    ],
    (("generate", "--only", "nope"), "--only"),
    (("validate", "--format", "xml"), "--format"),
    (("execute", V, "--backup-dir", "/tmp"), "--backup-dir"),
    (("execute", V, "--dry-run", "--backup-dir", "/tmp"), "--backup-dir"),
    (("execute", V, "--max-age", "1h"), "--max-age"),
    (("execute", V, "--dry-run", "--backup", "pg-dump"), "--backup-dir"),
    (("execute", V, "--dry-run", "--purge"), "--purge"),
    (
        ("execute", V, "--max-age", "-1h", "--backup", "require-recent", "--backup-dir", "/tmp"),
        "--max-age",
    ),
    *[
        (("execute", V, flag, value), flag)
        for flag in ("--lock-timeout", "--statement-timeout")
        for value in ("garbage", "-5s", "-1", "0", "99999999999h", "")
    ],
    (("execute", V, "--on-conflict", "overwrite"), "--on-conflict"),
    (("execute", V, "--expect-sha256", "abc"), "--expect-sha256"),
    (("execute", V, "--backup", "sometimes"), "--backup"),
    *[
        (("apply", flag, value), flag)
        for flag in ("--lock-timeout", "--statement-timeout")
        for value in ("zzz", "-2s", "0")
    ],
    (("apply", "--capture-max-rows", "-1"), "--capture-max-rows"),
    (("apply", "--capture-max-bytes", "-5"), "--capture-max-bytes"),
    (("apply", "--capture-max-rows", "many"), "--capture-max-rows"),
    (("apply", "--no-capture", "garbage"), "--no-capture"),
    (("apply", "--to", "garbage"), "--to"),
    (("emergency", "--latest", "0"), "--latest"),
    (("emergency", "--latest", "-1"), "--latest"),
]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("flags")
    shutil.copytree(EXAMPLES, root / "supabase" / "migrations")
    return root


def listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.parametrize(("args", "flag"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_a_flag_out_of_place_or_range_is_named(
    project: Path, args: tuple[str, ...], flag: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATION_ROLLBACK_")}
    env["MIGRATION_ROLLBACK_DATABASE_URL"] = NOWHERE
    before = listing(project)
    proc = subprocess.run(
        [sys.executable, "-m", "migration_rollback", *args],
        cwd=project, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out
    assert flag in out, out
    assert "Traceback" not in out
    assert "connect" not in out  # refused before any connection
    assert listing(project) == before  # and before any file was written


def test_the_shadow_url_from_the_environment_needs_no_verify(project: Path) -> None:
    # Set once for every command (a CI job's environment): not a mistake of this command line.
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATION_ROLLBACK_")}
    env["MIGRATION_ROLLBACK_SHADOW_URL"] = NOWHERE
    proc = subprocess.run(
        [sys.executable, "-m", "migration_rollback", "validate"],
        cwd=project, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    assert "only applies with --verify" not in proc.stderr
