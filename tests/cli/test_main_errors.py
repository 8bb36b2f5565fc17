"""The CLI's last line of defence: a domain error no command handled is an error (exit 2), not
"a bug"; a real bug is one line (or, asked for, a traceback) with no piece of any secret the
process was given. A shadow URL libpq cannot use ended `validate --verify` and `generate
--verify` as "internal error ... (a bug: please report it)" after parsing every migration."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from tests.leaks import leaked

import migration_rollback.cli as cli
from migration_rollback.cli import plain_argv
from migration_rollback.errors import ProjectError

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "Zq7x@K9/pw#"


def run(cwd: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "PYTHONPATH": f"{REPO / 'operator'}{os.pathsep}{REPO}", **env}
    return subprocess.run(
        [sys.executable, "-m", "migration_rollback", *args],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("command", ["validate", "generate"])
@pytest.mark.parametrize(
    "url",
    [f"postgresql://u:{PASSWORD}@127.0.0.1:1/db", "postgresql://u:Zq7x K9pw@127.0.0.1:1/db"],
    ids=["at-sign", "space"],
)
def test_a_shadow_url_libpq_cannot_use_is_an_error_before_any_work(
    tmp_path: Path, command: str, url: str
) -> None:
    migrations = tmp_path / "supabase" / "migrations"
    migrations.mkdir(parents=True)
    (migrations / "20250101000001_a.sql").write_text("create table public.a (id int);\n")

    proc = run(tmp_path, command, "--verify", env={"MIGRATION_ROLLBACK_SHADOW_URL": url})

    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "error: the shadow URL (--shadow-url): " in proc.stdout
    assert "internal error" not in proc.stdout + proc.stderr
    assert not leaked(url.split(":")[2].split("@1")[0], proc.stdout + proc.stderr)
    assert not (migrations / "20250101000001_a_rollback.sql").exists()


def crash_with(exc: Exception):  # type: ignore[no-untyped-def]
    def app(**_options: object) -> None:
        raise exc

    return app


@pytest.mark.parametrize("traceback", ["", "1"])
@pytest.mark.parametrize(
    ("argv", "env"),
    [
        (
            ["execute", "x"],
            {"MIGRATION_ROLLBACK_DATABASE_URL": f"postgresql://u:{quote(PASSWORD, safe='')}@h/db"},
        ),
        (["validate", "--shadow-url", f"host=h password='{PASSWORD}'"], {}),
        (["validate", f"--shadow-url=postgresql://u:{PASSWORD}@h/db"], {}),
        (["captures", "list"], {"PGPASSWORD": PASSWORD}),
    ],
    ids=["env-url", "flag-keywords", "flag-equals-unparsable", "pgpassword"],
)
def test_a_bug_message_holds_no_piece_of_a_given_secret(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    env: dict[str, str],
    traceback: str,
) -> None:
    for name in ("MIGRATION_ROLLBACK_DATABASE_URL", "MIGRATION_ROLLBACK_SHADOW_URL", "PGPASSWORD"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {**env, "MIGRATION_ROLLBACK_TRACEBACK": traceback}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "argv", ["migration-rollback", *argv])
    leak = f"driver said: {PASSWORD} / {quote(PASSWORD, safe='')} / {argv[-1]} / {env}"
    monkeypatch.setattr(cli, "app", crash_with(RuntimeError(leak)))
    # The Job's plain `execute` line skips typer (cli/plain_argv.py): it crashes the same way.
    monkeypatch.setattr(plain_argv, "plain_call", lambda *_: crash_with(RuntimeError(leak))())

    with pytest.raises(SystemExit) as ended:
        cli.main()

    printed = capsys.readouterr()
    assert ended.value.code == 1
    assert "RuntimeError" in printed.err
    assert not leaked(PASSWORD, printed.out + printed.err), printed.err


def test_a_domain_error_is_an_error_not_a_bug(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["migration-rollback", "validate"])
    monkeypatch.setattr(cli, "app", crash_with(ProjectError("supabase/migrations: not a folder")))
    with pytest.raises(SystemExit) as ended:
        cli.main()
    assert ended.value.code == 2
    err = capsys.readouterr().err
    assert err == "migration-rollback: error: supabase/migrations: not a folder\n"


@pytest.mark.parametrize(
    "args",
    [
        ["execute", "20250101000001", f"postgresql://app:{quote(PASSWORD, safe='')}@db/shop"],
        ["execute", "20250101000001", f"postgresql://app:{PASSWORD}@db/shop"],
        ["apply", f"host=db user=app password='{PASSWORD}'"],
        ["validate", "--dir", f"postgresql://app:{quote(PASSWORD, safe='')}@db/shop"],
        ["captures", "list", f"--bogus=postgresql://app:{quote(PASSWORD, safe='')}@db/shop"],
    ],
    ids=["extra-argument", "extra-unparsable", "extra-keywords", "as-the-folder", "bad-option"],
)
def test_a_url_pasted_where_another_argument_belongs_is_never_echoed(
    tmp_path: Path, args: list[str]
) -> None:
    # click quoted it back: "Got unexpected extra argument (postgresql://app:<password>@...)".
    proc = run(tmp_path, *args, env={})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert not leaked(PASSWORD, proc.stdout + proc.stderr), proc.stdout + proc.stderr


LONG = "Kj8vQ2mZr7TxWp4LnB9sHc3Y"
POOLER = "aws-0-eu-central-1.pooler.supabase.com:6543/postgres"


@pytest.mark.parametrize(
    "arg",
    [
        # rich wraps the error panel at 80 columns: the password fell across two lines
        f"postgresql://postgres.abcdefghijklmnopqrstuvwxyz0123456789:{LONG}@{POOLER}",
        f" postgresql://app:{LONG}@db/shop",
        f"--database-url postgresql://app:{LONG}@db/shop",
        f"POSTGRESQL://app:{LONG}@db/shop",
        f"Postgres://app:{LONG}@db/shop",
        f"--shadow-url=POSTGRES://app:{LONG}@db/shop",
        f"host=db PASSWORD = {LONG}",
    ],
    ids=["wrapped", "leading-space", "flag-inside", "upper-case", "mixed-case", "eq-upper", "kw"],
)
@pytest.mark.parametrize("command", ["execute 20250101000001", "validate", "no-such-command"])
def test_a_url_anywhere_in_an_argument_is_scrubbed_from_a_usage_error(
    tmp_path: Path, arg: str, command: str
) -> None:
    proc = run(tmp_path, *command.split(), arg, env={"COLUMNS": "80", "TERM": "dumb"})
    shown = proc.stdout + proc.stderr
    assert proc.returncode == 2, shown
    assert "Error" in shown or "error" in shown
    assert not leaked(LONG, "".join(line.strip(" │") for line in shown.splitlines())), shown


def test_a_url_given_as_the_folder_is_scrubbed_from_the_command_error(tmp_path: Path) -> None:
    proc = run(tmp_path, "validate", "--dir", f"postgresql://app:{LONG}@db/shop", env={})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "error:" in proc.stdout + proc.stderr
    assert not leaked(LONG, proc.stdout + proc.stderr), proc.stdout + proc.stderr


@pytest.mark.parametrize("password", ["true", "null", "2024", "valid", "status", "migration"])
def test_pgpassword_never_rewrites_json_output(tmp_path: Path, password: str) -> None:
    # The streams were scrubbed as text: `"ok": ***`, `"migration": "***0101000000_init"`.
    migrations = tmp_path / "supabase" / "migrations"
    migrations.mkdir(parents=True)
    (migrations / "20240101000000_init.sql").write_text("create table public.a (id int);\n")
    (migrations / "20240101000000_init_rollback.sql").write_text("drop table public.a;\n")
    plain = run(tmp_path, "validate", "--format", "json", env={"PGPASSWORD": ""})
    given = run(tmp_path, "validate", "--format", "json", env={"PGPASSWORD": password})
    assert given.stdout == plain.stdout
    json.loads(given.stdout)
