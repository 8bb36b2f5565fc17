"""What the full snapshot must keep telling apart however it reads the catalogs, and the session
settings its reads change only while they run (JIT off: see verify/catalog.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from migration_rollback.verify import catalog
from migration_rollback.verify.diff import diff_objects
from migration_rollback.verify.snapshot import ObjectId, take_snapshot

SCHEMA = """
create schema d;
create collation d.ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
create table d.p (id int primary key, k int unique, t text, n numeric(10, 2), a int[], v text);
create table d.c (id int, p int, q int);
create index p_t on d.p (t);
create index p_k on d.p (k);
alter table d.c add constraint c_p foreign key (p) references d.p (id);
alter table d.c add constraint c_q check (q > 0);
"""

T, K = ObjectId("index", "d.p_t"), ObjectId("index", "d.p_k")
FK, CHECK = ObjectId("constraint", "d.c.c_p"), ObjectId("constraint", "d.c.c_q")
NEW_FK = "alter table d.c drop constraint c_p, add constraint c_p foreign key (p) references d.p"

# (what is changed, the object and attribute that must differ afterwards)
CHANGES: list[tuple[str, ObjectId, str]] = [
    ("drop index d.p_t; create index p_t on d.p (t text_pattern_ops)", T, "definition"),
    ('drop index d.p_t; create index p_t on d.p (t collate "C")', T, "definition"),
    ("drop index d.p_k; create index p_k on d.p (k desc)", K, "definition"),
    ("drop index d.p_k; create index p_k on d.p (k nulls first)", K, "definition"),
    ("drop index d.p_k; create index p_k on d.p (k) where k > 0", K, "definition"),
    ("drop index d.p_k; create index p_k on d.p ((k + 1))", K, "definition"),
    ("drop index d.p_k; create index p_k on d.p (k) include (t)", K, "definition"),
    ("drop index d.p_k; create index p_k on d.p using hash (k)", K, "definition"),
    (f"{NEW_FK} on delete cascade", FK, "definition"),
    (f"{NEW_FK} deferrable initially deferred", FK, "definition"),
    (f"{NEW_FK} not valid", FK, "definition"),
    (f"{NEW_FK} match full", FK, "definition"),
    ("alter table d.c drop constraint c_q, add constraint c_q check (q > 0) not valid",
     CHECK, "definition"),
    ("alter table d.p alter column n type numeric(12, 2)", ObjectId("column", "d.p.n"), "type"),
    # (declared array dimensions are not part of a type: int[][] is int[], as pg_dump has it)
    ("alter table d.p alter column a type bigint[]", ObjectId("column", "d.p.a"), "type"),
    ('alter table d.p alter column v type text collate "C"', ObjectId("column", "d.p.v"),
     "collation"),
    ("alter table d.p alter column v type text collate d.ci", ObjectId("column", "d.p.v"),
     "collation"),
]  # fmt: skip


@pytest.fixture(scope="module")
def conn(pg_server: Any) -> Iterator[psycopg.Connection[Any]]:
    name = pg_server.create_database("snapdetail")
    try:
        with psycopg.connect(pg_server.url_for(name), autocommit=True) as c:
            c.execute(SCHEMA)
        with psycopg.connect(pg_server.url_for(name), autocommit=True, prepare_threshold=None) as c:
            yield c
    finally:
        pg_server.drop_database(name)


@pytest.mark.parametrize(("change", "changed", "attribute"), CHANGES)
def test_a_change_of_one_detail_is_a_difference(
    conn: psycopg.Connection[Any], change: str, changed: ObjectId, attribute: str
) -> None:
    before = take_snapshot(conn)
    conn.execute("begin")
    try:
        conn.execute(change)
        after = take_snapshot(conn)
    finally:
        conn.execute("rollback")
    found = {(d.object, d.attribute) for d in diff_objects(before.objects, after.objects)}
    assert (changed, attribute) in found, sorted(map(str, found))


def test_a_read_turns_jit_off_and_puts_it_back(conn: psycopg.Connection[Any]) -> None:
    conn.execute("set jit = on")
    with catalog.reading(conn):
        during = conn.execute("show jit")
    assert during.fetchone() == ("off",)
    assert conn.execute("show jit").fetchone() == ("on",)
    take_snapshot(conn)
    assert conn.execute("show jit").fetchone() == ("on",)
    conn.execute("reset jit")


# Indexes behind primary keys and unique constraints, in every shape the snapshot must print as
# pg_get_indexdef does (most are read from their constraint's definition: see relation_kinds).
SHAPES = """
create schema "Sh ape";
create table "Sh ape".a (id int primary key, v varchar(10) unique, t text collate "C" unique);
alter table "Sh ape".a rename column id to "Id 2";
alter index "Sh ape".a_pkey rename to "A pk";
create table "Sh ape"."Mixed" ("Weird Col" text, b varchar(10), primary key ("Weird Col", b));
create table "Sh ape".u (a int, b int, c int, d int, unique (a, b) include (c),
  constraint u_ff unique (c) with (fillfactor = 70), constraint u_def unique (d) deferrable);
create table "Sh ape".u2 (a int);
create unique index u2_a_idx on "Sh ape".u2 (a);
alter table "Sh ape".u2 add constraint u2_a unique using index u2_a_idx;
create table "Sh ape".p (id int, k int, primary key (id, k)) partition by range (k);
create table "Sh ape".p1 partition of "Sh ape".p for values from (0) to (10);
create table "Sh ape".x (r int4range, exclude using gist (r with &&));
"""


def test_indexes_print_as_pg_get_indexdef(conn: psycopg.Connection[Any]) -> None:
    conn.execute("begin")
    try:
        conn.execute(SHAPES)
        if conn.info.server_version >= 150000:
            conn.execute('alter table "Sh ape".u2 add unique nulls not distinct (a)')
        snap = take_snapshot(conn)
        conn.execute("set local search_path = pg_catalog")
        expected = dict(
            conn.execute(
                "select quote_ident(n.nspname) || '.' || quote_ident(c.relname), "
                "pg_get_indexdef(c.oid) from pg_class c join pg_namespace n "
                "on n.oid = c.relnamespace where n.nspname = 'Sh ape' and c.relkind in ('i', 'I')"
            ).fetchall()
        )
    finally:
        conn.execute("rollback")
    ours = {o.id.name: o.get("definition") for o in snap.of_kind("index")}
    assert len(expected) >= 11  # (12 from PostgreSQL 15)
    assert {name: ours.get(name) for name in expected} == expected
