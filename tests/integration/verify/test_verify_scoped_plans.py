"""A scoped check costs what the migration touched, not the size of the schema.

Its reads run with cached generic plans (PL/pgSQL's, in snapshot/scoped.py's function), made
whatever the catalogs held then. Filtered with `oid = ANY(...)`, those plans scanned pg_class
(once per schema) and pg_attribute whole at every check, so a replay of N migrations cost
O(N²). Each kind's read, and the probe that decides whether it runs, starts from the scope's
OIDs; its plan must reach every large catalog through an index. A kind the function skips must
have had nothing to read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from migration_rollback.verify import capture
from migration_rollback.verify.baseline import load_baseline
from migration_rollback.verify.snapshot import kinds_for
from migration_rollback.verify.snapshot.scoped import READ_SQL, kind_query, probe

pytestmark = pytest.mark.integration

# Catalogs with rows per table, column or function: scanning one whole is O(schema).
LARGE = (
    "pg_class", "pg_attribute", "pg_attrdef", "pg_constraint", "pg_index", "pg_proc",
    "pg_type", "pg_depend", "pg_description", "pg_trigger", "pg_policy", "pg_rewrite",
)  # fmt: skip
TABLES = 150


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(database_url, autocommit=True) as c:
        load_baseline(c)
        c.execute("create table public.t0 (id bigint generated always as identity primary key)")
        for k in range(1, TABLES):
            c.execute(
                f"create table public.t{k} (id bigint generated always as identity primary key,"
                f" v text default 'x' check (v <> ''), w bigint references public.t0 (id))"
            )
            c.execute(f"comment on table public.t{k} is 'table {k}'")
            c.execute(f"create index t{k}_idx on public.t{k} (w)")
            c.execute(f"create policy t{k}_read on public.t{k} for select using (w > 0)")
        assert capture.install(c)
        c.execute("BEGIN")  # the scope lasts as long as the transaction, as in a round trip
        c.execute("INSERT INTO pg_temp._mr_scope VALUES ('rel', 'public.t7'::regclass, NULL)")
        c.execute("SET search_path = pg_catalog; SET plan_cache_mode = force_generic_plan")
        yield c


def test_every_scoped_read_reaches_large_catalogs_by_index(conn: psycopg.Connection[Any]) -> None:
    kinds = kinds_for(conn.info.server_version)
    queries = {kind.label: kind_query(n, kind) for n, kind in enumerate(kinds)}
    queries |= {f"probe of {kind.label}": f"SELECT {probe(kind)}" for kind in kinds}
    scanned = {}
    for n, (label, query) in enumerate(queries.items()):
        conn.execute(f"PREPARE scoped_{n} AS {query}")
        plan = "\n".join(r[0] for r in conn.execute(f"EXPLAIN EXECUTE scoped_{n}"))
        scanned[label] = sorted(c for c in re.findall(r"Seq Scan on (\w+)", plan) if c in LARGE)
    assert len(scanned) == 2 * len(kinds)
    assert scanned == {label: [] for label in scanned}


def _read(conn: psycopg.Connection[Any]) -> list[tuple[int, str]]:
    return [(int(k), str(j)) for k, j in conn.execute(READ_SQL)]


def test_the_scoped_read_finds_the_tables_family(conn: psycopg.Connection[Any]) -> None:
    texts = [text for _, text in _read(conn)]
    assert len([t for t in texts if '"k":"column"' in t]) == 3, texts
    assert any('"i":"public.t7_idx"' in t for t in texts)
    assert all("public.t7" in t for t in texts), texts


def _every_kind(conn: psycopg.Connection[Any]) -> list[tuple[int, str]]:
    """What each kind's query returns, run whatever its probe says."""
    kinds = kinds_for(conn.info.server_version)
    return [
        (int(k), str(j))
        for n, kind in enumerate(kinds)
        for k, j in conn.execute(kind_query(n, kind))
    ]


SCOPES = {
    "a table's family": "('rel', 'public.t7'::regclass, NULL)",
    "a relation that is gone": "('rel', 4000000000, NULL)",
    "a domain's constraints and a function": (
        "('type', 'public.positive'::regtype, NULL), "
        "('func', 'public.f(integer)'::regprocedure, NULL)"
    ),
    "kinds read whole": "('group', NULL, 'schema'), ('group', NULL, 'event trigger')",
    "nothing": None,
}


@pytest.mark.parametrize("scope", SCOPES.values(), ids=list(SCOPES))
def test_a_kind_skipped_by_its_probe_had_nothing_to_read(
    conn: psycopg.Connection[Any], scope: str | None
) -> None:
    """The function runs a kind's query only when its probe finds a row in scope: it returns
    what every kind's query returns, the kinds in the same order."""
    conn.execute("DELETE FROM pg_temp._mr_scope")
    conn.execute(
        "CREATE DOMAIN public.positive AS integer CONSTRAINT positive_check CHECK (VALUE > 0)"
    )
    conn.execute("CREATE FUNCTION public.f(integer) RETURNS integer LANGUAGE sql AS 'SELECT 1'")
    if scope is not None:
        conn.execute(f"INSERT INTO pg_temp._mr_scope VALUES {scope}")
    expected = _every_kind(conn)
    assert _read(conn) == expected
    assert expected or scope in (None, SCOPES["a relation that is gone"])
