"""A migration with inline COPY data (pg_dump's `COPY ... FROM stdin;` rows): `generate`
still writes the rollback of the rest and names each block; `validate` fails with one error
per block at the COPY's file:line; the statements after a block keep their lines. Size
limits: a file past one is refused by name, with the limit and how to raise it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from migration_rollback import input_limits
from migration_rollback.cli import app

SEED = "20250101000001_seed"
PLAIN = "20250101000000_plain"
FORWARD = (
    "create table public.countries (id int, name text);\r\n"  # 1
    "COPY public.countries (id, name) FROM stdin;\r\n"  # 2
    "1\tFrance\r\n"  # 3
    "2\tl'Allemagne; (\r\n"  # 4
    "\\.\r\n"  # 5
    "create table public.cities (id int);\r\n"  # 6
    "\\connect other\r\n"  # 7
    "COPY public.cities FROM STDIN WITH (FORMAT csv);\r\n"  # 8
    '1,"a;b"\r\n'  # 9
)


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    migrations = tmp_path / "supabase" / "migrations"
    migrations.mkdir(parents=True)
    (migrations / f"{PLAIN}.sql").write_text("create table public.p (id int);\n")
    (migrations / f"{SEED}.sql").write_bytes(FORWARD.encode())
    monkeypatch.chdir(tmp_path)
    yield migrations
    input_limits.configure(None)


def test_generate_writes_the_rollback_and_names_each_block(project: Path) -> None:
    code, out = run("generate")
    assert code == 0, out
    assert f"{SEED}.sql:2: inline COPY data (2 rows, lines 3-4)" in out
    assert f"{SEED}.sql:8: inline COPY data (1 row, line 9, no '\\.' line ends it" in out
    assert "INSERT ... VALUES" in out
    assert f"{SEED}.sql:7: psql meta-command '\\connect other'" in out
    rollback = (project / f"{SEED}_rollback.sql").read_text()
    assert "public.cities" in rollback
    assert "public.countries" in rollback
    assert "France" not in rollback
    assert "inline COPY data" in (project / f"{SEED}_rollback.md").read_text()


def test_validate_fails_with_one_error_per_block(project: Path) -> None:
    run("generate")
    code, out = run("validate", "--format", "json")
    assert code != 0, out
    reports = {m["migration"]: m for m in json.loads(out)["migrations"]}
    findings = reports[SEED]["findings"]
    copies = [f for f in findings if f["code"] == "COPY_DATA"]
    assert [(f["line"], f["severity"]) for f in copies] == [(2, "error"), (8, "error")]
    assert "apply cannot send inline COPY data" in copies[0]["message"]
    assert [f["line"] for f in findings if f["code"] == "META_COMMAND"] == [7]
    assert not [f for f in findings if f["code"] == "FORWARD_SYNTAX"]
    assert reports[PLAIN]["status"] == "valid"


def test_a_syntax_error_after_a_block_is_located_in_the_file(project: Path) -> None:
    (project / f"{SEED}.sql").write_text("COPY t FROM stdin;\n1\n\\.\n\nselect from from;\n")
    code, out = run("validate")
    assert code != 0
    assert f"{SEED}.sql:5:" in out
    assert "Traceback" not in out


def test_a_file_past_the_size_limit_is_named_with_size_and_limit(project: Path) -> None:
    (project / f"{SEED}.sql").write_bytes(b"-- " + b"x" * (2 * 1024 * 1024) + b"\n")
    code, out = run("--max-file-mb", "1", "validate")
    assert code != 0
    assert f"{SEED}.sql: 2.0 MB, larger than the limit of 1 MB" in " ".join(out.split())
    assert "--max-file-mb" in out
    code, out = run("validate", env={input_limits.FILE_MB_ENV: "3"})
    assert "TOO_LARGE" not in out


def test_too_deep_and_too_many_are_errors_not_crashes(project: Path) -> None:
    deep = "select " + "+".join(["1"] * 50_000) + ";\n"
    (project / f"{SEED}.sql").write_text("select 1;\n" + deep)
    code, out = run("generate")
    assert code != 0
    flat = " ".join(out.split())
    assert f"{SEED}.sql:2:1: this statement nests about" in flat
    assert "Traceback" not in out
    (project / f"{SEED}.sql").write_text("select 1;\n" * 20)
    code, out = run("validate", env={input_limits.STATEMENTS_ENV: "10"})
    flat = " ".join(out.split())
    assert (
        f"TOO_LARGE: {SEED}.sql:11: the file holds 20 statements, more than the limit of 10" in flat
    )


def test_a_bad_limit_is_refused_by_name(project: Path) -> None:
    code, out = run("--max-nesting", "0", "validate")
    assert code == 2
    assert "--max-nesting" in out
