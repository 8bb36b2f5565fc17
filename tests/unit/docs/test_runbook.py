"""docs/runbook.md documents every Reason, exit code, phase and step the code has, as the code
has them, and has a section for every alert the Helm chart links to."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from migration_rollback.lifecycle import outcomes
from migration_rollback.lifecycle.phases import Phase, Reason, StepName
from migration_rollback.metrics import REGISTRY
from migration_rollback.runner.exitcodes import ExitCode

REPO = Path(__file__).resolve().parents[3]
RUNBOOK = REPO / "docs" / "runbook.md"
DOCS = sorted((REPO / "docs").glob("*.md"))
PROMETHEUS_RULE = REPO / "helm" / "migration-rollback" / "templates" / "prometheusrule.yaml"
ALERTS = ("MigrationRollbackFailed", "MigrationRollbackStuck", "MigrationRollbackAppHeldDown")


def table(name: str) -> list[list[str]]:
    """The body rows of the table between `<!-- name:begin -->` and `<!-- name:end -->`."""
    text = RUNBOOK.read_text(encoding="utf-8")
    match = re.search(rf"<!-- {name}:begin -->\n(.*?)<!-- {name}:end -->", text, re.S)
    assert match, f"docs/runbook.md has no {name} table between its markers"
    rows = [line for line in match.group(1).splitlines() if line.startswith("|")]
    cells = [[c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]] for row in rows[2:]]
    assert cells, f"the {name} table is empty"
    return cells


def code_span(cell: str) -> str:
    match = re.fullmatch(r"`([^`]+)`", cell)
    assert match, f"expected one `name` in the cell, got {cell!r}"
    return match.group(1)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_every_reason_is_in_the_reasons_table_and_nothing_else() -> None:
    documented = [code_span(row[0]) for row in table("reasons")]
    assert len(documented) == len(set(documented)), "a reason is listed twice"
    missing = sorted({str(r) for r in Reason} - set(documented))
    stale = sorted(set(documented) - {str(r) for r in Reason})
    assert not missing, f"Reasons missing from docs/runbook.md: {missing}"
    assert not stale, f"docs/runbook.md lists reasons the code does not have: {stale}"
    for row in table("reasons"):
        assert all(row[1:]), f"an empty cell in the reasons table: {row}"


def test_every_exit_code_is_in_the_exit_code_table_as_the_code_defines_it() -> None:
    rows = {code_span(row[1]): row for row in table("exit-codes")}
    assert sorted(rows) == sorted(code.name for code in ExitCode)
    for code in ExitCode:
        number, _, retryable, reason, meaning, action = rows[code.name]
        assert int(number) == code.value, code.name
        assert retryable == ("yes" if code.retryable else "no"), code.name
        succeeded = code is ExitCode.OK
        verdict = outcomes.judge(succeeded, {"exit_name": code.name}, "")
        assert code_span(reason) == str(verdict.reason), (
            f"{code.name}: the operator turns it into {verdict.reason}, the runbook says {reason}"
        )
        assert meaning, code.name
        assert action, code.name


def test_every_phase_and_step_is_in_the_phase_table() -> None:
    rows = table("phases")
    phases = {name for row in rows for name in re.findall(r"`(\w+)`", row[0])}
    assert phases == {str(p) for p in Phase}
    steps = {name for row in rows for name in re.findall(r"`(\w+)`", row[3])}
    assert steps == {str(s) for s in StepName}


@pytest.mark.parametrize("alert", ALERTS)
def test_every_alert_has_a_section(alert: str) -> None:
    text = RUNBOOK.read_text(encoding="utf-8")
    assert f"\n### {alert}\n" in text


def test_the_charts_runbook_links_land_on_a_section() -> None:
    if not PROMETHEUS_RULE.exists():
        pytest.skip("the chart has no PrometheusRule template")
    rule = PROMETHEUS_RULE.read_text(encoding="utf-8")
    alerts = re.findall(r"- alert: (\w+)", rule)
    anchors = re.findall(r"runbook_url: .*#([\w-]+)", rule)
    assert set(ALERTS) <= set(alerts)
    headings = {
        slug(line[4:])
        for line in RUNBOOK.read_text(encoding="utf-8").splitlines()
        if line[:4] == "### "
    }
    assert not set(anchors) - headings, f"runbook_url anchors without a heading: {anchors}"


def test_every_metric_the_docs_name_is_exported() -> None:
    exported: set[str] = set()
    for family in REGISTRY.collect():
        exported.add(family.name)
        exported.update(sample.name for sample in family.samples)
    not_metrics = {"migration_rollback_archive"}  # the archive schema
    for doc in DOCS:
        named = set(re.findall(r"\bmigration_rollback_[a-z_]+[a-z]", doc.read_text("utf-8")))
        unknown = sorted(named - exported - not_metrics)
        assert not unknown, f"{doc.name} names metrics the operator does not export: {unknown}"


def test_alert_expressions_in_the_runbook_match_the_chart() -> None:
    if not PROMETHEUS_RULE.exists():
        pytest.skip("the chart has no PrometheusRule template")
    rule = " ".join(PROMETHEUS_RULE.read_text(encoding="utf-8").split())
    text = " ".join(RUNBOOK.read_text(encoding="utf-8").split())
    for expression in (
        'sum(increase(migration_rollback_runs_total{outcome="failed"}[15m])) > 0',
        'max by (phase) (migration_rollback_phase_seconds{phase!="AwaitingApproval"})',
        "max(migration_rollback_app_down_seconds)",
    ):
        assert expression in rule, f"the chart's rule changed: {expression}"
        assert expression in text, f"docs/runbook.md does not show {expression}"
