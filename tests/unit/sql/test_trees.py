"""`parse_trees` builds the very trees `pglast.parse_sql` builds: same classes, values, value
types, enums and character positions, node for node; and fails the same way.

Each text is built with pglast's checking assignment made to fail, so a build that went
through pglast's node classes cannot pass for equality; the expected trees are built with
pglast's own classes bound again for the test (importing `trees` binds the stand-ins for the
process).
"""

from __future__ import annotations

import enum
import inspect
import re
import threading
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


def _expected(text: str) -> tuple[Any, ...]:
    with trees.pglasts_own():
        return tuple(pglast.parse_sql(text))


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
    found = strictly_same(_expected(text), _fast(text, monkeypatch))
    assert found is None, found


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_same_trees_for_the_repository_sql(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = path.read_text(encoding="utf-8")
    try:
        expected = _expected(text)
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
    with pytest.raises(ParseError) as expected, trees.pglasts_own():
        pglast.parse_sql(text)
    with pytest.raises(ParseError) as found:
        trees.parse_trees(text)
    assert found.value.args == expected.value.args  # message, and the character index
    assert trees._NAMES.found is None  # no names left recorded for a parse that failed


def test_every_parse_in_the_process_goes_through_the_stand_ins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Bound once for good: a failed parse leaves them bound, pglast's own `parse_sql` makes
    no node through pglast's checks and records no names."""
    with pytest.raises(ParseError):
        trees.parse_trees("select from where;")
    assert (parser.ast, parser.enums) == (trees._NODES, trees._ENUMS)
    with trees.pglasts_own():  # the baseline's build: pglast's own, bound again after
        assert (parser.ast, parser.enums) == (pglast.ast, pglast.enums)
        with pytest.raises(ParseError):
            pglast.parse_sql("select from where;")
    assert (parser.ast, parser.enums) == (trees._NODES, trees._ENUMS)
    with monkeypatch.context() as patch:
        patch.setattr(ast.Node, "__setattr__", _refuse)
        built = tuple(pglast.parse_sql("create table t (id int references u (id));"))
    assert mentions.recorded(built[0].stmt) is None


def test_an_enum_value_without_a_member_is_the_enum_classs_answer() -> None:
    members = trees._Members(SortByDir)
    assert members[SortByDir.SORTBY_DESC.value] is SortByDir.SORTBY_DESC
    with pytest.raises(ValueError, match="99 is not a valid SortByDir"):
        members[99]


def _names(statements: tuple[Any, ...]) -> list[frozenset[str] | None]:
    return [mentions.recorded(raw.stmt) for raw in statements]


def test_a_parse_begun_inside_a_stand_in_keeps_the_outer_statements_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A `parse_trees` on this thread (re-entered) or another's, run while a statement is half
    built: each parse records its own names, the outer statement's are kept."""
    inner: list[tuple[Any, ...]] = []
    made, calls = trees._NODES.RangeVar, []

    def range_var(*values: Any) -> Any:
        calls.append(values)
        if len(calls) == 1:  # once, after `a_t` is named and before `b_t` is
            inner.append(trees.parse_trees("select * from inner_t;"))
            thread = threading.Thread(
                target=lambda: inner.append(trees.parse_trees("select 1 from other_t;"))
            )
            thread.start()
            thread.join()
        return made(*values)

    monkeypatch.setattr(trees._NODES, "RangeVar", range_var)
    outer = trees.parse_trees("select * from a_t join b_t on true;")
    assert _names(outer) == [frozenset({"a_t", "b_t"})]
    assert [_names(statements) for statements in inner] == [
        [frozenset({"inner_t"})],
        [frozenset({"other_t"})],
    ]
    assert trees._NAMES.found is None


def test_another_parse_meanwhile_gets_the_same_nodes_and_records_no_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What a pglast parse elsewhere (another caller, another thread) gets from the stand-ins."""
    text = "create table t (id int references u (id));"
    expected = _expected(text)
    with monkeypatch.context() as patch:
        patch.setattr(ast.Node, "__setattr__", _refuse)  # made by the stand-ins, not pglast
        built = tuple(parser.parse_sql(text))
    found = strictly_same(expected, built)
    assert found is None, found
    assert mentions.recorded(built[0].stmt) is None


# Every concrete node class; not ValUnion, pglast's own holder of a constant's value, which its
# parser never makes (an A_Const holds the value node itself).
NODE_CLASSES = [
    cls
    for _, cls in sorted(vars(pglast.ast).items())
    if isinstance(cls, type)
    and isinstance(cls.__dict__.get("__slots__"), dict)
    and issubclass(cls, ast.Node)
    and cls is not pglast.ast.ValUnion
]


def _sample(info: Any, n: int) -> Any:
    """A value of slot `n` as pglast's parser passes it for the slot's C type, unlike its
    neighbours' (a value landing in the wrong slot shows)."""
    members = list(getattr(pglast.enums, info.c_type, ()))
    declared = info.py_type if isinstance(info.py_type, tuple) else (info.py_type,)
    if members:
        return members[n % len(members)]
    if info.c_type == "Bitmapset*":  # declared a list, passed as a set
        return {n}
    if list in declared:
        return (ast.String(f"item{n}"),)
    if declared == (bool, int):
        return bool(n % 2)
    if declared == (str, int):  # a C char
        return chr(ord("a") + n % 26)
    if str in declared:
        return f"text{n}"
    if declared in ((int,), (float,)):
        return declared[0](n)
    node = next((t for t in declared if isinstance(t, type) and issubclass(t, ast.Node)), None)
    if node is not None:
        return ast.String(f"node{n}") if node is ast.Node else node()
    raise AssertionError(f"no sample for a slot declared {info!r}: a new kind of slot")


@pytest.mark.parametrize("cls", NODE_CLASSES, ids=lambda cls: cls.__name__)
def test_each_stand_in_fills_the_slots_as_pglasts_init_does(cls: type) -> None:
    """For every node class: the stand-in called as the parser calls the class (positionally)
    makes what pglast's own `__init__` makes of the same values, order and coercions."""
    declared = list(cls.__slots__)  # type: ignore[attr-defined]
    assert list(inspect.signature(cls.__init__).parameters)[1:] == declared
    values = [_sample(info, n) for n, info in enumerate(cls.__slots__.values())]  # type: ignore[attr-defined]
    found = strictly_same(cls(*values), getattr(trees._NODES, cls.__name__)(*values))
    assert found is None, found


PYX = Path(pglast.__file__).parent / "ast.pyx"
# A node made by the parser: `ast.Class(arguments)`, each argument a `v_` variable made by one
# expression, or (A_Const's values) a C field passed as it is.
_CALL = re.compile(r"ast\.(\w+)\(([^()]*(?:\([^()]*\))?[^()]*)\)$", re.MULTILINE)
_VARIABLE = re.compile(r"cdef (?:object|tuple|set) (v_\w+) = (.+)$", re.MULTILINE)
# The kinds of expression a node's argument is made by, each a value of the slot's declared
# type (`_sample`'s); a C field passed as it is (`data.`) is a C number, its bools ints.
_KINDS = (
    "bool(",
    "getattr(enums, ",
    ".decode(",
    "chr(",
    "create(",
    "create_",  # a node embedded in another (a foreign table's CreateStmt)
    "_pg_list_to_tuple(",
    "offset_to_index(",
    "_pg_bitmapset_to_set(",
)


def _raw(expression: str, info: Any, n: int) -> Any:
    """The value the parser passes for `expression`, coercions left to the class."""
    if any(kind in expression for kind in _KINDS) or expression.startswith("v_"):
        return _sample(info, n)  # (a `v_` set in branches: A_Const's value, a node)
    assert expression.startswith("data."), f"ast.pyx: an argument made by {expression!r}"
    return float(n) if info.py_type is float else n


@pytest.mark.skipif(not PYX.exists(), reason="pglast's ast.pyx not installed beside it")
def test_the_parsers_calls_match_the_stand_ins() -> None:
    """Every call to a node class in pglast's parser source (its ast.pyx): its arguments in the
    class's slot order, and the stand-in makes of their values what the class makes."""
    functions = PYX.read_text(encoding="utf-8").split("\ncdef create_")
    calls = [(call, function) for function in functions for call in _CALL.findall(function)]
    assert len({name for (name, _), _ in calls}) > 200, "ast.pyx no longer read: update the test"
    for (name, arguments), function in calls:
        variables = dict(_VARIABLE.findall(function))
        cls, given = getattr(pglast.ast, name), [a.strip() for a in arguments.split(",") if a]
        infos = list(cls.__slots__.values())
        if all(a.startswith("v_") for a in given):
            assert [a.removeprefix("v_") for a in given] == list(cls.__slots__), name
        values = [
            _raw(variables.get(a, a), i, n)
            for n, (a, i) in enumerate(zip(given, infos, strict=True))
        ]
        found = strictly_same(cls(*values), getattr(trees._NODES, name)(*values))
        assert found is None, f"{name}: {found}"
