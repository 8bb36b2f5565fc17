"""A table renamed or moved to another schema keeps every record the history holds of it
(columns, row security, keys, whether it is partitioned or has children): a record left under
the old name would leave the table under its new one unguarded (an `ALTER TABLE ONLY` undo that
drops its partitions' constraints, a row security switch undone that was already so)."""

from __future__ import annotations

from dataclasses import fields

import pytest

from migration_rollback.sql import ManualNeed, build_history, generate_rollback, parse_script
from migration_rollback.sql.history import PER_TABLE, History

# Every per-table record of public.t set: a test below fails if one is not.
EARLIER = """
create table public.t (z int);
create table public.t (a int primary key, b int unique) partition by list (a);
create table public.c () inherits (public.t);
alter table public.t enable row level security;
alter table public.t force row level security;
alter table public.t owner to alice;
comment on table public.t is 'kept';
create publication pub for table public.t;
"""
MOVES = {
    "rename": ("alter table public.t rename to u;", ("public", "u")),
    "set schema": ("alter table public.t set schema s;", ("s", "t")),
}


def _holding(history: History, key: tuple[str, str]) -> set[str]:
    """The History fields that hold a record of `key`."""
    return {
        f.name
        for f in fields(History)
        if isinstance(value := getattr(history, f.name), dict | set) and key in value
    }


def test_every_per_table_record_is_set_by_the_earlier_migration() -> None:
    history = build_history([parse_script(EARLIER, "earlier.sql")])
    assert _holding(history, ("public", "t")) == set(PER_TABLE)


@pytest.mark.parametrize("move", MOVES)
def test_a_moved_table_keeps_every_record(move: str) -> None:
    sql, new = MOVES[move]
    history = build_history([parse_script(EARLIER + sql, "earlier.sql")])
    assert _holding(history, ("public", "t")) == set()  # any per-table field, listed or not
    assert _holding(history, new) == set(PER_TABLE)


def test_a_dropped_table_leaves_no_record() -> None:
    history = build_history([parse_script(EARLIER + "drop table public.t;", "earlier.sql")])
    assert _holding(history, ("public", "t")) == set()


@pytest.mark.parametrize("move", MOVES)
def test_a_moved_partitioned_table_keeps_its_guard(move: str) -> None:
    sql, (schema, name) = MOVES[move]
    earlier = parse_script(EARLIER + sql, "earlier.sql")
    forward = f"alter table only {schema}.{name} add constraint k check (a > 0);"
    plan = generate_rollback(parse_script(forward, "m.sql"), "m", build_history([earlier]))
    assert not plan.sql_steps  # dropping it would drop every partition's attached one
    ((_, item),) = plan.manual_items
    assert item.need is ManualNeed.UNSUPPORTED
    assert f"{schema}.{name} AddConstraint, on a partitioned table" in item.reason


def test_a_copy_holds_every_record_and_shares_none() -> None:
    history = build_history([parse_script(EARLIER, "earlier.sql")])
    copy = history.copy()
    assert _holding(copy, ("public", "t")) == set(PER_TABLE)
    copy.columns[("public", "t")].clear()  # a table's own columns: copied too
    copy.move_table(("public", "t"), None)
    assert _holding(history, ("public", "t")) == set(PER_TABLE)
    assert set(history.columns[("public", "t")]) == {"a", "b"}
