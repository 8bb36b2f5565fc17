"""`load` hands one History to the generator for every migration, without copying it.

Copying it per migration made loading a long project quadratic; this holds only while the
generator reads the history and never changes it, which these tests pin on every generator case.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from migration_rollback.project.workspace import load
from migration_rollback.sql import History, build_history, generate_rollback, parse_script

CASES = sorted((Path(__file__).parents[1] / "sql" / "cases").glob("*.sql"))


def state(history: History) -> tuple[object, ...]:
    copy = history.copy()
    return (
        copy.definitions,
        copy.columns,
        copy.rls_enabled,
        copy.rls_forced,
        copy.comments,
        copy.primary_keys,
        history.default_schema,
    )


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_generating_a_rollback_leaves_the_history_unchanged(case: Path) -> None:
    text = case.read_text()
    history_sql = text.split("-- forward", 1)[0].removeprefix("-- history").strip()
    forward_sql = text.split("-- forward", 1)[1].split("\n-- manual", 1)[0]
    forward_sql = forward_sql.split("\n-- rollback", 1)[0]
    history = build_history([parse_script(history_sql or "select 1", "earlier.sql")])
    before = state(history)
    generate_rollback(parse_script(forward_sql, f"{case.stem}.sql"), case.stem, history)
    assert state(history) == before


def test_load_plans_as_with_a_copy_per_migration(tmp_path: Path) -> None:
    folder = tmp_path / "supabase" / "migrations"
    folder.mkdir(parents=True)
    for i, case in enumerate(CASES):
        forward = case.read_text().split("-- forward", 1)[1].split("\n-- manual", 1)[0]
        (folder / f"2025{i:010d}_{case.stem}.sql").write_text(forward.split("\n-- rollback")[0])
    loaded = load(folder)
    history = History()
    for item in loaded:
        assert item.script is not None
        assert item.plan is not None
        expected = generate_rollback(item.script, item.migration.name, history.copy())
        assert item.plan.render_body() == expected.render_body()
        history.begin_file()
        for statement in item.script.statements:
            history.observe(statement)
