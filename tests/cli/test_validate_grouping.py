"""`validate` prints a repeated finding once per object and file, listing its lines."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from migration_rollback.cli import app
from migration_rollback.project.validation import group_findings
from migration_rollback.sql.checks import Finding, Severity

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "supabase" / "migrations"
INITIAL = "20251101000001_initial_schema"
SOCIAL_FILE = "20251113000001_timeline_social_features.sql"
TWEAKS = "20251120000001_profile_tweaks"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(EXAMPLES, tmp_path / "supabase" / "migrations")
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(app, ["generate"]).exit_code == 0
    return tmp_path


def later_dependent_lines(text: str, name: str) -> list[str]:
    return [line for line in text.splitlines() if "LATER_DEPENDENT" in line and f"{name}," in line]


def test_text_output_has_one_line_per_object_and_later_migration(project: Path) -> None:
    out = CliRunner().invoke(app, ["validate"]).output
    initial = out.partition(INITIAL)[2].split("\nvalid    20251105")[0]
    profiles = later_dependent_lines(initial, "uses profiles")
    # One per later migration that uses profiles, not one per statement (5 before).
    assert len(profiles) == 3
    social = next(line for line in profiles if SOCIAL_FILE in line)
    assert f"{SOCIAL_FILE}: lines 2, 9: a later migration uses profiles" in social
    tweaks = out.partition(f" {TWEAKS}\n")[2]
    (lock,) = [line for line in tweaks.splitlines() if "LOCK:" in line]
    assert "_rollback.sql: lines 20, 25: takes ACCESS EXCLUSIVE on public.profiles" in lock


def test_json_keeps_every_location_of_a_group(project: Path) -> None:
    result = CliRunner().invoke(app, ["validate", "--format", "json"])
    reports = {m["migration"]: m for m in json.loads(result.output)["migrations"]}
    groups = [
        f
        for f in reports[INITIAL]["findings"]
        if f["code"] == "LATER_DEPENDENT"
        and f["file"] == SOCIAL_FILE
        and "profiles" in f["message"]
    ]
    assert len(groups) == 1
    (group,) = groups
    assert group["count"] == 2
    assert group["line"] == 2
    assert group["lines"] == [2, 9]
    assert group["locations"] == [
        {"file": SOCIAL_FILE, "line": 2},
        {"file": SOCIAL_FILE, "line": 9},
    ]


def test_grouping_is_by_code_severity_file_and_message() -> None:
    same = "takes ACCESS EXCLUSIVE on public.t"
    findings = [
        Finding("LOCK", Severity.WARNING, same, 30, "r.sql"),
        Finding("DATA_LOSS", Severity.WARNING, "destroys data: table public.t", 12, "r.sql"),
        Finding("LOCK", Severity.WARNING, same, 12, "r.sql"),
        Finding("LOCK", Severity.WARNING, same, 41, "r.sql"),
        Finding("LOCK", Severity.WARNING, same, 5, "other.sql"),
        Finding("LOCK", Severity.WARNING, "takes ACCESS EXCLUSIVE on public.u", 7, "r.sql"),
    ]
    groups = group_findings(findings)
    assert [(g.code, g.file, g.lines) for g in groups] == [
        ("LOCK", "r.sql", (12, 30, 41)),
        ("DATA_LOSS", "r.sql", (12,)),
        ("LOCK", "other.sql", (5,)),
        ("LOCK", "r.sql", (7,)),
    ]
    assert groups[0].where == "r.sql: lines 12, 30, 41: "
    assert groups[1].where == "r.sql:12: "
    assert groups[0].count == 3
