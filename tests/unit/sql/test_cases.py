"""Data-driven generator tests: each `cases/*.sql` holds a forward migration and its rollback.

Sections: `-- history` (earlier migrations, optional), `-- forward`, `-- manual` (the expected
manual needs, in rollback order, optional) and `-- rollback` (the expected SQL statements, in
order). Statements are compared after whitespace normalisation.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pglast import parse_sql
from pglast.stream import RawStream

from migration_rollback.sql import build_history, generate_rollback, parse_script

CASES = sorted((Path(__file__).parent / "cases").glob("*.sql"))
_SECTION = re.compile(r"^-- (history|forward|manual|rollback)$", re.MULTILINE)


def sections(text: str) -> dict[str, str]:
    parts = _SECTION.split(text)
    return {parts[i]: parts[i + 1].strip() for i in range(1, len(parts), 2)}


def normalize(sql: str) -> str:
    """One spelling per statement: pglast's own rendering of the parse tree."""
    return str(RawStream()(parse_sql(sql)[0].stmt))


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_generated_rollback_matches_case(case: Path) -> None:
    parts = sections(case.read_text())
    history = None
    if "history" in parts:
        history = build_history([parse_script(parts["history"], "earlier.sql")])
    forward = parse_script(parts["forward"], f"{case.stem}.sql")
    plan = generate_rollback(forward, case.stem, history)

    expected = [normalize(s.text) for s in parse_script(parts.get("rollback", "")).statements]
    assert [normalize(s.sql or "") for s in plan.sql_steps] == expected

    # Each step's tree (the safety belt's parse, or one made with its text) is pglast's parse.
    for step in plan.sql_steps:
        assert step.parsed is not None
        assert step.sql is not None
        assert (step.parsed.node,) == tuple(raw.stmt for raw in parse_sql(step.sql)), step.sql

    wanted_manual = parts.get("manual", "").split()
    assert [str(item.need) for _, item in plan.manual_items] == wanted_manual


def test_every_case_has_forward_and_rollback_sections() -> None:
    assert len(CASES) >= 20
    for case in CASES:
        assert {"forward", "rollback"} <= set(sections(case.read_text())), case.name
