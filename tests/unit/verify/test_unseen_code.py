"""What the scoped check cannot see in a migration's text (session twelve): the scanner's
words through comments, COPY into a catalog, changes of track_functions, code in a language
not read; and how the server's list of the functions that ran (ran_code.py) is judged."""

from __future__ import annotations

from typing import Any

import pytest

from migration_rollback.sql import parse_script
from migration_rollback.verify import ran_code
from migration_rollback.verify.hidden_commands import (
    code_reason,
    created_code,
    no_functions,
    reasons,
    writes_rows,
)


def _nodes(script: str) -> list[Any]:
    return [st.node for st in parse_script(script).statements]


@pytest.mark.parametrize(
    ("code", "found"),
    [
        ("reassign/* x */owned by a to b", "REASSIGN/DROP OWNED"),
        ("drop -- why\n owned by a", "REASSIGN/DROP OWNED"),
        ("alter/**/role a rename to b", "ALTER ROLE"),
        (
            'insert /* c */ into "pg_catalog" . "pg_description" values (1)',
            "a write to a system catalog",
        ),
        ("insert /* c */ into pg_catalog.pg_description values (1)", "a write to a system catalog"),
        ("copy pg_catalog.pg_description from stdin", "a write to a system catalog"),
        ("perform set_config('track_functions', 'none', true)", "a change of track_functions"),
        ("update public.notes set a = 1", None),
        ("select 1", None),
    ],
)
def test_code_words_through_comments(code: str, found: str | None) -> None:
    assert code_reason(code, no_functions) == found


@pytest.mark.parametrize(
    ("script", "named"),
    [
        ("copy pg_catalog.pg_description from stdin;", ["a COPY into pg_description"]),
        ("copy pg_class to stdout;", []),
        ("set track_functions = none;", ["a change of track_functions"]),
        ("reset track_functions;", ["a change of track_functions"]),
        ("select set_config('track_functions', 'none', true);", ["a change of track_functions"]),
        (
            "create function f() returns int language plperl as 'return 1'; select f();",
            ["f() running dynamic SQL"],  # its code is not read: anything
        ),
        ("create function f() returns int language c as 'lib', 'f'; select f();", []),
        (
            "create rule r as on insert to t do also update pg_catalog.pg_class set relowner = 10;",
            ["a rule writing pg_class"],
        ),
        ("create rule r as on insert to t do also delete from u;", []),
        (
            "create view v as select * from pg_catalog.pg_class; update v set relname = 'x';",
            ["a write may go through view v over a system catalog"],
        ),
        ("create view v as select * from pg_class; select 1;", []),  # nothing writes
    ],
)
def test_statements_that_hide_what_runs(script: str, named: list[str]) -> None:
    assert reasons(_nodes(script)) == named


@pytest.mark.parametrize(
    ("script", "writes"),
    [
        ("insert into t values (1);", True),
        ("with x as (delete from t returning 1) select * from x;", True),
        ("copy t from stdin;", True),
        ("do $$ begin null; end $$;", True),
        ("create rule r as on insert to t do also delete from u;", True),
        ("create table t (a int); select 1; copy t to stdout;", False),
    ],
)
def test_what_may_write_rows(script: str, writes: bool) -> None:
    assert writes_rows(_nodes(script)) is writes


def test_created_code_keeps_the_language() -> None:
    nodes = _nodes(
        "create function f() returns int language plpgsql as $$ begin return 1; end $$;"
        "create function g() returns int begin atomic select 1; end;"
    )
    assert created_code(nodes) == [("plpgsql", " begin return 1; end "), ("sql", "")]


_KEPT = {
    "pg_proc:7": ("plpgsql", "begin reassign owned by a to b; end"),
    "pg_proc:8": ("sql", "select 1"),
    "pg_rewrite:5": ("rule", "CREATE RULE r AS ON INSERT TO t DO ALSO DELETE FROM pg_depend"),
    "pg_class:11": ("view", " SELECT pg_class.oid\n   FROM pg_class;"),
    "pg_class:12": ("view", " SELECT t.a\n   FROM s.t;"),
    "pg_class:13": ("table", ""),
}


def _model(ref: str) -> tuple[str, str] | None:
    return _KEPT.get(ref)


@pytest.mark.parametrize(
    ("row", "found"),
    [
        (("ran", 1, "plpgsql log", "begin insert into audit values (1); end"), []),
        (("ran", 1, "plpgsql t", "begin reassign owned by a to b; end"), ["t() running"]),
        (("ran", 1, "plpgsql t", "begin execute format('%s', x); end"), ["t() running dynamic"]),
        (("ran", 1, "sql f", "select 1 SET track_functions=none"), ["f() running a change"]),
        (("ran", 1, "c uuid_generate_v4", "uuid_generate_v4"), []),
        (("ran", 1, "c dblink_exec", "dblink_exec"), ["dblink_exec() running SQL"]),
        (("ran", 1, "plpython3u f", "plpy.notice('x')"), ["f() in language plpython3u"]),
        (("dropped", 7, None, None), ["dropped function 7() running REASSIGN"]),
        (("dropped", 8, None, None), []),
        (("dropped", 9, None, None), ["function 9 ran and was dropped"]),
        (("untracked", None, "none", None), ["function calls were not tracked"]),
        (("rule", 3, "r", "CREATE RULE r AS ON INSERT TO t DO ALSO NOTIFY x;"), []),
        (
            ("rule", 3, "r", "CREATE RULE r AS ON INSERT TO t DO ALSO UPDATE pg_class SET x = 1"),
            ["rule r running a write to a system catalog"],
        ),
        (("view", 4, "v", None), ["a write may have gone through view v"]),
        (("dropped rule", 5, None, None), ["rule 5 (dropped) running a write"]),
        (("dropped rule", 6, None, None), []),  # a view's, or created since: read elsewhere
        (("dropped relation", 11, None, None), ["a write may have gone through view 11"]),
        (("dropped relation", 12, None, None), []),
        (("dropped relation", 13, None, None), []),
        (("flushed", None, "", None), []),
    ],
)
def test_what_ran_is_judged(row: tuple[Any, ...], found: list[str]) -> None:
    out = ran_code.reasons([row], [], _model)
    assert len(out) == len(found), out
    for said, start in zip(out, found, strict=True):
        assert said.startswith(start), said


def test_a_dropped_function_the_migration_created_is_read_from_its_statement() -> None:
    clean = _nodes("create function f() returns int language sql as 'select 1';")
    dirty = _nodes(
        "create function f() returns int language sql as 'select 1';"
        "create function g() returns void language sql as 'drop owned by a';"
    )
    assert ran_code.reasons([("dropped", 9, None, None)], clean, _model) == []
    assert ran_code.reasons([("dropped", 9, None, None)], dirty, _model) == [
        "dropped function 9() running REASSIGN/DROP OWNED"
    ]


def test_the_read_is_one_statement_for_every_supported_major() -> None:
    for version in (130000, 140000, 150000, 170000):
        text = ran_code.function_sql(version)
        assert ("pg_stat_force_next_flush" in text) is (version >= 150000)
        assert ("pg_get_function_sqlbody" in text) is (version >= 140000)
