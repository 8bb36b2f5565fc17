"""The Job's `execute` line read without typer (cli/plain_argv.py) means what typer reads.

A line the plain reader takes must give exactly the values typer's own parse gives; any other
line is left to typer (None), which then parses it and says what is wrong.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import pytest
import typer

from migration_rollback.cli import app
from migration_rollback.cli.execute import URL_ENV, execute
from migration_rollback.cli.plain_argv import plain_call
from migration_rollback.kube.jobs import JobRequest, job_args

DIR_ENV = "MIGRATION_ROLLBACK_DIR"


def typers_reading(argv: Sequence[str]) -> dict[str, Any]:
    command = typer.main.get_command(app).commands["execute"]  # type: ignore[attr-defined]
    with command.make_context("execute", list(argv)) as ctx:
        return dict(ctx.params)


BASE = JobRequest(
    name="r", namespace="n", owner={}, image="i", migration="20251113000001_timeline",
    sql_config_map="c", sha256="ab" * 32, url_secret="s", url_key="url",
    history_table="supabase_migrations.schema_migrations", dry_run=False, backup_mode="pgDump",
    backup_pvc=None, max_age="1h", lock_timeout="5s", statement_timeout="10m",
    allow_data_loss=True, allow_manual=False, purge=False, timeout_seconds=60, actor="a",
)  # fmt: skip


def job_line(**changes: Any) -> list[str]:
    return job_args(dataclasses.replace(BASE, **changes))


PLAIN = {
    "the demo's Job": job_line(),
    "a dry run, no backup": job_line(dry_run=True, backup_mode="none", allow_data_loss=False),
    "require a recent dump": job_line(backup_mode="requireRecent", max_age="30m"),
    "every flag": job_line(allow_manual=True, purge=True),
    "spec.targetVersion": job_line(target_version="20251101000000"),
    "--name=value and a relative path": ["execute", "m1", "--lock-timeout=3s", "--dir", "db/m"],
    "the URL on the line, an enum value": ["execute", "m1", "--database-url", "postgresql://h/d",
                                           "--backup", "require-recent", "--on-conflict", "x"],
    "nothing but the command": ["execute"],
}  # fmt: skip


@pytest.mark.parametrize("argv", PLAIN.values(), ids=PLAIN.keys())
def test_a_plain_line_reads_as_typer_reads_it(
    argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(URL_ENV, "postgresql://u@db/app")
    monkeypatch.delenv(DIR_ENV, raising=False)
    assert argv[0] == "execute"
    plain = plain_call(execute, argv[1:])
    assert plain is not None
    assert plain == typers_reading(argv[1:])


def test_the_environment_fills_what_the_line_does_not(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(URL_ENV, "postgresql://u@db/app")
    monkeypatch.setenv(DIR_ENV, "elsewhere/migrations")
    plain = plain_call(execute, ["m1"])
    assert plain == typers_reading(["m1"])
    assert plain is not None
    assert str(plain["directory"]) == "elsewhere/migrations"


TYPERS = {
    "help": ["--help"],
    "a short option": ["m1", "-d", "x"],
    "an unknown option": ["m1", "--no-such-option", "x"],
    "a repeated option": ["m1", "--lock-timeout", "1s", "--lock-timeout", "2s"],
    "a second argument": ["m1", "m2"],
    "the end of options": ["--", "m1"],
    "a value missing at the end": ["m1", "--lock-timeout"],
    "a value that looks like an option": ["m1", "--lock-timeout", "--dry-run"],
    "a flag given a value": ["m1", "--dry-run=yes"],
    "an enum value typer rejects": ["m1", "--backup", "PG-DUMP"],
}


@pytest.mark.parametrize("argv", TYPERS.values(), ids=TYPERS.keys())
def test_any_other_line_is_left_to_typer(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(URL_ENV, "postgresql://u@db/app")
    assert plain_call(execute, argv) is None


def test_an_empty_environment_variable_is_left_to_typer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(URL_ENV, "")
    assert plain_call(execute, ["m1"]) is None
