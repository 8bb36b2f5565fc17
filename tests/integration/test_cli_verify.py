"""`validate --verify` and `generate --verify` on the example project, on a real PostgreSQL."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from migration_rollback.cli import app

pytestmark = pytest.mark.integration
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "supabase" / "migrations"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(EXAMPLES, tmp_path / "supabase" / "migrations")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "supabase" / "migrations"


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_generated_rollbacks_are_verified(project: Path, pg_server: Any) -> None:
    shadow = pg_server.admin_url
    code, out = invoke("generate", "--verify", "--shadow-url", shadow)
    assert code == 0, out
    code, out = invoke("validate", "--verify", "--shadow-url", shadow, "--format", "json")
    assert code == 0, out
    doc = json.loads(out)
    verdicts = {m["migration"]: m["verification"]["status"] for m in doc["migrations"]}
    assert verdicts == {
        "20251101000001_initial_schema": "verified",
        "20251105000001_timeline_events": "verified",
        # the UPDATE's data: restored from apply's captures (the file keeps its MANUAL marker)
        "20251113000001_timeline_social_features": "verified",
        "20251120000001_profile_tweaks": "verified",  # the enum value, filled from the shadow
    }
    social = next(m for m in doc["migrations"] if m["migration"].startswith("20251113000001"))
    assert social["status"] == "manual"  # the static check: the file's MANUAL marker
    assert [i.split(": ", 1)[1][:6] for i in social["verification"]["restored_from_captures"]] == [
        "UPDATE"
    ]
    tweaks = (project / "20251120000001_profile_tweaks_rollback.sql").read_text()
    assert "-- MANUAL:" not in tweaks
    assert "account_role" in tweaks


def test_a_wrong_rollback_is_a_mismatch_with_the_difference(project: Path, pg_server: Any) -> None:
    shadow = pg_server.admin_url
    invoke("generate")
    path = project / "20251120000001_profile_tweaks_rollback.sql"
    # Forget to drop the new default: the column keeps it after the round trip.
    text = path.read_text()
    assert "ALTER TABLE public.profiles ALTER COLUMN bio DROP DEFAULT;" in text
    path.write_text(text.replace("ALTER TABLE public.profiles ALTER COLUMN bio DROP DEFAULT;", ""))
    code, out = invoke("validate", "--verify", "--shadow-url", shadow, "--format", "json")
    assert code == 1
    doc = json.loads(out)
    proof = next(m for m in doc["migrations"] if m["migration"] == "20251120000001_profile_tweaks")
    assert proof["verification"]["status"] == "mismatch"
    differences = proof["verification"]["differences"]
    # (The static rollback also leaves the added enum value: a second, expected difference.)
    assert {d["object"] for d in differences} == {
        "column public.profiles.bio",
        "type public.account_role",
    }
    assert [d for d in differences if d["kind"] == "column"] == [
        {
            "object": "column public.profiles.bio",
            "kind": "column",
            "name": "public.profiles.bio",
            "attribute": "default",
            "before": None,
            "after": "''::text",
            "parent": "table public.profiles",
        }
    ]


def test_files_sharing_a_version_each_get_a_verdict_in_name_order(
    project: Path, pg_server: Any
) -> None:
    # dup_b uses dup_a's table: replayed in name order, both forward scripts succeed.
    (project / "20251121000001_dup_a.sql").write_text("CREATE TABLE public.dup_a (id int);\n")
    (project / "20251121000001_dup_b.sql").write_text(
        "ALTER TABLE public.dup_a ADD COLUMN note text;\n"
    )
    shadow = pg_server.admin_url
    invoke("generate", "--verify", "--shadow-url", shadow)
    code, out = invoke("validate", "--verify", "--shadow-url", shadow, "--format", "json")
    reports = {m["migration"]: m for m in json.loads(out)["migrations"]}
    for name in ("20251121000001_dup_a", "20251121000001_dup_b"):
        assert reports[name]["verification"]["status"] == "verified", out
        codes = [f["code"] for f in reports[name]["findings"]]
        assert "DUPLICATE_VERSION" in codes
    assert code == 0, out  # a warning does not fail validate


def test_jobs_split_the_replay_and_change_no_verdict(project: Path, pg_server: Any) -> None:
    shadow = pg_server.admin_url
    code, out = invoke("generate", "--verify", "--shadow-url", shadow, "--jobs", "2")
    assert code == 0, out
    bodies = {p.name: p.read_text() for p in sorted(project.glob("*_rollback.sql"))}
    invoke("generate", "--verify", "--shadow-url", shadow, "--jobs", "1", "--force")
    assert {p.name: p.read_text() for p in sorted(project.glob("*_rollback.sql"))} == bodies
    docs = []
    for jobs in ("1", "3"):
        code, out = invoke(
            "validate", "--verify", "--shadow-url", shadow, "--format", "json", "--jobs", jobs
        )
        assert code == 0, out
        docs.append([_verdict(m) for m in json.loads(out)["migrations"]])
    assert docs[0] == docs[1]
    code, out = invoke("validate", "--verify", "--shadow-url", shadow, "--jobs", "0")
    assert code == 2
    assert "--jobs" in out


def _verdict(migration: dict[str, Any]) -> Any:
    """The verdict without its times (elapsed, archive tables' time stamps)."""
    proof = dict(migration["verification"])
    proof.pop("elapsed_ms", None)
    text = json.dumps({"migration": migration["migration"], **proof})
    return json.loads(re.sub(r"__\d{8}t\d{6}z", "__<time>", text))
