"""Pure helpers of the verifier: identifiers, ACLs, scopes, the baseline text, stateful SQL."""

from __future__ import annotations

import pytest
from psycopg.conninfo import conninfo_to_dict

from migration_rollback.sql import parse_script
from migration_rollback.verify.baseline import supabase_baseline_sql
from migration_rollback.verify.capture import grant_targets
from migration_rollback.verify.hidden_commands import reasons
from migration_rollback.verify.shadow import redact, with_database
from migration_rollback.verify.snapshot import (
    Grant,
    Scope,
    normalize_acl,
    parse_aclitem,
    quote_ident,
)
from migration_rollback.verify.stateful import literal
from migration_rollback.verify.stateful import normalize_args as _normalize_args


@pytest.mark.parametrize(
    ("name", "quoted"),
    [
        ("users", "users"),
        ("user", '"user"'),  # reserved
        ("integer", '"integer"'),  # col_name keyword: quote_ident quotes it too
        ("action", "action"),  # unreserved
        ("Users", '"Users"'),
        ("my table", '"my table"'),
        ('a"b', '"a""b"'),
        ("_x1", "_x1"),
        ("x$", '"x$"'),
        ("1abc", '"1abc"'),
        ("café", '"café"'),
    ],
)
def test_quote_ident_matches_postgres(name: str, quoted: str) -> None:
    assert quote_ident(name) == quoted


def test_aclitems_are_decoded_and_normalized() -> None:
    assert parse_aclitem('"Weird Role"=r*/postgres') == ("Weird Role", "r*", "postgres")
    assert parse_aclitem("=a/postgres") == ("", "a", "postgres")
    items = [
        "postgres=arwdDxt/postgres",
        "=a/postgres",
        '"Weird Role"=r*w/admin',
        "anon=r/postgres",
    ]
    assert normalize_acl(items, "postgres") == (
        '"Weird Role"=SELECT*,UPDATE by admin',
        "PUBLIC=INSERT",
        "anon=SELECT",
        "postgres=DELETE,INSERT,REFERENCES,SELECT,TRIGGER,TRUNCATE,UPDATE",
    )
    grant = Grant.parse('"Weird Role"=SELECT*,UPDATE by admin')
    assert grant == Grant('"Weird Role"', ("SELECT*", "UPDATE"), "admin")
    assert Grant.parse(grant.render()) == grant


def test_scope_covers_families() -> None:
    scope = Scope(rels=frozenset({10}), funcs=frozenset({20}), groups=frozenset({"schema"}))
    assert scope.covers("rel:10")
    assert scope.covers("func:20")
    assert scope.covers("schema")
    assert not scope.covers("rel:11")
    assert not scope.covers("type:10")
    assert not scope.covers("event trigger")
    assert scope.union(Scope(types=frozenset({5}))).covers("type:5")
    assert not Scope()
    assert scope


def test_the_baseline_parses_and_is_idempotent_by_construction() -> None:
    text = supabase_baseline_sql()
    script = parse_script(text, "supabase.sql")
    for st in script.statements:
        head = st.text.lstrip().upper()
        if head.startswith("CREATE "):
            assert "IF NOT EXISTS" in head.split("(")[0] or head.startswith("CREATE OR REPLACE"), (
                st.text[:80]
            )
        assert not head.startswith("DROP "), st.text[:80]
    for name in ("auth.users", "auth.uid()", "storage.objects", "supabase_realtime"):
        assert name in text


def test_urls() -> None:
    other = conninfo_to_dict(with_database("postgresql://u:p@h:5/db?sslmode=require", "x"))
    assert other == {
        "user": "u",
        "password": "p",
        "host": "h",
        "port": "5",
        "dbname": "x",
        "sslmode": "require",
    }
    assert conninfo_to_dict(with_database("host=h dbname=a", "b")) == {"host": "h", "dbname": "b"}
    assert redact("postgresql://u:secret@h/db") == "postgresql://u:***@h/db"
    assert redact("host=h password=secret") == "postgresql://:***@h/"
    assert redact("postgresql://u@h/db") == "postgresql://u@h/db"


def test_function_arguments_normalize_like_regprocedure() -> None:
    assert _normalize_args("int, varchar(10), public.mood[]") == (
        "integer",
        "character varying",
        "mood[]",
    )
    assert _normalize_args("integer,character varying,mood[]") == (
        "integer",
        "character varying",
        "mood[]",
    )
    assert _normalize_args("") == ()
    assert literal("it's") == "'it''s'"


@pytest.mark.parametrize(
    ("script", "named"),
    [
        ("reassign owned by a to b;", ["REASSIGN OWNED"]),
        ("alter role a rename to b;", ["ALTER ROLE RENAME"]),
        ("alter table t rename to u; alter role a set search_path = s;", []),
        ("drop owned by a;", ["DROP OWNED"]),
        ("cluster t using i;", ["CLUSTER ... USING"]),
        ("cluster t; cluster;", []),  # the index marked clustered already: nothing changes
        ("do $$ begin cluster t using i; end $$;", ["a DO block running CLUSTER"]),
        ("update pg_catalog.pg_class set relname = 'x' where false;", ["a write to pg_class"]),
        ("delete from pg_description where false;", ["a write to pg_description"]),
        ("update public.pg_notes set a = 1;", []),  # a user's table, not a catalog
        (
            "do $$ begin reassign owned by a to b; end $$;",
            ["a DO block running REASSIGN/DROP OWNED"],
        ),
        ("do $$ begin execute 'select 1'; end $$;", ["a DO block running dynamic SQL"]),
        ("do $$ begin create table t (a int); perform now(); end $$;", []),
        (
            "create function f() returns void language sql as 'alter role a rename to b';"
            " select f();",
            ["f() running ALTER ROLE"],
        ),
        (
            "create function f() returns void language sql as 'update pg_proc set procost = 1';"
            " create function g() returns void language plpgsql as $$ begin perform f(); end $$;"
            " do $$ begin perform g(); end $$;",
            ["a DO block running a write to a system catalog (in f()) (in g())"],
        ),
        ("create function f() returns void language plpgsql as $$ begin execute 'x'; end $$;", []),
    ],
)
def test_statements_no_event_trigger_reports(script: str, named: list[str]) -> None:
    nodes = [st.node for st in parse_script(script).statements]
    assert reasons(nodes) == named


def test_called_code_is_read_from_the_model() -> None:
    """A function of the kept model, called by name: its code, and the code it calls."""
    code = {"outer": ["begin perform inner_one(1); end"], "inner_one": ["execute 'drop owned'"]}
    nodes = [st.node for st in parse_script("select s.outer(); call Inner_One(2);").statements]
    found = reasons(nodes, lambda name: code.get(name, ()))
    assert found == [
        "outer() running dynamic SQL (in inner_one())",
        "inner_one() running dynamic SQL",  # the parser folds the name
    ]


@pytest.mark.parametrize(
    ("script", "count"),
    [
        ("grant select on t to a; revoke all on function f() from b;", 2),
        # No event trigger fires for these (shared objects): counted, they hid one run in code.
        ("grant set on parameter work_mem to a; grant connect on database d to a;", 0),
        ("grant create on tablespace ts to a; grant usage on schema s to a;", 1),
    ],
)
def test_grants_are_counted_as_the_event_triggers_report_them(script: str, count: int) -> None:
    nodes = [st.node for st in parse_script(script).statements]
    assert grant_targets(nodes).count == count
