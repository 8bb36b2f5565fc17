"""The vector stand-in against the real pgvector: every function it makes exists in pgvector
0.8.6 with the same signature. A function only the stand-in has is one a migration's
`ALTER FUNCTION` loop over `public` changes on the shadow, so the rollback writes an
`ALTER FUNCTION … RESET ALL` for it that fails on the real database (a real project:
"function public.halfvec_typmod_out(integer) does not exist").

`data/pgvector_0.8.6_functions.txt` lists pgvector 0.8.6's member functions as `regprocedure`
prints them with `search_path = public` (from `CREATE EXTENSION vector` on PostgreSQL 18).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from migration_rollback.verify.diff import Difference
from migration_rollback.verify.snapshot import ObjectId
from migration_rollback.verify.standins import standin
from migration_rollback.verify.stateful.members import STANDIN_MEMBER, member_repair

pytestmark = pytest.mark.integration

REAL = Path(__file__).parent / "data" / "pgvector_0.8.6_functions.txt"


@pytest.fixture
def conn(pg_server: object) -> Iterator[psycopg.Connection[tuple[str]]]:
    name = pg_server.create_database("standin_vector")  # type: ignore[attr-defined]
    try:
        url = pg_server.url_for(name)  # type: ignore[attr-defined]
        with psycopg.connect(url, autocommit=True) as connection:
            script = standin("vector")
            assert script is not None
            connection.execute(script.script("public").encode())
            connection.execute("set search_path = public")
            yield connection
    finally:
        pg_server.drop_database(name)  # type: ignore[attr-defined]


def test_every_function_is_pgvectors(conn: psycopg.Connection[tuple[str]]) -> None:
    rows = conn.execute(
        "select p.oid::regprocedure::text from pg_proc p"
        " where p.pronamespace = 'public'::regnamespace"
    ).fetchall()
    made = {r[0] for r in rows}
    real = set(REAL.read_text().split("\n")) - {""}
    assert len(made) > 40  # the stand-in did run
    assert sorted(made - real) == []


def test_every_pgvector_function_is_made(conn: psycopg.Connection[tuple[str]]) -> None:
    # a dump of a project keeping pgvector in public grants on each of them (0riva/oriva-platform
    # 20251010015852_remote_schema: "function public.array_to_halfvec(real[], integer,
    # boolean) does not exist")
    rows = conn.execute(
        "select p.oid::regprocedure::text from pg_proc p"
        " where p.pronamespace = 'public'::regnamespace"
    ).fetchall()
    real = set(REAL.read_text().split("\n")) - {""}
    assert sorted(real - {r[0] for r in rows}) == []


def test_aggregates_and_conversions_run(conn: psycopg.Connection[tuple[str]]) -> None:
    conn.execute("create table h (v vector(3), hv halfvec(3))")
    conn.execute("insert into h values ('[1,2,3]', '[1,2,3]')")
    row = conn.execute(
        "select (select count(*) from (select avg(v), sum(v), avg(hv), sum(hv) from h) s),"
        " (array[1,2,3]::real[])::halfvec is not null,"
        " ('[1,2,3]'::halfvec::sparsevec)::vector is not null,"
        " binary_quantize(v) <~> binary_quantize(v) from h"
    ).fetchone()
    assert row == (1, True, True, 0.0)


def test_type_modifier_prints_as_pgvectors(conn: psycopg.Connection[tuple[str]]) -> None:
    conn.execute("create table t (v vector(768), h halfvec(3), s sparsevec(5), n vector)")
    rows = conn.execute(
        "select format_type(atttypid, atttypmod) from pg_attribute"
        " where attrelid = 't'::regclass and attnum > 0 order by attnum"
    ).fetchall()
    assert [r[0] for r in rows] == ["vector(768)", "halfvec(3)", "sparsevec(5)", "vector"]


def _reset(identity: str) -> list[str]:
    """The repair of a member whose search_path a migration set (the stand-in had it)."""
    state = {"kind": "function", "identity": identity, "owner": "postgres", "config": None,
             "acl": None, "rest": ""}  # fmt: skip
    changed = {**state, "config": ["search_path=public"]}
    obj = ObjectId(STANDIN_MEMBER, f"function {identity} (extension vector)")
    diff = Difference(obj, "definition", json.dumps(state), json.dumps(changed))
    statements, _, failed = member_repair([diff], "postgres")
    assert statements, failed
    return statements


def test_repair_of_a_member_the_database_lacks_runs(
    conn: psycopg.Connection[tuple[str]],
) -> None:
    # a stand-in member the real extension lacks: the repair does nothing there, no error
    for statement in _reset("public.halfvec_typmod_out(integer)"):
        conn.execute(statement.encode())
    # one it has: the repair puts its settings back
    conn.execute("alter function public.vector_out(public.vector) set search_path = public")
    for statement in _reset("public.vector_out(public.vector)"):
        conn.execute(statement.encode())
    row = conn.execute(
        "select proconfig::text from pg_proc where oid = 'vector_out(vector)'::regprocedure"
    ).fetchone()
    assert row == (None,)
