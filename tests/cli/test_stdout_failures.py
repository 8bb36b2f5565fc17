"""Every command's stdout that cannot be written: one line and OUTPUT_FAILED, never a bug.

`validate > /dev/full` and `generate > /dev/full` ended "internal error: OSError ... (a bug:
please report it)", exit 1 (cli/stdout_guard.py). A reader that leaves early (a closed pipe)
ends the run as SIGPIPE would: exit 141, nothing on stderr (click's own handling said exit 1).
The real CLI, as a subprocess; the database is never reached.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

OUTPUT_FAILED = 15
CLOSED_PIPE = 141
PASSWORD = "p@ss:/w?rd#%"
NO_SPACE = os.strerror(28)

FORWARD = "CREATE TABLE public.t (id int);\nCREATE TABLE public.u (id int);\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    migrations = tmp_path / "supabase" / "migrations"
    migrations.mkdir(parents=True)
    for n in range(1, 4):
        (migrations / f"2025010100000{n}_m{n}.sql").write_text(FORWARD.replace("t", f"t{n}"))
    return tmp_path


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATION_ROLLBACK_")}
    env["MIGRATION_ROLLBACK_DATABASE_URL"] = f"postgresql://app:{PASSWORD}@127.0.0.1:1/db"
    return env


def _to_full(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    with open("/dev/full", "w") as full:
        return subprocess.run(
            [sys.executable, "-m", "migration_rollback", *args],
            cwd=project, env=_env(), stdout=full, stderr=subprocess.PIPE, text=True, timeout=120,
        )  # fmt: skip


COMMANDS = [
    ("generate",),
    ("generate", "--force"),
    ("validate",),
    ("validate", "--format", "json"),
    ("--version",),
    ("captures", "--help"),
]


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_full_disk_on_stdout_is_one_line_and_output_failed(
    project: Path, args: tuple[str, ...]
) -> None:
    done = _to_full(project, *args)
    assert done.returncode == OUTPUT_FAILED, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("migration-rollback: error: could not write the output to stdout")
    assert NO_SPACE in lines[0]
    assert "internal error" not in done.stderr
    assert "Traceback" not in done.stderr
    assert PASSWORD not in done.stderr


def test_generate_writes_whole_files_before_its_stdout_fails(project: Path) -> None:
    assert _to_full(project, "generate").returncode == OUTPUT_FAILED
    written = sorted(project.glob("supabase/migrations/*_rollback.sql"))
    assert written  # the first one, at least, before its line was printed
    for path in written:
        text = path.read_text()
        assert text.startswith("-- ROLLBACK:")
        assert text.rstrip().endswith(";")
    assert not list(project.glob("supabase/migrations/.*.tmp"))


@pytest.mark.parametrize("args", [("validate",), ("generate",), ("validate", "--format", "json")])
def test_a_reader_gone_early_ends_quietly_as_sigpipe(project: Path, args: tuple[str, ...]) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # no reader at all: the first write meets EPIPE, whenever it comes
    try:
        done = subprocess.run(
            [sys.executable, "-m", "migration_rollback", *args],
            cwd=project, env=_env(), stdout=write_end, stderr=subprocess.PIPE, text=True,
            timeout=120,
        )  # fmt: skip
    finally:
        os.close(write_end)
    assert done.returncode == CLOSED_PIPE, done.stderr
    assert done.stderr == ""
