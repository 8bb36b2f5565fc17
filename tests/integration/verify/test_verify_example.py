"""The example Supabase project (examples/supabase/migrations) through both entry points."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from verify_support import explain, statuses

from migration_rollback.sql import generate_rollback, parse_script
from migration_rollback.verify import MigrationPair, generate_verified, verify_project

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "supabase" / "migrations"


def example_pairs(directory: Path) -> list[MigrationPair]:
    out = []
    for path in sorted(directory.glob("*.sql")):
        if path.stem.endswith("_rollback"):
            continue
        rollback = path.with_name(f"{path.stem}_rollback.sql")
        out.append(MigrationPair(path.stem, path, rollback if rollback.exists() else None))
    return out


@pytest.fixture
def project(tmp_path: Path) -> Path:
    if not EXAMPLE.is_dir():
        pytest.skip("examples/supabase/migrations is not there")
    target = tmp_path / "migrations"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("*_rollback.*"))
    return target


def test_generate_verify_then_validate_verify(project: Path, shadow_url: str) -> None:
    pairs = example_pairs(project)
    assert pairs, "the example project has migrations"
    generated = generate_verified(pairs, shadow_url)
    assert all(g.result.status in ("verified", "manual") for g in generated), explain(
        [g.result for g in generated]
    )
    # A manual verdict here only means data changes a human must review: the schema matched.
    assert all(g.result.differences == [] for g in generated)
    for g in generated:
        assert g.sql_body is not None
        parse_script(g.sql_body)  # what generate --verify writes parses
        (project / f"{g.migration}_rollback.sql").write_text(g.sql_body, encoding="utf-8")
    checked = verify_project(example_pairs(project), shadow_url)
    assert statuses(checked) == [g.result.status for g in generated], explain(checked)


def test_the_static_rollbacks_are_checked_too(project: Path, shadow_url: str) -> None:
    """The plain generator's output, written as files, judged by validate --verify."""
    pairs = example_pairs(project)
    for pair in pairs:
        script = parse_script(pair.forward_path.read_text(), str(pair.forward_path))
        body = generate_rollback(script, pair.name).render_body()
        pair.forward_path.with_name(f"{pair.name}_rollback.sql").write_text(body)
    results = verify_project(example_pairs(project), shadow_url)
    assert len(results) == len(pairs)
    # Every verdict is a real one: none of the forwards fails on the Supabase baseline.
    assert "forward_failed" not in statuses(results), explain(results)
    assert "skipped" not in statuses(results)
