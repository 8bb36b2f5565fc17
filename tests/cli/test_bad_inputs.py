"""Bad files and folders: each gets one clear line (what and where), the others are processed.

Tests run as root, so `chmod 000` proves nothing; unreadable files here are ones that fail for
root too: a directory or a named pipe called `*.sql`, a broken symlink, a file swapped between
the listing and the read, NUL bytes, UTF-16.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from migration_rollback.cli import app
from migration_rollback.errors import SourceFileError
from migration_rollback.project.generation import Outcome, generate_one
from migration_rollback.project.migrations import read_source
from migration_rollback.project.workspace import load

GOOD = "20250101000000_good"
BAD = {
    "20250101000001_dir": "a directory, not a SQL file",
    "20250101000002_fifo": "a named pipe (FIFO), not a SQL file",
    "20250101000003_dangling": "broken symbolic link",
    "20250101000004_escape": "outside the migrations folder",
    "20250101000005_nul": "NUL byte",
    "20250101000006_utf16": "UTF-16",
}
# Readable files sharing a version: each is replayed and gets a rollback, with a warning.
DUPLICATES = ("20250101000007_dup_a", "20250101000007_dup_b")
DUPLICATE_FILES = "20250101000007_dup_a.sql, 20250101000007_dup_b.sql"
CODES = {
    "20250101000001_dir": "FILE",
    "20250101000002_fifo": "FILE",
    "20250101000003_dangling": "FILE",
    "20250101000004_escape": "FILE",
    "20250101000005_nul": "ENCODING",
    "20250101000006_utf16": "ENCODING",
}


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def run_json(*args: str) -> tuple[int, str]:
    """stdout alone: the warnings about ignored files go to stderr."""
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout


def make_nasty(migrations: Path) -> None:
    """One good migration and one of each kind of bad file."""
    migrations.mkdir(parents=True)
    (migrations / f"{GOOD}.sql").write_text("create table public.good (id int);\n")
    (migrations / "20250101000001_dir.sql").mkdir()
    os.mkfifo(migrations / "20250101000002_fifo.sql")
    (migrations / "20250101000003_dangling.sql").symlink_to(migrations / "nowhere.sql")
    outside = migrations.parent / "outside.sql"
    outside.write_text("create table public.outside (id int);\n")
    (migrations / "20250101000004_escape.sql").symlink_to(outside)
    (migrations / "20250101000005_nul.sql").write_bytes(b"create table n (id int);\n\x00\n")
    (migrations / "20250101000006_utf16.sql").write_bytes(
        "create table u (id int);\n".encode("utf-16")
    )
    (migrations / "20250101000007_dup_a.sql").write_text("create table public.a (id int);\n")
    (migrations / "20250101000007_dup_b.sql").write_text("create table public.b (id int);\n")
    (migrations / "notes.sql").write_text("-- not a migration\n")


@pytest.fixture
def nasty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    migrations = tmp_path / "supabase" / "migrations"
    make_nasty(migrations)
    monkeypatch.chdir(tmp_path)
    return migrations


def lines_about(out: str, name: str) -> list[str]:
    return [line for line in out.splitlines() if name in line and line.lstrip().startswith("✗")]


def test_generate_reports_each_bad_file_once_and_writes_the_good_one(nasty: Path) -> None:
    code, out = run("generate")
    assert code == 1
    assert (nasty / f"{GOOD}_rollback.sql").is_file()
    for name, reason in BAD.items():
        found = lines_about(out, name + ":")
        assert len(found) == 1, (name, out)
        assert reason in found[0]
        assert not (nasty / f"{name}_rollback.sql").exists()


def test_generate_writes_each_file_of_a_shared_version_with_a_warning(nasty: Path) -> None:
    code, out = run("generate")
    assert code == 1  # the unreadable files
    for name in DUPLICATES:
        assert (nasty / f"{name}_rollback.sql").is_file(), name
        warned = [line for line in out.splitlines() if f"{name}.sql: version" in line]
        assert len(warned) == 1, (name, out)
        assert DUPLICATE_FILES in warned[0]


def test_validate_marks_each_bad_file_invalid_with_its_file(nasty: Path) -> None:
    run("generate")
    code, out = run_json("validate", "--format", "json")
    assert code == 1
    reports = {m["migration"]: m for m in json.loads(out)["migrations"]}
    assert reports[GOOD]["status"] == "valid"
    for name, reason in BAD.items():
        assert reports[name]["status"] == "invalid", name
        (finding,) = reports[name]["findings"]
        assert finding["code"] == CODES[name]
        assert finding["file"] == f"{name}.sql"
        assert reason in finding["message"]
    for name in DUPLICATES:
        assert reports[name]["status"] == "valid", name
        (finding,) = [f for f in reports[name]["findings"] if f["code"] == "DUPLICATE_VERSION"]
        assert finding["severity"] == "warning"
        assert finding["file"] == f"{name}.sql"
        assert DUPLICATE_FILES in finding["message"]
    nul = reports["20250101000005_nul"]["findings"][0]
    assert nul["line"] == 2
    assert "notes.sql" not in reports


def test_text_validate_gives_one_line_per_bad_file(nasty: Path) -> None:
    code, out = run("validate")
    assert code == 1
    for name in BAD:
        located = [line for line in out.splitlines() if f": {name}.sql" in line]
        assert len(located) == 1, name
        assert BAD[name] in located[0]


def test_emergency_still_writes_the_plan(nasty: Path) -> None:
    code, out = run("emergency", "--latest", "20")
    assert code == 0, out
    plan = (nasty.parent.parent / "scripts" / "EMERGENCY_ROLLBACK_PLAN.md").read_text()
    assert plan.count("INVALID: fix before use") >= len(BAD)
    assert "FILE: 20250101000002_fifo.sql: is a named pipe" not in plan  # findings, not errors
    assert "is a named pipe (FIFO)" in plan


def test_latin1_is_read_with_a_located_warning(nasty: Path) -> None:
    (nasty / "20250101000009_latin1.sql").write_bytes(
        "create table l (id int);\ncomment on table l is 'caf\xe9';\n".encode("latin-1")
    )
    code, out = run("generate", "--only", "20250101000009")
    assert code == 0, out
    assert "20250101000009_latin1.sql:2: not UTF-8 (byte 0xE9)" in out
    code, out = run_json("validate", "--format", "json")
    reports = {m["migration"]: m for m in json.loads(out)["migrations"]}
    latin = reports["20250101000009_latin1"]
    assert latin["status"] == "valid"
    assert any(f["code"] == "ENCODING" for f in latin["findings"])


def test_a_bad_rollback_file_is_invalid_and_the_others_are_validated(nasty: Path) -> None:
    run("generate")
    rollback = nasty / f"{GOOD}_rollback.sql"
    rollback.unlink()
    os.mkfifo(rollback)
    code, out = run_json("validate", "--format", "json")
    reports = {m["migration"]: m for m in json.loads(out)["migrations"]}
    assert code == 1
    (finding,) = reports[GOOD]["findings"]
    assert finding["file"] == f"{GOOD}_rollback.sql"
    assert "named pipe" in finding["message"]
    code, out = run("emergency")
    assert code == 0, out


def test_a_file_swapped_for_a_pipe_after_the_listing_fails_alone(nasty: Path) -> None:
    victim = nasty / f"{GOOD}.sql"

    def swap(name: str) -> None:
        if name == GOOD:
            victim.unlink()
            os.mkfifo(victim)  # reading it must fail, not block

    loaded = load(nasty, progress=swap)
    item = next(i for i in loaded if i.migration.name == GOOD)
    assert isinstance(item.error, SourceFileError)
    assert "named pipe" in str(item.error)
    assert f"{GOOD}.sql" in str(item.error)


def test_read_source_refuses_a_pipe_without_blocking(tmp_path: Path) -> None:
    pipe = tmp_path / "1_x.sql"
    os.mkfifo(pipe)
    with pytest.raises(SourceFileError, match="named pipe"):
        read_source(pipe)


def test_write_failure_is_one_line_and_leaves_no_temporary_file(nasty: Path) -> None:
    doc = nasty / f"{GOOD}_rollback.md"
    doc.mkdir()
    (doc / "keep").write_text("x")
    code, out = run("generate", "--force", "--only", GOOD)
    assert code == 1
    (line,) = lines_about(out, GOOD)
    assert f"{GOOD}_rollback.md: cannot write" in line
    assert not [p for p in nasty.iterdir() if p.name.endswith(".tmp")]


def test_write_into_a_vanished_folder_fails_that_migration_only(tmp_path: Path) -> None:
    migrations = tmp_path / "m"
    migrations.mkdir()
    (migrations / f"{GOOD}.sql").write_text("create table public.good (id int);\n")
    (loaded,) = load(migrations)
    migrations.rename(tmp_path / "gone")
    result = generate_one(loaded, force=False)
    assert result.outcome is Outcome.FAILED
    assert "cannot write" in result.message
    assert f"{GOOD}_rollback.sql" in result.message


@pytest.mark.parametrize("command", ["generate", "validate", "emergency"])
def test_an_empty_folder_is_an_error(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "supabase" / "migrations").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    code, out = run(command)
    assert code == 2
    assert out.strip().splitlines() == [
        "error: supabase/migrations: no migrations in this folder (expected "
        "<timestamp>_<name>.sql files)"
    ]


@pytest.mark.parametrize("command", ["generate", "validate", "emergency"])
def test_a_file_given_as_the_folder_is_an_error(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "file").write_text("x")
    monkeypatch.chdir(tmp_path)
    code, out = run(command, "--dir", "file")
    assert code == 2
    assert "file: not a directory" in out


def test_only_naming_nothing_is_an_error_and_writes_nothing(nasty: Path) -> None:
    code, out = run("generate", "--only", "20990101000000_nothing")
    assert code == 2
    assert "--only '20990101000000_nothing': no such migration" in out
    assert not (nasty / f"{GOOD}_rollback.sql").exists()
    code, out = run("generate", "--only", f"{GOOD}.sql")
    assert code == 0, out
    assert (nasty / f"{GOOD}_rollback.sql").exists()


@pytest.mark.parametrize("output", ["plan.md/x.md", "plan.md/deeper/x.md", "somedir"])
def test_an_unwritable_emergency_output_is_one_line(nasty: Path, output: str) -> None:
    (nasty.parent.parent / "plan.md").write_text("a file, not a folder")
    (nasty.parent.parent / "somedir").mkdir()
    code, out = run("emergency", "--output", output)
    assert code == 2
    (line,) = [line for line in out.splitlines() if not line.startswith("warning: ")]
    assert line.startswith("error: cannot write the plan: ")
    assert "plan.md" in line or "somedir" in line


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATION_ROLLBACK_")}
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "migration_rollback", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


UNREACHABLE = {"MIGRATION_ROLLBACK_DATABASE_URL": "postgresql://u@127.0.0.1:1/db"}
INVOCATIONS: list[tuple[list[str], dict[str, str]]] = [
    (["generate"], {}),
    (["generate", "--force"], {}),
    (["generate", "--only", "20250101000002"], {}),
    (["generate", "--only", "nothing"], {}),
    (["generate", "--dir", "no/such/dir"], {}),
    (["validate"], {}),
    (["validate", "--format", "json"], {}),
    (["validate", "--dir", "x[/b]"], {}),
    (["emergency"], {}),
    (["emergency", "--output", "supabase/migrations/20250101000001_dir.sql/x/y.md"], {}),
    (["execute", "20250101000002_fifo", "--dry-run"], UNREACHABLE),
    (["execute", "20250101000001_dir", "--rollback-file", "supabase"], UNREACHABLE),
    (["execute", "--to", "20250101000000"], UNREACHABLE),
    (["execute", GOOD, "--lock-timeout", "99999999999999999999999999d"], UNREACHABLE),
    (["execute", GOOD, "--statement-timeout", "-1s"], UNREACHABLE),
    (["execute", GOOD, "--max-age", "0"], UNREACHABLE),
    (["execute", "no_version"], UNREACHABLE),
    (["execute", GOOD], {}),
    (["operator", "--help"], {}),
]


def test_no_traceback_ever_reaches_the_user(nasty: Path) -> None:
    root = nasty.parent.parent
    for args, env in INVOCATIONS:
        proc = run_cli(*args, cwd=root, env=env)
        assert "Traceback" not in proc.stderr + proc.stdout, (args, proc.stderr)
        assert "internal error" not in proc.stderr, (args, proc.stderr)
        if args[0] != "operator":
            assert proc.returncode != 0 or args[0] == "emergency", (args, proc.stdout)


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--lock-timeout", "-5s", "--lock-timeout: not a duration: '-5s'"),
        ("--lock-timeout", "0", "--lock-timeout: must be at least 1ms"),
        ("--statement-timeout", "0ms", "--statement-timeout: must be at least 1ms"),
        ("--statement-timeout", "25h", "--statement-timeout: must be at most 24h"),
        ("--lock-timeout", "9" * 400, "--lock-timeout: duration out of range"),
        ("--lock-timeout", "99999999999999999999d", "--lock-timeout: duration out of range"),
        ("--lock-timeout", "5 parsecs", "--lock-timeout: not a duration"),
        ("--lock-timeout", "\u0661\u0660s", "--lock-timeout: not a duration"),
        ("--statement-timeout", "\uff11\uff10s", "--statement-timeout: not a duration"),
        ("--lock-timeout", "1s1s", "--lock-timeout: not a duration: '1s1s' (digits 0-9"),
        ("--max-age", "0s", "--max-age: must be at least 1ms"),
    ],
)
def test_absurd_durations_are_one_usage_line(
    tmp_path: Path, option: str, value: str, expected: str
) -> None:
    # --max-age is read only with require-recent (alone, that is the error it gets).
    more = ("--backup", "require-recent", "--backup-dir", str(tmp_path)) if "age" in option else ()
    proc = run_cli("execute", GOOD, option, value, *more, cwd=tmp_path, env=UNREACHABLE)
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith(f"migration-rollback execute: error: {expected}"), line
    assert proc.stdout == ""
