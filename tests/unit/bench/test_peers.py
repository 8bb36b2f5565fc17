"""The peer comparison's aggregation (bench/corpus/peers.py): the 2x2 table, Atlas's error
classes and the list of what Atlas restores and ours does not, over hand-made checks."""

from __future__ import annotations

from types import ModuleType

import pytest
from bench_support import CORPUS, load_script

PEERS = CORPUS / "peers.py"


@pytest.fixture(scope="module")
def peers() -> ModuleType:
    return load_script(PEERS, "corpus_peers")


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
        "ours_y_atlas_y": 1,
        "ours_y_atlas_n": 2,
        "ours_n_atlas_y": 1,
        "ours_n_atlas_n": 1,
    }
    assert [c.migration for c in peers.atlas_only(checks)] == ["c"]


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
    peers: ModuleType,
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
    assert peers.replayed(doc) == {"o__p": [("2_b", "verified"), ("3_c", "forward_failed")]}
