"""A forward that fails on a table no migration creates says `not_created`, one created only by
a later migration says `created_later`, and `validate --verify` counts them in its summary.
Real PostgreSQL, synthetic migrations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner
from verify_support import explain, statuses, write_project

from migration_rollback.cli import app
from migration_rollback.cli.app import made_names
from migration_rollback.project.workspace import load
from migration_rollback.verify import run_verification

pytestmark = pytest.mark.integration

PROJECT: list[tuple[str, str, str | None]] = [
    ("orders", "create table public.orders (id int primary key);\n", "drop table public.orders;\n"),
    # profiles was made in the dashboard: no migration creates it
    ("profile_bio", "alter table public.profiles add column bio text;\n", None),
    # accounts is created by the next migration: out of order
    ("account_index", "create index accounts_owner_idx on public.accounts (owner);\n", None),
    ("accounts", "create table public.accounts (id int primary key, owner int);\n", None),
]


def test_not_created_and_created_later(tmp_path: Path, shadow_url: str) -> None:
    pairs = write_project(tmp_path, PROJECT)
    project = made_names(load(tmp_path / "supabase" / "migrations"))
    results = run_verification(pairs, shadow_url, project=project).results
    assert statuses(results)[1:3] == ["forward_failed", "forward_failed"], explain(results)
    bio, index = results[1].cause, results[2].cause
    assert bio is not None
    assert (bio.kind, bio.subject) == ("not_created", "public.profiles"), explain(results)
    assert index is not None
    assert (index.kind, index.subject) == ("created_later", pairs[3].name), explain(results)
    unplaced = run_verification(pairs, shadow_url).results  # no project: as before
    assert [r.cause.kind for r in unplaced[1:3] if r.cause] == ["migration_error"] * 2


def test_validate_counts_the_causes(
    tmp_path: Path, pg_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_project(tmp_path, PROJECT)
    monkeypatch.chdir(tmp_path)
    verify = ["validate", "--verify", "--shadow-url", pg_server.admin_url]
    out = CliRunner().invoke(app, [*verify, "--format", "json"]).output
    summary = json.loads(out)["verification_summary"]
    assert summary["verdicts"]["forward_failed"] == 2, out
    causes = summary["forward_failed_causes"]
    assert (causes["not_created"], causes["created_later"], causes["migration_error"]) == (1, 1, 0)
    text = " ".join(CliRunner().invoke(app, verify).output.split())
    assert "2 forwards failed: 1 on objects " in text, text
    assert "1 on objects no migration creates" in text, text
    assert "1 on objects only a later migration creates" in text, text


def test_what_a_piece_that_does_not_parse_creates_is_depended_on(
    tmp_path: Path, shadow_url: str
) -> None:
    pairs = write_project(
        tmp_path,
        [
            ("broken", "create table public.queue (id int, payload jsonb,);\n", None),
            ("uses_it", "alter table public.queue add column x int;\n", None),
        ],
    )
    project = made_names(load(tmp_path / "supabase" / "migrations"))
    results = run_verification(pairs, shadow_url, project=project).results
    assert statuses(results) == ["forward_failed", "forward_failed"], explain(results)
    cause = results[1].cause
    assert cause is not None
    assert (cause.kind, cause.subject) == ("depends_on", pairs[0].name), explain(results)
