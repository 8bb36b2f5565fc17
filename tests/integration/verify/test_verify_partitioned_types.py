"""The rollback of a partitioned or inherited table with a column of a type it drops verifies.

The verifier archives the tables as `execute` does (as_runner.py): its parent's ALTER of the
column's type recurses into the children, whose own ALTER of the inherited column PostgreSQL
refused ("cannot alter inherited column", 42P16), so the rollback failed on the shadow too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from verify_support import explain, statuses, write_project

from migration_rollback.verify import verify_project

pytestmark = pytest.mark.integration

TYPE = "create type public.st as enum ('a', 'b');\n"
FORWARDS = {
    "partitioned": TYPE
    + "create table public.p (id int, s public.st, ss public.st[]) partition by range (id);\n"
    "create table public.p1 partition of public.p for values from (0) to (10);\n"
    "create index p_a on public.p (id) where s = 'a';\n"
    "insert into public.p values (1, 'a', '{b}');\n",
    "inherited": TYPE + "create table public.p (id int, s public.st);\n"
    "create table public.p1 (t public.st) inherits (public.p);\n"
    "insert into public.p1 values (1, 'a', 'b');\n",
}
ROLLBACK = "drop table public.p1, public.p;\ndrop type public.st;\n"
# A partition or child added by a later migration, and dropped alone by its rollback.
ADDED = {
    "partitioned": "create table public.p2 partition of public.p for values from (10) to (20);\n"
    "insert into public.p values (11, 'b', null);\n",
    "inherited": "create table public.p2 () inherits (public.p);\n"
    "insert into public.p2 values (2, 'b');\n",
}


@pytest.mark.parametrize("kind", sorted(FORWARDS))
def test_the_tree_and_its_type_roll_back(tmp_path: Path, shadow_url: str, kind: str) -> None:
    migrations = [("tree", FORWARDS[kind], ROLLBACK)]

    results = verify_project(write_project(tmp_path, migrations), shadow_url)

    assert statuses(results) == ["verified"], explain(results)


@pytest.mark.parametrize("kind", sorted(FORWARDS))
def test_a_child_dropped_alone_rolls_back(tmp_path: Path, shadow_url: str, kind: str) -> None:
    migrations = [
        ("tree", FORWARDS[kind], ROLLBACK),
        ("child", ADDED[kind], "drop table public.p2;\n"),
    ]

    results = verify_project(write_project(tmp_path, migrations), shadow_url)

    assert statuses(results) == ["verified", "verified"], explain(results)
