"""The names `trees` records while building a statement are the names a walk of pglast's own
tree for that statement finds (`touched` walks the trees it was not given names for)."""

from __future__ import annotations

from collections import Counter

import pglast
import pytest
from pglast.parser import ParseError
from test_trees import FILES, TEXTS

from migration_rollback.sql import mentions, touched, trees

EXTRA = [
    "alter table s.t add constraint c check (x > 0), alter column y type public.mood;",
    "create function f(a int) returns int language sql as 'select 1';"
    " drop function f(int), g(text); comment on function s.h() is 'x';",
    "create view v as select * from a join b.c using (id) where exists (select from d);",
    "create table t (id int constraint pk primary key, m public.mood references u (id));",
]


def _texts() -> list[str]:
    found = [*TEXTS, *EXTRA]
    for path in FILES:
        text = path.read_text(encoding="utf-8")
        try:
            pglast.parse_sql(text)
        except ParseError:
            continue  # a case file in sections, not one script
        found.append(text)
    return found


@pytest.mark.parametrize("text", _texts(), ids=range(len(_texts())))
def test_recorded_names_are_the_walked_names(text: str) -> None:
    built = trees.parse_trees(text)
    reference = pglast.parse_sql(text)
    for raw, expected in zip(built, reference, strict=True):
        if raw.stmt is None:
            continue
        recorded = mentions.recorded(raw.stmt)
        assert recorded is not None
        assert recorded == frozenset(touched._walked_names(expected.stmt))
        assert touched.touched_names(raw.stmt) == touched.touched_names(expected.stmt)


def test_a_tree_not_built_here_is_walked() -> None:
    (raw,) = pglast.parse_sql("alter table t rename column a to b;")
    assert mentions.recorded(raw.stmt) is None
    assert touched.touched_names(raw.stmt) == {"t", "a", "b"}


def test_the_names_are_not_counted_twice() -> None:
    names: list[object] = []
    (raw,) = pglast.parse_sql("select 1::public.mood;")
    for node in touched.walk(raw.stmt):
        mentions.add_names(node, names)
    assert Counter(names) == Counter({"mood": 1})
