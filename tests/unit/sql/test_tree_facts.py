"""One walk answers what the verifier asks of a parse tree: each answer is the plain walk's."""

from __future__ import annotations

from typing import Any

import pytest
from pglast import ast

from migration_rollback.sql import effects, parse_script
from migration_rollback.sql.touched import walk
from migration_rollback.sql.tree_facts import tree_facts

SQL = [
    "create table public.notes (id bigint primary key, at timestamptz default now());",
    "alter table public.notes add column body text not null default public.f(1, 'x');",
    "alter table t add column n int default pg_catalog.now() + s.f(extensions.g());",
    "create index notes_at on public.notes (lower(body)) where body <> '';",
    "create policy p on public.notes for select using (auth.uid() is not null);",
    "create view public.v as select id, pg_catalog.upper(body) from public.notes;",
    "create function f(a int) returns int language plpgsql as $b$ begin return a; end $b$;",
    "insert into t (a, b) values (E'x\\ny', U&'d\\0061t'), (1.5, null) on conflict do nothing;",
    "with moved as (delete from a returning *) select count(*) from moved;",
    "create rule r as on insert to t do also update u set n = n + 1;",
    "copy t from stdin;",
    "copy t to stdout;",
    "merge into t using s on t.id = s.id when matched then delete;",
    "select set_config('track_functions', 'all', true), g(h(1));",
    "create table p (id int, s st) partition by range (id);",
    "do $$ begin perform 1; end $$;",
]


def _plain_strings(root: object) -> list[str]:
    """Every string, depth first, last field first."""
    found: list[str] = []
    stack = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, ast.Node):
            stack.extend(getattr(item, attr) for attr in item)
        elif isinstance(item, tuple | list):
            stack.extend(item)
    return found


def _plain_writes(root: Any) -> bool:
    writes = (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt)
    return any(
        isinstance(n, writes) or (isinstance(n, ast.CopyStmt) and n.is_from) for n in walk(root)
    )


@pytest.mark.parametrize("sql", SQL)
def test_each_fact_is_the_plain_walks(sql: str) -> None:
    for st in parse_script(sql).statements:
        facts = tree_facts(st.node)
        nodes = list(walk(st.node))
        assert facts.strings == tuple(_plain_strings(st.node))
        assert facts.writes == _plain_writes(st.node)
        calls = [n for n in nodes if isinstance(n, ast.FuncCall)]
        assert [name for _, name in facts.calls] == [str(n.funcname[-1].sval) for n in calls]
        assert set(facts.calls) == set(effects.calls(st.node))
        assert facts.literals == tuple(n.sval for n in nodes if isinstance(n, ast.String))


def test_what_writes_and_what_does_not() -> None:
    written = [tree_facts(st.node).writes for sql in SQL for st in parse_script(sql).statements]
    assert written == [False] * 7 + [True, True, True, True, False, True] + [False] * 3


def test_the_calls_are_named_in_walk_order() -> None:
    (st,) = parse_script("select set_config('track_functions', 'all', true), g(h(1));").statements
    assert tree_facts(st.node).calls == (("", "g"), ("", "h"), ("", "set_config"))
    assert "track_functions" in tree_facts(st.node).literals


def test_the_answer_is_kept_with_the_tree() -> None:
    (st,) = parse_script("select f(1);").statements
    assert tree_facts(st.node) is tree_facts(st.node)
    (again,) = parse_script("select f(1);").statements  # another tree: read again, the same
    assert tree_facts(again.node) == tree_facts(st.node)


class _Pair(tuple[str, str]):
    """A tuple of a subclass of its own: its strings are walked still (not taken for a leaf)."""


def test_a_tuple_subclass_is_walked_not_skipped() -> None:
    assert tree_facts(_Pair(("a", "b"))).strings == ("b", "a")
    assert tree_facts([_Pair(("c", "d"))]).strings == ("d", "c")
