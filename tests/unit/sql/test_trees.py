"""`parse_trees` builds the very trees `pglast.parse_sql` builds: same classes, values, value
types, enums and character positions, node for node; and fails the same way.

Each text is built with pglast's checking assignment made to fail, so a build that went
through pglast's node classes cannot pass for equality; pglast's parser is left as it was.
"""

from __future__ import annotations

import contextlib
import enum
from pathlib import Path
from typing import Any

import pglast
import pytest
from pglast import parser
from pglast.enums.parsenodes import SortByDir
from pglast.parser import ParseError

from migration_rollback.sql import mentions, trees
from migration_rollback.sql._ast import ast

ROOT = Path(__file__).resolve().parents[3]
FILES = sorted((ROOT / "tests/unit/sql/cases").glob("*.sql")) + sorted(
    (ROOT / "examples").rglob("*.sql")
)

TEXTS = [
    "",
    "select 1",  # no `;`: the last statement runs to the end
    "select 1, null, true, false, 'x', b'101', x'1F', 1.5, -2, 10000000000;",
    "create table t (a int default 0, b text[] not null, c numeric(10,2) check (c > 1.5));",
    "alter table t alter column b set default 'a', add column d int;",  # AlterTableCmd.def_
    "values (1, 2), (3, 4);",  # a List of Lists
    "select * from generate_series(1, 3) as g(x);",  # a NULL inside a list
    "create foreign table f (id int) server s;",  # an embedded CreateStmt
    "create index on t using btree (a desc nulls last) where b is null;",
    "grant select on all tables in schema public to anon;",
    "create policy p on t for select using (auth.uid() = owner);",
    "-- é ☃ 𝄞 in a comment\ncreate table \"tàble\" (\"çol\" text default 'ß€');\nselect 'x';",
    "select '𝄞'; select 'é', \"ü\" from \"ñ\";",
    "do $$ begin raise notice 'ü'; end $$;\ncomment on table t is '日本語';",
]

ERRORS = ["select from where;", "create table é (", "select 'ü' frm t;", "select (1"]


def _refuse(node: Any, name: str, value: Any) -> None:
    raise AssertionError("a node was made through pglast's checking __setattr__")


def _fast(text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, ...]:
    """`parse_trees(text)`, no node of it made by pglast's classes themselves."""
    with monkeypatch.context() as patch:
        patch.setattr(ast.Node, "__setattr__", _refuse)
        return trees.parse_trees(text)


def strictly_same(a: Any, b: Any, path: str = "$") -> str | None:
    """Where two trees differ, positions and value types included (pglast's == ignores both)."""
    if type(a) is not type(b):
        return f"{path}: {type(a).__name__} {a!r:.80} / {type(b).__name__} {b!r:.80}"
    if isinstance(a, ast.Node):
        for name in a:
            found = strictly_same(getattr(a, name), getattr(b, name), f"{path}.{name}")
            if found:
                return found
        return None
    if isinstance(a, tuple):
        if len(a) != len(b):
            return f"{path}: {len(a)} items / {len(b)}"
        for n, (x, y) in enumerate(zip(a, b, strict=True)):
            found = strictly_same(x, y, f"{path}[{n}]")
            if found:
                return found
        return None
    if isinstance(a, enum.Enum):
        return None if a is b else f"{path}: {a} / {b}"
    return None if a == b else f"{path}: {a!r:.80} / {b!r:.80}"


@pytest.mark.parametrize("text", TEXTS)
def test_the_same_trees_as_pglast(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = tuple(pglast.parse_sql(text))
    found = strictly_same(expected, _fast(text, monkeypatch))
    assert found is None, found


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_same_trees_for_the_repository_sql(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = path.read_text(encoding="utf-8")
    try:
        expected = tuple(pglast.parse_sql(text))
    except ParseError as error:  # a case file in sections, not one script
        expected_error = error.args
    else:
        expected_error = None
    if expected_error is not None:
        with pytest.raises(ParseError) as found:
            trees.parse_trees(text)
        assert found.value.args == expected_error
        return
    found = strictly_same(expected, _fast(text, monkeypatch))
    assert found is None, found


@pytest.mark.parametrize("text", ERRORS)
def test_a_syntax_error_is_pglasts(text: str) -> None:
    with pytest.raises(ParseError) as expected:
        pglast.parse_sql(text)
    with pytest.raises(ParseError) as found:
        trees.parse_trees(text)
    assert found.value.args == expected.value.args  # message, and the character index


def test_pglasts_parser_is_left_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    for text in ("create table t (id int);", "select from where;"):
        with contextlib.suppress(ParseError):
            trees.parse_trees(text)
        assert (parser.ast, parser.enums) == (pglast.ast, pglast.enums)
    with monkeypatch.context() as patch:  # its own build again: through the checks
        patch.setattr(ast.Node, "__setattr__", _refuse)
        with pytest.raises(AssertionError, match="checking __setattr__"):
            pglast.parse_sql("select 1;")


def test_an_enum_value_without_a_member_is_the_enum_classs_answer() -> None:
    members = trees._Members(SortByDir)
    assert members[SortByDir.SORTBY_DESC.value] is SortByDir.SORTBY_DESC
    with pytest.raises(ValueError, match="99 is not a valid SortByDir"):
        members[99]


def test_another_parse_meanwhile_gets_the_same_nodes_and_records_no_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What a pglast parse elsewhere (another thread) meets while the stand-ins are bound."""
    text = "create table t (id int references u (id));"
    expected = tuple(pglast.parse_sql(text))
    with monkeypatch.context() as patch:
        patch.setattr(parser, "ast", trees._NODES)
        patch.setattr(parser, "enums", trees._ENUMS)
        patch.setattr(ast.Node, "__setattr__", _refuse)  # made by the stand-ins, not pglast
        built = tuple(parser.parse_sql(text))
    found = strictly_same(expected, built)
    assert found is None, found
    assert mentions.recorded(built[0].stmt) is None
