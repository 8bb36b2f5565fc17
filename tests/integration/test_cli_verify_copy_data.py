"""`validate --verify` on a migration holding inline COPY data (`COPY ... FROM stdin;` and its
rows), on a real PostgreSQL: the COPY is left out of the shadow's replay (its rows are data;
the catalogs compared are the same without them) and a note says so, instead of the shadow's
pipeline waiting for rows and the verdict blaming the verifier. The migrations after it are
verified as usual."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from migration_rollback.cli import app

pytestmark = pytest.mark.integration

SEED = "20250101000000_seed"
LATER = "20250101000001_later"


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    migrations = tmp_path / "supabase" / "migrations"
    migrations.mkdir(parents=True)
    (migrations / f"{SEED}.sql").write_text(
        "create table public.c (id int, name text);\n"
        "COPY public.c (id, name) FROM stdin;\n"
        "1\tFrance\n"
        "2\tl'Allemagne; (\n"
        "\\.\n"
        "create table public.d (id int);\n"
    )
    (migrations / f"{LATER}.sql").write_text("alter table public.c add column x int;\n")
    monkeypatch.chdir(tmp_path)
    return migrations


def test_the_copy_is_left_out_of_the_shadow_with_a_note(project: Path, pg_server: Any) -> None:
    code, out = invoke("generate")
    assert code == 0, out
    code, out = invoke(
        "validate", "--verify", "--shadow-url", pg_server.admin_url, "--format", "json"
    )
    reports = {m["migration"]: m for m in json.loads(out)["migrations"]}
    seed = reports[SEED]["verification"]
    assert seed["status"] != "forward_failed", seed
    assert any("not loaded on the shadow" in note for note in seed["notes"]), seed
    assert reports[LATER]["verification"]["status"] == "verified", reports[LATER]
    # The static check still fails the file: apply cannot send the rows.
    assert [f["line"] for f in reports[SEED]["findings"] if f["code"] == "COPY_DATA"] == [2]
    assert code != 0
