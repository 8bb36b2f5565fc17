"""The engine's shortcuts give exactly what the long way gives.

Each one exists for speed (bench/bench_engine.py): the batched safety belt, the deparse that
sets ancestors without pglast's visitor, the memoized classification and the drop-order walk
over column definitions and constraints only. None may change a rollback or a finding.
"""

from __future__ import annotations

from pathlib import Path

import pglast
import pytest
from pglast.stream import RawStream
from pglast.visitors import Visitor, populate_ancestors
from tests.unit.sql.test_cases import sections
from tests.unit.sql.test_trees import strictly_same

import migration_rollback.sql.generator as generator
from migration_rollback.errors import UnsafeOutputError
from migration_rollback.sql import generate_rollback, parse_script
from migration_rollback.sql._ast import ast, make
from migration_rollback.sql.checks import order_findings
from migration_rollback.sql.classify import classify
from migration_rollback.sql.generator import build_history, checked_statement, checked_statements
from migration_rollback.sql.inverse import Context, invert
from migration_rollback.sql.names import deparse
from migration_rollback.sql.parse import parse_single_statements
from migration_rollback.sql.touched import touched_names

CASES = sorted((Path(__file__).parent / "cases").glob("*.sql"))

GENERATED = [
    "DROP TABLE IF EXISTS public.a",
    "DROP TABLE t;",
    "  DROP TABLE t ;  ",
    "-- why\nDROP TABLE t; -- after",
    "select 1\n-- a comment last",
    "/* c */ select $$;$$",
    "create function f() returns int language sql\nas $b$\nselect 1;\n$b$",
    "comment on column public.t.c is 'it''s; here'",
]


def _key(statements: list) -> list:
    return [(s.text, s.location, s.index, s.node) for s in statements]


def test_batched_belt_gives_each_statement_as_parsed_alone() -> None:
    assert _key(checked_statements(GENERATED)) == _key([checked_statement(s) for s in GENERATED])


def test_a_rollback_whose_trees_are_all_known_checks_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_parse(*args: object) -> None:
        raise AssertionError("parsed, though every tree was known")

    monkeypatch.setattr(generator, "parse_single_statements", no_parse)
    monkeypatch.setattr(generator, "checked_statement", no_parse)
    assert checked_statements([]) == []


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("select 1; select 2", "is 2 statements, expected 1"),
        ("drop tabel t", "does not parse"),
        ("", "is 0 statements, expected 1"),
    ],
)
def test_batched_belt_refuses_what_the_single_belt_refuses(bad: str, message: str) -> None:
    with pytest.raises(UnsafeOutputError, match=message):
        checked_statements(["drop table a", bad, "drop table b"])


@pytest.mark.parametrize(
    "texts",
    [
        ["select 1; select 2", ""],  # as many statements as texts, not one in each
        ["select $$", "$$; select 2"],  # a dollar quote running on past the separator
        ["select 1 /* open", "*/ select 2"],  # a comment too
        ["select 'a", "'; select 2"],  # a string too
        ["", "select 1; select 2"],
    ],
)
def test_batched_belt_finds_texts_that_are_not_one_statement_each(texts: list[str]) -> None:
    with pytest.raises(UnsafeOutputError) as alone:
        [checked_statement(s) for s in texts]
    with pytest.raises(UnsafeOutputError) as batched:
        checked_statements(texts)
    assert str(batched.value) == str(alone.value)


@pytest.mark.parametrize(
    "texts",
    [
        ["\ufeffdrop table a", "drop table b\r\n", "\\set x 1\ndrop table c"],
        # One text needing it, not the first: the batch is looked at text by text.
        ["drop table a", "\ufeffdrop table b"],
        ["drop table a", "drop table b\r"],
        ["drop table a", "\\set x 1\ndrop table c"],
    ],
)
def test_batched_belt_needing_clean_up_is_parsed_one_by_one(texts: list[str]) -> None:
    assert parse_single_statements(texts, "<generated>") is None
    assert _key(checked_statements(texts)) == _key([checked_statement(s) for s in texts])


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_deparse_prints_what_pglast_prints(case: Path) -> None:
    parts = sections(case.read_text())
    sql = "\n".join(parts.get(name, "") for name in ("history", "forward", "rollback"))
    for st in parse_script(sql, case.name).statements:
        parts = [st.node, *(getattr(st.node, a, None) for a in ("object", "typeName", "query"))]
        for node in parts:
            if node is not None and node != ():
                assert deparse(node) == str(RawStream()(node))


def _chains(tree: tuple) -> list[str]:
    """Each node's ancestry chain, in pglast's breadth-first order."""
    return [f"{type(node).__name__}: {node.ancestors}" for _, node in Visitor().iterate(tree)]


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_deparse_sets_the_ancestors_pglast_sets(case: Path) -> None:
    parts = sections(case.read_text())
    sql = "\n".join(parts.get(name, "") for name in ("history", "forward", "rollback"))
    trees = [st.node for st in parse_script(sql, case.name).statements]
    deparse(tuple(trees))
    ours = _chains(tuple(trees))
    populate_ancestors(tuple(trees))
    assert ours == _chains(tuple(trees))


def test_classification_is_memoized_per_tree_and_kept_apart() -> None:
    a, b = parse_script("drop table a; alter table b add column c int", "f.sql").statements
    assert classify(a) is classify(a)
    assert classify(a).destroys_data
    assert not classify(b).destroys_data
    again = parse_script("drop table a", "f.sql").statements[0]
    assert classify(again) == classify(a)


def test_drop_order_sees_foreign_keys_wherever_the_grammar_puts_them() -> None:
    forward = parse_script(
        "create table p (id int primary key);\n"
        "create table c1 (id int references p, check (id > (select 1)));\n"
        "create table c2 (id int, constraint f foreign key (id) references p);\n"
        "create table c3 (id int);\n"
        "alter table c3 add column p_id int references p;\n"
        "create table c4 (id int);\n"
        "alter table c4 add constraint f4 foreign key (id) references p;\n",
        "m.sql",
    )
    wrong = parse_script(
        "drop table p; drop table c1; drop table c2; drop table c3; drop table c4;", "r.sql"
    )
    found = order_findings(forward, wrong, "r.sql")
    assert sorted(f.message.split(" before ")[1].split(" ")[0] for f in found) == [
        "public.c1",
        "public.c2",
        "public.c3",
        "public.c4",
    ]
    plan = generate_rollback(forward, "m")
    generated = parse_script(plan.render_body(), "r.sql")
    assert order_findings(forward, generated, "r.sql") == []


def test_drop_order_findings_come_in_the_same_order_on_every_run() -> None:
    # A table needing several others: their names were a set, iterated in hash order.
    forward = parse_script(
        "create table a (id int primary key); create table b (id int primary key);\n"
        "create table x (id int primary key); create table z (id int primary key);\n"
        "create table c (a int references a, b int references b, x int references x,\n"
        "  z int references z);\n",
        "m.sql",
    )
    wrong = parse_script("drop table z; drop table x; drop table b; drop table a; drop table c;")
    found = order_findings(forward, wrong, "r.sql")
    assert [f.message.split(" ")[1] for f in found] == [f"public.{t}" for t in "abxz"]


EARLIER = """create view public.v as select 1 as a;
create or replace function public.f() returns int language sql as $$ select 1 $$;
create policy p on public.t for select using (true);
"""
RESTATED = [  # each undone by an earlier statement's own text
    "drop view public.v;",
    "create or replace function public.f() returns int language sql as $$ select 2 $$;",
    "alter policy p on public.t using (false);",
]


@pytest.mark.parametrize("forward", RESTATED)
def test_an_earlier_statement_restated_keeps_its_tree_and_checks_as_parsed(forward: str) -> None:
    earlier = parse_script(EARLIER, "1_earlier.sql")
    plan = generate_rollback(parse_script(forward, "2_later.sql"), "2_later", history=None)
    history_plan = generate_rollback(
        parse_script(forward, "2_later.sql"), "2_later", build_history([earlier])
    )
    assert plan.steps != history_plan.steps  # the earlier definition is what is restored
    trees = {id(st.node) for st in earlier.statements}
    reused = [s for s in history_plan.steps if s.parsed is not None and id(s.parsed.node) in trees]
    assert reused, "the restated text should keep the earlier statement's tree"
    for step in reused:
        assert step.parsed is not None
        assert step.sql is not None
        alone = checked_statement(step.sql)  # the long way: the safety belt's own parse
        assert (step.parsed.text, step.parsed.node) == (alone.text, alone.node)
        c = classify(alone)
        assert (step.transactional, step.destroys_data, step.lock) == (
            c.transactional,
            c.destroys_data,
            c.lock,
        )


FLIPPED = [
    "grant select, update (a) on public.t, s.v to anon, authenticated with grant option;",
    "revoke all on function public.f(int) from public cascade;",
    "grant usage on schema s to r granted by postgres;",
    "alter default privileges in schema public grant select on tables to app_reader;",
    "grant r1, r2 to u with admin option;",
    "comment on column public.t.c is 'x';",
    "revoke grant option for select on public.t from u cascade;",
    "revoke admin option for r from u;",
]


@pytest.mark.parametrize("text", FLIPPED)
def test_a_node_made_from_parsed_parts_is_what_pglast_makes(text: str) -> None:
    node = parse_script(text).statements[0].node
    fields = {name: getattr(node, name) for name in node}
    for changed in ({}, dict.fromkeys(list(fields)[:1])):
        given = {**fields, **changed}
        assert strictly_same(make(type(node), **given), type(node)(**given)) is None
    assert strictly_same(make(type(node)), type(node)()) is None


def test_a_node_made_with_a_field_it_has_not_is_refused() -> None:
    with pytest.raises(TypeError, match="CommentStmt has no field nope"):
        make(ast.CommentStmt, comment="x", nope=1)


PRINTED = [  # each undone by SQL printed from a tree the rule made (the belt parses none)
    FLIPPED[0],
    # granted first: what a REVOKE took is given back only where it was held before
    "grant all on function public.f(int) to public; " + FLIPPED[1],
    *FLIPPED[2:5],
    FLIPPED[6],  # (admin option given back: printed, then parsed by the belt)
    "create table public.t (c int); comment on column public.t.c is 'x';",
    "create schema s; comment on schema s is 'y';",
    "create table public.t (c int); comment on table public.t is 'it''s';",
]


@pytest.mark.parametrize("text", PRINTED)
def test_sql_printed_from_a_made_tree_keeps_it_and_it_is_pglast_parse(text: str) -> None:
    ctx = Context(history=None)
    made = [i for st in parse_script(text).statements for i in invert(st, ctx) if i.sql]
    printed = [i for i in made if not str(i.sql).startswith("DROP ")]
    assert printed
    for inverse in printed:
        assert inverse.tree is not None
        assert inverse.sql is not None
        (parsed,) = pglast.parse_sql(inverse.sql)
        assert inverse.tree == parsed.stmt
        assert touched_names(inverse.tree) == touched_names(checked_statement(inverse.sql).node)


@pytest.mark.parametrize(
    ("forward", "undo"),
    [
        # Revoking an option took the option only: its undo gives the option back.
        (
            "revoke grant option for select on public.t from u;",
            "GRANT SELECT ON TABLE public.t TO u WITH GRANT OPTION",
        ),
        ("revoke admin option for r from u;", "GRANT r TO u WITH ADMIN OPTION"),
        ("revoke inherit option for r from u;", "GRANT r TO u WITH INHERIT OPTION"),
        # Granting with an option: the undo revokes the privilege or membership whole.
        (
            "grant select on public.t to u with grant option;",
            "REVOKE SELECT ON TABLE public.t FROM u",
        ),
        ("grant r to u with admin option;", "REVOKE r FROM u"),
        ("revoke r from u;", "GRANT r TO u"),
    ],
)
def test_the_undo_of_a_grant_or_revoke_restores_the_options_it_changed(
    forward: str, undo: str
) -> None:
    (inverse,) = invert(parse_script(forward).statements[0], Context(history=None))
    assert inverse.sql == undo


def test_the_undo_of_a_cascading_revoke_says_what_it_cannot_grant_back() -> None:
    earlier = build_history([parse_script("grant select on public.t to u;", "1_earlier.sql")])
    forward = "revoke select on public.t from u cascade;"
    (inverse,) = invert(parse_script(forward).statements[0], Context(history=earlier))
    assert inverse.sql == "GRANT SELECT ON TABLE public.t TO u"
    assert any("CASCADE" in note and "by hand" in note for note in inverse.notes)


# The concrete ones: pglast declares their slots as a dict (name -> type); Node and Expr are
# abstract (a tuple), and pglast itself makes no instance of them.
NODE_CLASSES = sorted(
    (
        c
        for c in vars(ast).values()
        if isinstance(c, type) and isinstance(c.__dict__.get("__slots__"), dict)
    ),
    key=lambda c: c.__name__,
)


@pytest.mark.parametrize("cls", NODE_CLASSES, ids=lambda c: c.__name__)
def test_every_node_class_is_made_as_pglast_makes_it(cls: type) -> None:
    """Whatever its slots are called ("node" is one) or however few it has (none)."""
    assert strictly_same(make(cls), cls()) is None
    for slot in getattr(cls, "__slots__"):  # noqa: B009
        part = ast.String(sval="x")
        made = make(cls, **{slot: part})
        assert getattr(made, slot) is part, slot
        assert made is not part
