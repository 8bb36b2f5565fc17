"""The verifier's bookkeeping statements are prepared once, with the plans made while the schema
held little more than the baseline; they must reach what they look up through indexes, or they
cost more at every migration as the replay grows the schema (O(N^2) over a project).

Each commit of a round trip keeps `pg_temp._mr_refs` in step with the model: it removes the
refs of the objects the migration replaced. The table is temporary, so never vacuumed nor
analyzed: the upserts' dead rows grow with the replay, and the prepared removal kept the plan
it was given while the table held the baseline's few hundred refs, a scan of every row (0.5 ms
a commit after 300 migrations). It must reach the refs through the key's index."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from migration_rollback.verify import capture
from migration_rollback.verify.baseline import load_baseline
from migration_rollback.verify.batch import Batch
from migration_rollback.verify.snapshot import kinds_for
from migration_rollback.verify.snapshot.objects import SnapshotObject, identity, make_object
from migration_rollback.verify.snapshot.relation_kinds import PARTITION_PARENT

pytestmark = pytest.mark.integration


def _objects(first: int, count: int) -> list[SnapshotObject]:
    return [
        make_object(identity("table", f"public.t{k}"), {}, None, {}, f"pg_class:{k}", f"rel:{k}")
        for k in range(first, first + count)
    ]


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(database_url, autocommit=True, prepare_threshold=None) as c:
        capture.attach(c)
        reset = Batch(c)
        capture.queue_refs_reset(reset, _objects(0, 400))  # the baseline's, at open
        reset.send()
        c.execute("ANALYZE")  # as the baseline's load ends: the planner knows a small table
        for k in range(40):  # commits: the plan theirs while it is small, then dead rows
            grow = Batch(c)
            grow.execute("BEGIN")
            upserted = _objects(k, 2) if k < 10 else _objects(0, 100 * k)
            capture.queue_refs_update(grow, [f"pg_class:{k}"], upserted)
            grow.execute("COMMIT")
            grow.send()
        yield c


def _plans(conn: psycopg.Connection[Any]) -> list[str]:
    """The plans of what runs next on the session, as notices (auto_explain)."""
    notices: list[str] = []
    conn.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
    conn.execute("LOAD 'auto_explain'")
    conn.execute("SET auto_explain.log_min_duration = 0")
    conn.execute("SET auto_explain.log_level = notice")
    conn.execute("SET auto_explain.log_nested_statements = on")
    return notices


def test_a_commit_removes_refs_through_the_key_index(conn: psycopg.Connection[Any]) -> None:
    notices = _plans(conn)
    removed = [f"pg_class:{k}" for k in range(7, 19)]
    commit = Batch(conn)
    commit.execute("BEGIN")
    capture.queue_refs_update(commit, removed, _objects(7, 2))
    commit.execute("COMMIT")
    commit.send()
    deletes = [n for n in notices if "Delete on _mr_refs" in n]
    assert deletes, notices
    assert all("Seq Scan" not in plan and "_mr_refs_pkey" in plan for plan in deletes), deletes
    left = conn.execute("SELECT count(*) FROM pg_temp._mr_refs WHERE ref = ANY(%s)", [removed])
    assert left.fetchone() == (2,)  # the two upserted again after the removal
    setting = conn.execute("SELECT pg_catalog.current_setting('enable_seqscan')").fetchone()
    assert setting == ("on",)  # set for the commit's transaction only


def test_the_refs_upserted_are_the_models(conn: psycopg.Connection[Any]) -> None:
    """Each ref row as `_ref_row` writes it: a family's OID, a group's label (no OID), a
    partition's parent, names outside ASCII; an upsert replaces the row of a ref kept."""
    parent = {PARTITION_PARENT: "4294967295"}
    part = make_object(identity("table", "public.é"), {}, None, parent, "pg_class:é5", "rel:5")
    group = make_object(identity("schema", "public"), {}, None, {}, "pg_namespace:9", "schema")
    upsert = Batch(conn)
    capture.queue_refs_update(upsert, [], [part, group])
    upsert.send()
    rows = conn.execute(
        "SELECT ref, category, oid, name FROM pg_temp._mr_refs"
        " WHERE ref IN ('pg_class:é5', 'pg_namespace:9') ORDER BY ref"
    ).fetchall()
    assert rows == [
        ("pg_class:é5", "rel", 5, "4294967295"),
        ("pg_namespace:9", "group", None, "schema"),
    ]


# Catalogs with rows per table, column or function: scanning one whole is O(schema).
LARGE = (
    "pg_class", "pg_attribute", "pg_attrdef", "pg_constraint", "pg_index", "pg_proc",
    "pg_type", "pg_depend", "pg_description", "pg_trigger", "pg_policy", "pg_rewrite",
    "_mr_refs",
)  # fmt: skip


@pytest.fixture
def baseline(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    """The baseline alone, analyzed, with the capture installed: what the first check sees."""
    with psycopg.connect(database_url, autocommit=True, prepare_threshold=None) as c:
        load_baseline(c)
        assert capture.install(c)
        c.execute("ANALYZE")
        yield c


def test_the_scoped_check_reaches_catalogs_and_refs_by_index(
    baseline: psycopg.Connection[Any],
) -> None:
    conn = baseline
    notices = _plans(conn)
    conn.execute("BEGIN")
    conn.execute("CREATE TABLE public.t (id int PRIMARY KEY CHECK (id > 0), v text DEFAULT 'x')")
    conn.execute("CREATE POLICY p ON public.t USING (true)")
    conn.execute("DROP TABLE public.t")  # the dropped objects are found through the refs
    conn.execute("SET search_path = public, extensions")
    reads = Batch(conn)  # no settings around it: the check's function sets its own
    pending = capture.queue_check(reads, [])
    reads.send()
    pending.collect()
    check = [n for n in notices if "on _mr_scope" in n]  # (not the settings' SELECTs)
    assert len([n for n in check if "Insert on _mr_scope" in n]) == 1, notices
    # the fill, then each kind's probe and the queries of those in scope (PL/pgSQL: nested)
    # the fill, then every kind's probe in one statement, and the queries of those in scope
    # (PL/pgSQL: nested)
    probes = [n for n in check if "mr_probed := ARRAY[" in n]
    assert len(probes) == 1, notices
    assert probes[0].count("EXISTS (") >= len(kinds_for(conn.info.server_version)), probes
    for plan in check:  # the fill, then the scoped read
        assert sorted(set(re.findall(r"Seq Scan on (\w+)", plan)) & set(LARGE)) == [], plan
    settings = "SELECT current_setting('enable_seqscan'), current_setting('search_path')"
    # the session's own, for what the transaction runs next
    assert conn.execute(settings).fetchone() == ("on", "public, extensions")
    conn.execute("ROLLBACK")
