"""The peer comparison's aggregation (bench/corpus/peers.py): the 2x2 table, the peers' error
classes and the list of what a peer restores and ours does not, over hand-made checks; and
reading back outputs saved before pg-schema-diff joined."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from types import ModuleType

import pytest
from bench_support import CORPUS, load_script


@pytest.fixture(scope="module")
def peers() -> ModuleType:
    """The pure comparison (peer_figures.py); `replayed` is read from peers.py itself."""
    return load_script(CORPUS / "peer_figures.py", "corpus_peer_figures")


@pytest.fixture(scope="module")
def runner() -> ModuleType:
    return load_script(CORPUS / "peers.py", "corpus_peers")


def test_two_by_two_counts_compared_migrations_only(peers: ModuleType) -> None:
    check = peers.PeerCheck
    checks = [
        check("a", "verified", "same"),
        check("b", "verified", "different", ["- CREATE VIEW public.v AS SELECT 1;"]),
        check("c", "manual", "column_order_only"),  # counted as restored, as run.py does ours
        check("d", "rollback_failed", "rollback_error", ["psql:x:1: ERROR: boom"]),
        check("e", "verified", "atlas_error", ["atlas-rollback: inspect: current: bad"]),
        check("f", "verified", "forward_error", ["ERROR: relation does not exist"]),
    ]
    assert peers.two_by_two(checks) == {
        "ours_y_peer_y": 1,
        "ours_y_peer_n": 2,
        "ours_n_peer_y": 1,
        "ours_n_peer_n": 1,
    }
    assert [c.migration for c in peers.peer_only(checks)] == ["c"]


def test_error_classes_group_by_stage_error_and_object_kind(peers: ModuleType) -> None:
    check = peers.PeerCheck
    checks = [
        check("a", "verified", "atlas_error", ['atlas-rollback: diff: column "x" of 12 types']),
        check("b", "verified", "atlas_error", ['atlas-rollback: diff: column "y" of 3 types']),
        check(
            "c",
            "manual",
            "rollback_error",
            ['psql:/tmp/a.sql:4: ERROR:  cannot drop table "t" because others depend on it'],
        ),
        check(
            "d",
            "verified",
            "different",
            ["+ CREATE POLICY p ON public.t USING (true);", "- CREATE OR REPLACE FUNCTION f()"],
        ),
        check("e", "verified", "same"),
        check("f", "verified", "forward_error", ["ERROR: nope"]),
    ]
    assert peers.error_classes(checks) == {
        'atlas diff: column "…" of N types': 2,
        'plan fails: cannot drop table "…" because others depend on it': 1,
        "schema differs": 1,
    }


def test_unquoted_names_in_errors_are_grouped(peers: ModuleType) -> None:
    check = peers.PeerCheck
    checks = [
        check(
            name,
            "verified",
            "rollback_error",
            [f"psql:/tmp/a.sql:2: ERROR:  cannot drop column {col} of table {tab} because x"],
        )
        for name, col, tab in (("a", "deal_id", "docs"), ("b", "user_id", "public.items"))
    ]
    assert peers.error_classes(checks) == {
        "plan fails: cannot drop column … of table … because x": 2
    }


def test_differing_kinds_count_each_migration_once_per_kind(peers: ModuleType) -> None:
    check = peers.PeerCheck
    checks = [
        check(
            "a",
            "verified",
            "different",
            ["+ CREATE FUNCTION public.f()", "+ CREATE FUNCTION public.g()", "- GRANT ALL ON x"],
        ),
        check("b", "verified", "different", ["+ CREATE FUNCTION public.h()", "+ IF x THEN"]),
        check("c", "manual", "different", ["+ RETURN NEW; END; $$;"]),
        check("d", "manual", "rollback_error", ["+ CREATE POLICY p"]),
    ]
    assert peers.differing_kinds(checks) == {"CREATE FUNCTION": 2, "GRANT": 1, "other": 1}


def test_replayed_keeps_the_tools_order_and_leaves_out_what_it_did_not_replay(
    runner: ModuleType,
) -> None:
    doc = {
        "projects": [
            {
                "project": "o__p",
                "per_migration": [
                    {"migration": "2_b", "status": "verified"},
                    {"migration": "1_a", "status": "none"},
                    {"migration": "3_c", "status": "forward_failed"},
                    {"migration": "4_d", "status": "skipped"},
                ],
            }
        ]
    }
    assert runner.replayed(doc) == {"o__p": [("2_b", "verified"), ("3_c", "forward_failed")]}


def test_plan_errors_are_grouped_under_the_peer_that_failed(peers: ModuleType) -> None:
    check = peers.PeerCheck
    checks = [
        check("a", "verified", "plan_error", ["psd-rollback: plan: unsupported type 12"]),
        check("b", "verified", "plan_error", ["atlas-rollback: inspect: current: bad"]),
        check("c", "verified", "plan_error", ["signal: killed"]),
    ]
    assert peers.error_classes(checks) == {
        "pg-schema-diff plan: unsupported type …": 1,
        "atlas inspect: current: bad": 1,
        "peer failed: signal: killed": 1,
    }


def test_figures_keep_each_peers_checks_apart(peers: ModuleType) -> None:
    check = peers.PeerCheck
    project = peers.ProjectPeers(
        "o__p",
        {
            "atlas": [check("1_a", "manual", "different", ["+ CREATE VIEW v"])],
            "pg-schema-diff": [check("1_a", "manual", "same", [], 2)],
        },
    )
    atlas, psd = (peers.figures(name, [project]) for name in ("atlas", "pg-schema-diff"))
    assert (atlas["peer_restores"], psd["peer_restores"]) == (0, 1)
    assert atlas["peer_only"] == []
    assert [(c["project"], c["migration"], c["statements"]) for c in psd["peer_only"]] == [
        ("o__p", "1_a", 2)
    ]
    assert psd["peer_only_shapes"] == {"ours manual, non-empty plan": 1}


def test_an_output_saved_before_the_second_peer_reads_as_atlas(
    peers: ModuleType, tmp_path: Path
) -> None:
    old = {
        "projects": [
            {
                "project": "o__p",
                "checks": [
                    {"migration": "1_a", "ours": "verified", "atlas": "atlas_error",
                     "detail": ["atlas-rollback: diff: x"], "statements": 0},
                ],
                "seconds": 3.0,
            }
        ]
    }  # fmt: skip
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old), encoding="utf-8")
    (project,) = peers.saved(path)
    assert list(project.checks) == ["atlas"]
    assert project.checks["atlas"][0].verdict == "plan_error"
    assert peers.error_classes(project.checks["atlas"]) == {"atlas diff: x": 1}


def test_a_new_output_reads_back_the_same(peers: ModuleType, tmp_path: Path) -> None:
    check = peers.PeerCheck
    checks = {"pg-schema-diff": [check("1_a", "verified", "rollback_error", ["ERROR: x"], 3)]}
    project = peers.ProjectPeers("o__p", checks, ["1_a: ERROR: y"], None, 4.5)
    path = tmp_path / "new.json"
    path.write_text(json.dumps({"projects": [asdict(project)]}), encoding="utf-8")
    assert peers.saved(path) == [project]


def test_a_newer_result_is_crossed_in_and_the_schema_measure_counts_manual_data(
    peers: ModuleType,
) -> None:
    """Saved peer checks take the newer statuses; a MANUAL data rollback whose schema came
    back counts on the peers' schema-only measure, one whose schema did not does not."""
    check = peers.PeerCheck
    project = peers.ProjectPeers(
        "p",
        {
            "atlas": [
                check("a", "manual", "same"),  # data migration: ours manual, schema back
                check("b", "manual", "same"),  # ours: no rollback at all
                check("c", "verified", "different"),
                check("d", "mismatch", "same"),  # not in the newer result: left as it was
            ]
        },
    )
    newer = {
        "projects": [
            {
                "project": "p",
                "per_migration": [
                    {"migration": "a", "status": "manual", "schema": True},
                    {"migration": "b", "status": "manual", "schema": False},
                    {"migration": "c", "status": "verified"},
                ],
            }
        ]
    }
    peers.crossed([project], newer)
    a, b, c, d = project.checks["atlas"]
    assert (a.ours, a.ours_schema, b.ours_schema, c.ours_schema) == ("manual", True, False, True)
    assert (d.ours, d.ours_schema) == ("mismatch", None)
    assert peers.two_by_two([a, b, c], schema=True) == {
        "ours_y_peer_y": 1,
        "ours_y_peer_n": 1,
        "ours_n_peer_y": 1,
        "ours_n_peer_n": 0,
    }
    only = peers.figures("atlas", [project])["peer_only_schema"]
    assert [row["migration"] for row in only] == ["b"]
