"""`CoverageIndex`: an inverse is covered by its own tree, or by a statement of the same kind
naming everything it names; the names are gathered only when a tree is not found as is."""

from __future__ import annotations

from migration_rollback.sql import parse_script
from migration_rollback.sql.checks import coverage_findings
from migration_rollback.sql.generator import generate_rollback
from migration_rollback.sql.touched import CoverageIndex

FORWARD = "create table public.a (id int);\ncreate index a_id on public.a (id);\n"


def test_an_inverse_whose_tree_is_in_the_rollback_is_covered_without_names() -> None:
    rollback = parse_script("drop index public.a_id;\ndrop table public.a;\n")
    index = CoverageIndex(rollback.statements)
    assert all(index.covers(st) for st in rollback.statements)
    assert index._by_name is None  # no statement's names were asked


def test_another_tree_is_judged_by_kind_and_names() -> None:
    index = CoverageIndex(parse_script("drop table if exists public.a;\n").statements)
    (same,) = parse_script("drop table public.a;\n").statements
    (other,) = parse_script("drop table public.b;\n").statements
    (other_kind,) = parse_script("truncate public.a;\n").statements
    assert index.covers(same)
    assert not index.covers(other)
    assert not index.covers(other_kind)


def test_a_generated_rollback_read_back_with_its_trees_is_complete_and_one_dropped_is_not() -> None:
    plan = generate_rollback(parse_script(FORWARD, "f.sql"), "f")
    known = {s.parsed.text: s.parsed.node for s in plan.steps if s.parsed is not None}
    text = plan.render_body()
    assert coverage_findings(plan, parse_script(text, "r.sql", known=known), "r.sql") == []
    without_index = "\n".join(line for line in text.splitlines() if "DROP INDEX" not in line)
    found = coverage_findings(plan, parse_script(without_index, "r.sql", known=known), "r.sql")
    assert [f.code for f in found] == ["UNCOVERED"]
    assert "f.sql:2" in found[0].message
