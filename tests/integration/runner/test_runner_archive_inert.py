"""make_inert plans every change from one round of reads: an object two reads name (a CHECK
that calls a function over an enum column; an expression index over two enum columns) is
dropped once, its note given once, and the archived tables end up tied to no user type or
function, whatever the number of tables (the rollback then drops them)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from migration_rollback.runner.archive_inert import make_inert, untype_columns

pytestmark = pytest.mark.integration

SCHEMA = """
create schema arch;
create type public.mood as enum ('ok', 'sad');
create function public.tag(m public.mood) returns text language sql immutable
  as $$ select m::text $$;
create table arch.a (
  id bigint primary key,
  m public.mood,
  n public.mood,
  t text generated always as (public.tag(m)) stored,
  constraint a_tagged check (public.tag(m) <> ''),
  constraint a_differ check (m <> n)
);
create index a_pair_idx on arch.a (id) where m <> n;
create table arch.b (id bigint primary key, m public.mood check (m <> 'sad'));
insert into arch.a values (1, 'ok', 'sad'), (2, 'sad', 'ok');
insert into arch.b values (1, 'ok');
"""


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(database_url) as c:
        c.execute(SCHEMA)
        yield c


def _oids(conn: psycopg.Connection[Any]) -> list[int]:
    return [
        int(r[0])
        for r in conn.execute(
            "SELECT 'arch.a'::regclass::oid UNION ALL SELECT 'arch.b'::regclass::oid"
        )
    ]


def test_each_tie_is_cut_once_with_one_note(conn: psycopg.Connection[Any]) -> None:
    notes = make_inert(conn, _oids(conn))

    assert notes == [
        'archived generated column "arch"."a".t kept as a plain column',
        'dropped check a_tagged of archived "arch"."a" (it calls a function)',
        "archived column \"arch\".\"a\".m of type public.mood (enum: 'ok', 'sad') kept as text",
        "archived column \"arch\".\"a\".n of type public.mood (enum: 'ok', 'sad') kept as text",
        "archived column \"arch\".\"b\".m of type public.mood (enum: 'ok', 'sad') kept as text",
    ]
    conn.execute("DROP FUNCTION public.tag(public.mood)")
    conn.execute("DROP TYPE public.mood")  # nothing archived holds either any more
    assert conn.execute("SELECT id, m, n, t FROM arch.a ORDER BY id").fetchall() == [
        (1, "ok", "sad", "ok"),
        (2, "sad", "ok", "sad"),
    ]
    left = conn.execute(
        "SELECT count(*) FROM pg_constraint WHERE conrelid IN ('arch.a'::regclass, "
        "'arch.b'::regclass) AND contype = 'c'"
    ).fetchone()
    assert left == (0,)
    assert conn.execute("SELECT to_regclass('arch.a_pair_idx')").fetchone() == (None,)


def test_untyping_alone_leaves_functions_be(conn: psycopg.Connection[Any]) -> None:
    conn.execute("ALTER TABLE arch.a DROP CONSTRAINT a_tagged, DROP COLUMN t")

    notes = untype_columns(conn, _oids(conn)[1:])

    assert notes == [
        "archived column \"arch\".\"b\".m of type public.mood (enum: 'ok', 'sad') kept as text"
    ]
    kept = conn.execute(
        "SELECT format_type(atttypid, NULL) FROM pg_attribute "
        "WHERE attrelid = 'arch.a'::regclass AND attname = 'm'"
    ).fetchone()
    assert kept == ("mood",)
