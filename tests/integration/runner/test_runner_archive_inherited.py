"""Archived partitioned and inherited tables with columns of a type the rollback drops.

A parent's ALTER COLUMN ... TYPE recurses into its partitions and inheritance children, and
PostgreSQL refuses the same ALTER on a child's inherited column ("cannot alter inherited
column", 42P16): the rollback of a partitioned table with an enum column failed. Only a table's
own columns are altered, parents first. A partition or child dropped alone leaves its parent's
tree (as the DROP would have) and its columns become its own. Values read back as before.
"""

from __future__ import annotations

import pytest
from runner_support import Project

pytestmark = pytest.mark.integration

NAME = "20251201000001_events"
TYPE = "create type public.state as enum ('new', 'done');\n"
PARTITIONED = (
    TYPE
    + """
create table public.events (id int, state public.state, states public.state[])
  partition by range (id);
create table public.events_1 partition of public.events for values from (0) to (10);
create table public.events_2 partition of public.events for values from (10) to (20);
create index events_new on public.events (id) where state = 'new';
insert into public.events values (1, 'new', '{done}'), (11, 'done', null);
"""
)
INHERITED = (
    TYPE
    + """
create table public.events (id int, state public.state, states public.state[]);
create table public.events_1 (extra public.state) inherits (public.events);
insert into public.events values (1, 'new', '{done}');
insert into public.events_1 values (2, 'done', '{new,done}', 'new');
"""
)
ROLLBACK_ALL = "drop table public.events;\ndrop type public.state;\n"
ROLLBACK_TREE = "drop table public.events_1, public.events;\ndrop type public.state;\n"
ROLLBACK_ONE = "drop table public.events_1;\n"


def _archive(run_result: dict[str, object], source: str) -> str:
    archived = run_result["archived"]
    assert isinstance(archived, list)
    return str(next(a["archive"] for a in archived if a["source"] == source))


def _executed(project: Project, forward: str, rollback: str) -> dict[str, object]:
    project.add(NAME, forward, rollback)
    run = project.execute(NAME, "--allow-data-loss")
    assert run.returncode == 0, run.everything()
    assert run.result is not None
    assert run.result["outcome"] == "succeeded", run.everything()
    return run.result


def _types(project: Project, table: str) -> list[tuple[str, str]]:
    return [
        (str(name), str(kind))
        for name, kind in project.sql(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            [table],
        )
    ]


def test_a_partitioned_table_and_its_type_roll_back(project: Project) -> None:
    result = _executed(project, PARTITIONED, ROLLBACK_ALL)

    parent = _archive(result, "public.events")
    first, second = _archive(result, "public.events_1"), _archive(result, "public.events_2")
    assert project.sql(f"SELECT * FROM {parent} ORDER BY id") == [
        (1, "new", "{done}"),
        (11, "done", None),
    ]
    assert project.sql(f"SELECT * FROM ONLY {first}") == [(1, "new", "{done}")]
    assert project.sql(f"SELECT * FROM ONLY {second}") == [(11, "done", None)]
    for table in (parent, first, second):
        assert _types(project, table) == [("id", "integer"), ("state", "text"), ("states", "text")]
    assert project.value("SELECT to_regtype('public.state')") is None


def test_an_inheritance_tree_and_its_type_roll_back(project: Project) -> None:
    result = _executed(project, INHERITED, ROLLBACK_TREE)

    parent, child = _archive(result, "public.events"), _archive(result, "public.events_1")
    assert project.sql(f"SELECT * FROM ONLY {parent}") == [(1, "new", "{done}")]
    assert project.sql(f"SELECT * FROM {child}") == [(2, "done", "{new,done}", "new")]
    assert _types(project, child) == [
        ("id", "integer"),
        ("state", "text"),
        ("states", "text"),
        ("extra", "text"),
    ]


@pytest.mark.parametrize("forward", [PARTITIONED, INHERITED], ids=["partition", "child"])
def test_a_child_dropped_alone_leaves_its_parent(project: Project, forward: str) -> None:
    result = _executed(project, forward, ROLLBACK_ONE + "drop type if exists public.gone;\n")

    child = _archive(result, "public.events_1")
    assert (
        project.value("SELECT count(*) FROM pg_inherits WHERE inhrelid = %s::regclass", [child])
        == 0
    )
    assert project.sql("SELECT id FROM public.events ORDER BY id") == (
        [(11,)] if forward is PARTITIONED else [(1,)]
    )
    assert project.sql(f"SELECT id, state::text FROM {child}")[0][1] in ("new", "done")
    notes = " ".join(map(str, result.get("dependents", [])))
    assert "detached archived public.events_1 from public.events" in notes, result


PARTITIONED_WITH_KEY = """
create table public.kinds (id int primary key);
insert into public.kinds values (1), (2);
create table public.events (id int, kind int references public.kinds (id)) partition by list (kind);
create table public.events_1 partition of public.events for values in (1);
create table public.events_2 partition of public.events for values in (2);
insert into public.events values (10, 1), (20, 2);
"""


def test_a_partition_dropped_alone_keeps_no_foreign_key_to_live_tables(project: Project) -> None:
    # Detaching turns the key the partition got from its parent into its own; left on the
    # archived copy, it would refuse deleting kinds(1) for the archived row's sake.
    result = _executed(project, PARTITIONED_WITH_KEY, "drop table public.events_1;\n")

    child = _archive(result, "public.events_1")
    keys = "SELECT count(*) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'"
    assert project.value(keys, [child]) == 0
    assert project.value(keys, ["public.events_2"]) == 1
    project.sql("DELETE FROM public.kinds WHERE id = 1")
    assert project.sql(f"SELECT id, kind FROM {child}") == [(10, 1)]
