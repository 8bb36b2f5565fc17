"""`generate`, `validate` and `emergency` on real migration folders (files only, no database)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from migration_rollback.cli import app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "supabase" / "migrations"
SOCIAL = "20251113000001_timeline_social_features"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(EXAMPLES, tmp_path / "supabase" / "migrations")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "supabase" / "migrations"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def validate_json() -> tuple[int, dict[str, dict[str, object]]]:
    code, out = run("validate", "--format", "json")
    doc = json.loads(out)
    return code, {m["migration"]: m for m in doc["migrations"]}


def test_generate_writes_rollback_and_doc_with_header(project: Path) -> None:
    code, out = run("generate")
    assert code == 0, out
    sql = (project / f"{SOCIAL}_rollback.sql").read_text()
    assert sql.startswith(f"-- ROLLBACK: {SOCIAL}\n-- Generated: ")
    assert f"-- Source: {SOCIAL}.sql" in sql
    assert "-- Source-SHA256: " in sql
    assert "DROP TABLE IF EXISTS public.timeline_likes;" in sql
    assert "CASCADE" not in sql
    doc = (project / f"{SOCIAL}_rollback.md").read_text()
    for heading in ("## Automated steps", "## Manual checklist", "## Data loss", "## Emergency"):
        assert heading in doc
    assert "UPDATE changed rows of public.app_settings" in doc


def test_validate_json_reports_status_and_findings(project: Path) -> None:
    run("generate")
    code, reports = validate_json()
    assert code == 0
    assert reports[SOCIAL]["status"] == "manual"
    codes = {f["code"] for f in reports[SOCIAL]["findings"]}  # type: ignore[attr-defined]
    assert {"MANUAL", "DATA_LOSS", "LOCK"} <= codes
    finding = reports[SOCIAL]["findings"][0]  # type: ignore[index]
    assert {"code", "severity", "message", "line"} <= set(finding)
    assert reports["20251105000001_timeline_events"]["status"] == "valid"


def test_hand_edits_are_kept_unless_forced(project: Path) -> None:
    run("generate")
    path = project / f"{SOCIAL}_rollback.sql"
    fix = "UPDATE public.app_settings SET value = 'false' WHERE key = 'timeline_enabled';"
    edited = path.read_text().replace("-- MANUAL: UPDATE", f"{fix}\n-- handled: UPDATE")
    path.write_text(edited)
    code, out = run("generate")
    assert code == 0
    assert "edited by hand" in out
    assert path.read_text() == edited
    run("generate", "--force")
    assert path.read_text() != edited


@pytest.mark.parametrize("where", ["appended", "inside"])
def test_a_hand_edited_doc_is_kept_when_the_forward_changes(project: Path, where: str) -> None:
    """The .md as the .sql: a reviewer's notes (even below the generated mark) are kept."""
    run("generate")
    doc = project / f"{SOCIAL}_rollback.md"
    text = doc.read_text()
    edited = (
        text + "\nREVIEWED BY alice\n"
        if where == "appended"
        else text.replace("## Manual checklist", "## Manual checklist\n\nREVIEWED BY alice")
    )
    doc.write_text(edited)
    forward = project / f"{SOCIAL}.sql"
    forward.write_text(forward.read_text() + "\nCREATE TABLE public.extra (id int);\n")

    code, out = run("generate")

    assert code == 0, out
    assert doc.read_text() == edited
    assert f"{SOCIAL}_rollback.md was edited by hand: kept" in " ".join(out.split())
    run("generate", "--force")
    assert "REVIEWED BY alice" not in doc.read_text()


def test_forcing_over_a_hand_edited_doc_says_it_was_replaced(project: Path) -> None:
    """The .sql current, the .md edited: --force replaces the .md and says so (not unchanged)."""
    run("generate")
    doc = project / f"{SOCIAL}_rollback.md"
    doc.write_text(doc.read_text() + "\nREVIEWED BY alice\n")

    code, out = run("generate", "--force")

    assert code == 0, out
    assert "REVIEWED BY alice" not in doc.read_text()
    assert f"{SOCIAL}_rollback.md was edited by hand: replaced (--force)" in " ".join(out.split())


def test_regenerating_an_unchanged_project_rewrites_nothing(project: Path) -> None:
    run("generate")
    path = project / f"{SOCIAL}_rollback.sql"
    before = path.read_text()
    code, out = run("generate")
    assert code == 0
    assert "unchanged" in out
    assert path.read_text() == before


def test_stale_and_missing_rollbacks_fail_validation(project: Path) -> None:
    run("generate")
    forward = project / f"{SOCIAL}.sql"
    forward.write_text(forward.read_text() + "\ncreate table public.extra (id int);\n")
    (project / "20251101000001_initial_schema_rollback.sql").unlink()
    code, reports = validate_json()
    assert code == 1
    assert reports[SOCIAL]["status"] == "stale"
    assert reports["20251101000001_initial_schema"]["status"] == "missing"


def test_unsafe_rollbacks_are_invalid(project: Path) -> None:
    run("generate")
    path = project / f"{SOCIAL}_rollback.sql"
    text = path.read_text()
    # Drop the parent table before the table whose foreign key needs it, with CASCADE,
    # and forget the comments table entirely.
    text = text.replace("DROP TABLE IF EXISTS public.timeline_comments;\n", "")
    text = text.replace(
        "ALTER PUBLICATION",
        "DROP TABLE IF EXISTS public.timeline_events CASCADE;\nALTER PUBLICATION",
        1,
    )
    path.write_text(text)
    code, reports = validate_json()
    assert code == 1
    assert reports[SOCIAL]["status"] == "invalid"
    findings = reports[SOCIAL]["findings"]
    codes = {f["code"] for f in findings}  # type: ignore[attr-defined]
    assert {"CASCADE", "UNCOVERED"} <= codes
    uncovered = next(f for f in findings if f["code"] == "UNCOVERED")  # type: ignore[attr-defined]
    assert "timeline_comments" in uncovered["message"]


def test_dependency_order_is_checked(project: Path) -> None:
    run("generate")
    path = project / f"{SOCIAL}_rollback.sql"
    text = path.read_text()
    likes = "DROP TABLE IF EXISTS public.timeline_likes;\n"
    fn = "DROP FUNCTION IF EXISTS public.bump_like_count();\n"
    trigger = "DROP TRIGGER IF EXISTS timeline_likes_count ON public.timeline_likes;\n"
    text = text.replace(trigger, "").replace(likes, likes + trigger)
    path.write_text(text)
    code, reports = validate_json()
    order = [f for f in reports[SOCIAL]["findings"] if f["code"] == "ORDER"]  # type: ignore[attr-defined]
    assert code == 1
    assert order
    assert "bump_like_count" in order[0]["message"]
    assert fn in text


def test_unparseable_forward_migration_is_located_and_others_still_processed(project: Path) -> None:
    (project / "20251201000001_broken.sql").write_text(
        "create table ok (id int);\n\nalter tabel x;\n"
    )
    code, out = run("generate")
    assert code == 1
    assert "20251201000001_broken.sql:3:7" in out
    assert (project / f"{SOCIAL}_rollback.sql").exists()
    code, reports = validate_json()
    assert reports["20251201000001_broken"]["status"] == "invalid"


def test_odd_encodings_and_meta_commands_do_not_crash(project: Path) -> None:
    (project / "20251202000001_latin1.sql").write_bytes(
        "\\set ON_ERROR_STOP on\ncomment on table public.profiles is 'caf\xe9';\n".encode("latin-1")
    )
    code, out = run("generate")
    assert code == 0, out
    code, reports = validate_json()
    assert reports["20251202000001_latin1"]["status"] in ("valid", "manual")


def test_emergency_plan_has_commands_and_manifests(project: Path) -> None:
    run("generate")
    code, out = run("emergency", "--latest", "3")
    assert code == 0, out
    plan = (project.parent.parent / "scripts" / "EMERGENCY_ROLLBACK_PLAN.md").read_text()
    assert "## Response phases" in plan
    assert f"migration-rollback execute {SOCIAL} --dry-run" in plan
    manifests = [yaml.safe_load(block.split("```")[0]) for block in plan.split("```yaml\n")[1:]]
    assert len(manifests) == 3
    social = next(m for m in manifests if m["spec"]["migration"] == SOCIAL)
    assert social["kind"] == "MigrationRollback"
    assert social["spec"]["allowDataLoss"] is True
    assert len(social["spec"]["rollback"]["sha256"]) == 64


def test_missing_directory_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out = run("validate")
    assert code == 2
    assert "migrations directory not found" in out
