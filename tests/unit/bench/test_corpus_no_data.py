"""The corpus run's "verified wherever no data is involved" share (bench/corpus/run.py): which
migrations involve data, and the share over hand-made rows."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest
from bench_support import CORPUS, load_script

RUN = CORPUS / "run.py"


@pytest.fixture(scope="module")
def run() -> ModuleType:
    return load_script(RUN, "corpus_run")


@pytest.mark.parametrize(
    ("sql", "data"),
    [
        ("create table t (id int);\ncomment on table t is 'x';\n", False),
        ("alter table t add column n int;\nnotify pgrst;\n", False),
        ("insert into t values (1);\n", True),
        ("update t set id = 2;\n", True),
        ("alter table t drop column n;\n", True),
        ("drop table t;\n", True),
        ("do $$ begin delete from t; end $$;\n", True),
        ("do $$ begin execute 'alter table t owner to x'; end $$;\n", False),
        ("create tabel t (;\n", True),  # does not parse: not counted as clean
    ],
)
def test_what_involves_data(run: ModuleType, tmp_path: Path, sql: str, data: bool) -> None:
    path = tmp_path / "20250101000001_m.sql"
    path.write_text(sql, encoding="utf-8")
    assert run.data_involved(path, None) is data


def test_a_data_manual_item_involves_data_a_dropped_new_table_does_not(
    run: ModuleType, tmp_path: Path
) -> None:
    path = tmp_path / "20250101000001_m.sql"
    path.write_text("create table t (id int);\n", encoding="utf-8")
    assert not run.data_involved(path, {"data_loss": ["public.t: rows"], "manual": []})
    item = "m.sql:3: DATA_CHANGE: UPDATE changed rows of public.t: restore them"
    assert run.data_involved(path, {"data_loss": [], "manual": [item]})
    assert not run.data_involved(path, {"data_loss": [], "manual": ["m.sql:1: DYNAMIC: x"]})


def test_the_share_counts_round_tripped_migrations_without_data(run: ModuleType) -> None:
    result = run.ProjectResult("p", "o/p", "c")
    result.per_migration = [
        {"migration": "a", "status": "verified", "data": False},
        {"migration": "b", "status": "verified", "data": False},
        {"migration": "c", "status": "manual", "data": False},
        {"migration": "d", "status": "rollback_failed", "data": False},
        {"migration": "e", "status": "manual", "data": True},
        {"migration": "f", "status": "forward_failed"},
    ]
    share = run.no_data_share([result])
    assert share["migrations"] == 4
    assert share["verified"] == 2
    assert share["share"] == 0.5
    assert share["with_data"] == 1
    assert share["statuses"] == {"verified": 2, "manual": 1, "rollback_failed": 1}


def test_each_round_tripped_row_says_whether_the_schema_came_back(
    run: ModuleType, tmp_path: Path
) -> None:
    """`schema`: verified, or MANUAL left with the schema round trip matching (the peers'
    measure); an older JSON without `schema_restored` counts only verified."""
    (tmp_path / "1_a.sql").write_text("update t set id = 2;\n", encoding="utf-8")
    (tmp_path / "2_b.sql").write_text("create table u (id int);\n", encoding="utf-8")
    (tmp_path / "3_c.sql").write_text("create table v (id int);\n", encoding="utf-8")
    doc = {
        "migrations": [
            {"migration": "1_a", "verification": {"status": "manual", "schema_restored": True}},
            {"migration": "2_b", "verification": {"status": "mismatch", "schema_restored": False}},
            {"migration": "3_c", "verification": {"status": "verified"}},
        ]
    }
    result = run.ProjectResult("p", "o/p", "c")
    run._count(result, doc, tmp_path)
    assert [row["schema"] for row in result.per_migration] == [True, False, True]
