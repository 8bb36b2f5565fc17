"""What an earlier text names, against the names changed since (renamed.py): pure, no I/O."""

from __future__ import annotations

import pytest
from pglast import parse_sql

from migration_rollback.sql import parse_script
from migration_rollback.sql.renamed import STAR, Renamed, called_now, first_named, renamed_by

COLUMN_A = Renamed("a", "column a of public.t renamed to b", table="t")
SCHEMA_S = Renamed("s", "schema s renamed to s2", qualifier=True)
VALUE_ON = Renamed("on", "value 'on' renamed to 'up'", literal=True)
SEQUENCE = Renamed("sq", "sequence sq renamed to sq2", also_literal=True)
TABLE_T = Renamed("t", "table t renamed to t2", also_literal=True)
STAR_T = Renamed(STAR, "column z added to public.t", table="t")


def _tree(text: str) -> object:
    return parse_sql(text)[0].stmt


@pytest.mark.parametrize(
    ("text", "renamed", "named"),
    [
        ("create policy p on public.t using (a > 0)", COLUMN_A, True),
        ("create policy p on public.u using (a > 0)", COLUMN_A, False),  # another table's a
        ("create view v as select 'a' as x from public.t", COLUMN_A, False),  # a literal
        ("create view v as select * from public.t", COLUMN_A, True),  # `*` takes it in
        ("create view v as select * from public.t", STAR_T, True),
        ("create view v as select id from public.t", STAR_T, False),
        ("create view v as select id * 2 as d from public.t", STAR_T, False),  # an operator
        ("create policy p on public.e using (s = 'on')", SCHEMA_S, False),  # a column s
        ("create view v as select id from s.k", SCHEMA_S, True),
        ("create view v as select x::s.ty from public.t", SCHEMA_S, True),
        ("create policy p on public.e using (s = 'on')", VALUE_ON, True),
        ("create view v as select nextval('public.sq') as n", SEQUENCE, True),
        ("create view v as select nextval('public.sqx') as n", SEQUENCE, False),
        ("create view v as select last_value from public.sq", SEQUENCE, True),  # read as a table
        ("create view v as select to_regclass('T') as r", TABLE_T, True),  # a literal only
        ("create view v as select 'public.t'::regclass as r", TABLE_T, True),
        ("create view v as select 'tx'::regclass as r", TABLE_T, False),
        # a LANGUAGE sql body is checked when created; a PL/pgSQL one when called
        ("create function f() returns int language sql as 'select a from public.t'", COLUMN_A,
         True),
        ("create function f() returns int language plpgsql"
         " as 'begin return (select a from public.t); end'", COLUMN_A, False),
        ("create function f() returns int language sql as 'select from where'", COLUMN_A, True),
        ("create function f() returns int language sql begin atomic select a from public.t; end",
         COLUMN_A, True),
    ],
)  # fmt: skip
def test_first_named(text: str, renamed: Renamed, named: bool) -> None:
    assert (first_named(_tree(text), [renamed]) is renamed) is named


def test_a_fragment_names_its_table_through_on() -> None:
    check = _tree("alter table public.t add constraint ck check (a > 0)").cmds[0].def_
    assert first_named(check, [COLUMN_A]) is None
    assert first_named(check, [COLUMN_A], on="t") is COLUMN_A


def test_a_fragment_does_not_name_its_table() -> None:
    check = _tree("alter table public.t add constraint ck check (a > 0)").cmds[0].def_
    table_renamed = Renamed("t", "table t renamed to u")
    assert first_named(check, [table_renamed], on="t") is None


def test_nothing_renamed_since_names_nothing() -> None:
    assert first_named(_tree("create view v as select * from t"), []) is None


@pytest.mark.parametrize(
    ("statement", "old", "what"),
    [
        ("alter table public.t rename column a to b", "a", "column a of public.t renamed to b"),
        ("alter table public.t rename to u", "t", "table t renamed to u"),
        ("alter type ty rename attribute x to y", "x", "attribute x of public.ty renamed to y"),
        ("alter table public.t set schema x", "t", "table t moved to schema x"),
        ("alter schema s rename to s2", "s", "schema s renamed to s2"),
        ("alter type public.ty rename to ty2", "ty", "type ty renamed to ty2"),
        ("alter function public.g() rename to h", "g", "function g renamed to h"),
        ("alter type public.st rename value 'on' to 'up'", "on", "value 'on' renamed to 'up'"),
    ],
)
def test_renamed_by_says_the_old_name_and_where(statement: str, old: str, what: str) -> None:
    st = parse_script(statement, "m.sql").statements[0]
    (renamed,) = renamed_by(st.node, st, "public")
    assert renamed.old == old
    assert renamed.what == f"{what} at m.sql:1"


def test_an_attribute_is_named_without_its_type() -> None:
    st = parse_script("alter type public.ty rename attribute x to y", "m.sql").statements[0]
    (renamed,) = renamed_by(st.node, st, "public")
    assert first_named(_tree("create view v as select (r).x from public.t"), [renamed])


def test_adding_an_enum_value_renames_nothing() -> None:
    st = parse_script("alter type public.st add value 'x'", "m.sql").statements[0]
    assert renamed_by(st.node, st, "public") == ()


T_TO_T2 = Renamed("t", "table t renamed to t2", moved=(("public", "t"), ("public", "t2")))
T_TO_ARCH = Renamed("t", "table t moved", moved=(("public", "t"), ("arch", "t")))
T2_TO_T3 = Renamed("t2", "table t2 renamed to t3", moved=(("public", "t2"), ("public", "t3")))
S_MOVE = (("public", "s"), ("public", "s2"))
S_TO_S2 = Renamed("s", "sequence s renamed", also_literal=True, moved=S_MOVE)


@pytest.mark.parametrize(
    ("text", "since", "now"),
    [
        ("create index i on t (a)", [T_TO_T2], "CREATE INDEX i ON public.t2 (a)"),
        ("create view v as select id from public.t join u on true", [T_TO_T2],
         "CREATE VIEW v AS SELECT id FROM public.t2 INNER JOIN u ON TRUE"),
        # the new name said already: the rewritten one would take `t2.k` or clash with it
        ("create view w as select t2.id, (select count(*) from public.t where a = t2.k) as n"
         " from public.o t2", [T_TO_T2], None),
        ("create view w as select a from public.t, public.o t2", [T_TO_T2], None),
        ("create view w as select a from public.t, other.t2", [T_TO_T2], None),
        ("create view w as select a, t2.k from public.t, public.o", [T_TO_T2], None),
        ("create view w as select x.a from public.t x", [T_TO_T2],
         "CREATE VIEW w AS SELECT x.a FROM public.t2 AS x"),  # its alias kept
        # t2 renamed away before t takes its name: not a clash, but the old name t2 is said
        # again (needless, left to a human)
        ("create view w as select a, k from public.t, public.t2", [T2_TO_T3, T_TO_T2], None),
        # named otherwise than by a RangeVar: a literal, a row type
        ("create view v as select id from public.t where tableoid = 'public.t'::regclass",
         [T_TO_T2], None),
        ("create view v as select id from public.t where to_regclass('t') is not null",
         [T_TO_ARCH], None),
        ("create view v as select x::public.t as r from public.t x", [T_TO_ARCH], None),
        ("create view v as select last_value from public.s", [S_TO_S2],
         "CREATE VIEW v AS SELECT last_value FROM public.s2"),
        ("create view v as select nextval('s') as n, last_value from public.s", [S_TO_S2], None),
        ("create view v as select t.id from public.t", [T_TO_ARCH],
         "CREATE VIEW v AS SELECT t.id FROM arch.t"),  # a move keeps the name `t.id` says
        ("create view v as select t.id from public.t", [T_TO_T2], None),  # `t` still said
        ("create view v as select id from other.t", [T_TO_T2], None),  # another t: unchanged
        ("create view v as with t as (select 1 as id) select id from t", [T_TO_T2], None),
        ("create view v as select public.t.id from public.t", [T_TO_ARCH], None),
        ("create view v as select a from public.t", [T_TO_T2, COLUMN_A], None),
        ("create view v as select a from public.t", [COLUMN_A], None),  # no table renamed
    ],
)  # fmt: skip
def test_called_now(text: str, since: list[Renamed], now: str | None) -> None:
    assert called_now(text, since) == now


def test_an_unnamed_index_keeps_its_name() -> None:
    """PostgreSQL would name it after the table as it is called now (t2_a_idx)."""
    now = called_now("create index on public.t (a)", [T_TO_T2], name="t_a_idx")
    assert now == "CREATE INDEX t_a_idx ON public.t2 (a)"


@pytest.mark.parametrize(
    "text",
    [
        "create view v as select * from public.t",  # `*` and the column's table
        "CREATE POLICY p ON public.T USING (A > 0)",  # any case
        'create policy p on public.t using (U&"\\0061" > 0)',  # escaped: walked
    ],
)
def test_the_text_spares_no_walk_that_matters(text: str) -> None:
    assert first_named(_tree(text), [COLUMN_A], text=text) is COLUMN_A


def test_a_text_without_the_name_is_not_walked() -> None:
    tree = _tree("create policy p on public.t using (a > 0)")
    assert first_named(tree, [COLUMN_A]) is COLUMN_A
    # the text decides first: not saying `a`, the tree is not read
    assert first_named(tree, [COLUMN_A], text="create policy p on public.t using (c > 0)") is None
