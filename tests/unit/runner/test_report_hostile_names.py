"""A name holding a line break, a control or a pipe forges nothing in the report or summary.

Every name a report shows may come from a database or a file: "a\\nb" ended a table row (or was
shown "a b", another name), and in a list item or the stdout summary it began a line of its own.
Each field is filled with such names, and the output is checked line by line.
"""

from __future__ import annotations

import pytest
from tests.unit.runner.test_runner_report import START

from migration_rollback.runner.exitcodes import ExitCode
from migration_rollback.runner.report import render_report, render_summary
from migration_rollback.runner.result import (
    ArchivedObject,
    ErrorInfo,
    ImpactEntry,
    Outcome,
    RunResult,
    StatementOutcome,
)

FORGED = "FORGED"
NAMES = [f"a\n{FORGED}", f"b\r{FORGED}", f"c\x1b[31m{FORGED}", f"d\u2028{FORGED}", f"e|{FORGED}"]


def hostile(outcome: Outcome, name: str) -> RunResult:
    r = RunResult("0.1.0", f"2025_{name}", False, "postgresql://u:***@h/db", START)
    r.outcome, r.exit_code = (
        outcome,
        ExitCode.OK if outcome is Outcome.SUCCEEDED else ExitCode.SQL_ERROR,
    )
    r.finished_at = START
    r.migrations = ["20251113000001"]
    r.impact = [ImpactEntry(f"public.{name}", "table", 1, "archive", "ACCESS EXCLUSIVE", True)]
    r.statements = [
        StatementOutcome(1, "20251113000001", f"r.sql:1:1 {name}", "DropStmt", "archive",
                         f'DROP TABLE "{name}" `x`', "ACCESS EXCLUSIVE", status="failed")
    ]  # fmt: skip
    r.archived = [ArchivedObject("table", f"public.{name}", f"arch.{name}", 1, 5)]
    r.dependents = [f"view {name} depends on it"]
    r.data_loss = [f"column {name}"]
    r.unchecked_sources = [f"supabase/{name}.sql"]  # a note names it
    r.warnings = [f"warning on {name}"]
    if outcome is not Outcome.SUCCEEDED:
        r.error = ErrorInfo("RollbackSqlError", f"relation {name}\n```\nnot a fence", "42P01", 1,
                            f"r.sql:1:1 {name}")  # fmt: skip
    return r


def _lines_without_forgery(text: str) -> None:
    """Outside the error's fenced block (a driver's message keeps its own lines there, inert)."""
    fence = None
    for line in text.splitlines():
        if fence is None and line.startswith("```"):
            fence = line
            continue
        if fence is not None:
            fence = None if line == fence else fence
            continue
        assert not line.lstrip("- |`").startswith(FORGED), line  # a line of its own
        for control in ("\x1b", "\r", "\u2028"):
            assert control not in line, line


@pytest.mark.parametrize("name", NAMES, ids=repr)
@pytest.mark.parametrize("outcome", [Outcome.SUCCEEDED, Outcome.FAILED])
def test_no_name_starts_a_line_or_breaks_a_table(outcome: Outcome, name: str) -> None:
    result = hostile(outcome, name)
    report, summary = render_report(result), render_summary(result)
    _lines_without_forgery(report)
    _lines_without_forgery(summary.replace("\n    ", "\n    >"))  # continued: indented deeper
    rows = [line for line in report.splitlines() if line.startswith("|")]
    assert all(line.endswith("|") and not line.endswith("\\|") for line in rows), rows
    # Every row has its table's number of cells (an unescaped pipe would add one).
    for line in rows:
        cells = line.replace("\\|", "").count("|")
        assert cells in (3, 5, 6, 7, 9), line


def test_an_error_message_cannot_close_its_fence() -> None:
    report = render_report(hostile(Outcome.FAILED, "plain"))
    body = report.split("## Error", 1)[1].split("## Steps", 1)[0]
    assert [line for line in body.splitlines() if line.startswith("````")] == ["````"] * 2, body
    assert "\n```\n" in body  # the message's own line, inside
