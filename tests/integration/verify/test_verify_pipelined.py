"""Statements sent in pipelines fail, succeed and interleave exactly as when sent one by one."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from migration_rollback.sql import Statement, parse_script
from migration_rollback.verify.pipelined import TailError, run_statements
from migration_rollback.verify.standins.install import Platform

SCRIPT = (
    "create table a (id int);\n"
    "create table b (id int);\n"
    "create table a (id int);\n"  # already exists: the third statement fails
    "create table c (id int);\n"
)


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection[object]]:
    with psycopg.connect(database_url, autocommit=True) as connection:
        yield connection


def _statements(text: str) -> list[Statement]:
    return list(parse_script(text, "m.sql").statements)


def _tables(conn: psycopg.Connection[object]) -> list[str]:
    rows = conn.execute(
        "SELECT relname::text FROM pg_class WHERE relnamespace = 'public'::regnamespace "
        "AND relkind = 'r' ORDER BY 1"
    ).fetchall()
    return [str(r[0]) for r in rows]


def test_in_a_transaction_the_failing_statement_is_named(conn: psycopg.Connection[object]) -> None:
    statements = _statements(SCRIPT)
    conn.execute("BEGIN")
    failed = run_statements(conn, statements, lambda st: False, lambda st: None)
    assert failed is not None
    st, exc, _ = failed
    assert st is statements[2]
    assert exc.sqlstate == "42P07"
    conn.execute("ROLLBACK")
    assert _tables(conn) == []


def test_in_a_transaction_all_run_when_none_fails(conn: psycopg.Connection[object]) -> None:
    statements = _statements(
        SCRIPT.replace("create table a (id int);\ncreate table c", "create table c")
    )
    conn.execute("BEGIN")
    assert run_statements(conn, statements, lambda st: False, lambda st: None) is None
    conn.execute("COMMIT")
    assert _tables(conn) == ["a", "b", "c"]


def test_outside_a_transaction_each_statement_stands_alone(
    conn: psycopg.Connection[object],
) -> None:
    failed = run_statements(conn, _statements(SCRIPT), lambda st: False, lambda st: None)
    assert failed is not None
    assert failed[1].sqlstate == "42P07"
    assert _tables(conn) == ["a", "b"]  # committed one by one, as before: no implicit batch


def test_statements_run_alone_keep_their_place(conn: psycopg.Connection[object]) -> None:
    statements = _statements(
        "create table a (id int);\n"
        "insert into a values (1);\n"  # run alone: needs the table the pipeline created
        "create table b as select * from a;\n"
        "insert into b values (2);\n"
    )
    order: list[str] = []

    def run_alone(st: Statement) -> None:
        order.append(st.text)
        conn.execute(st.text, prepare=False)

    conn.execute("BEGIN")
    failed = run_statements(conn, statements, lambda st: st.kind == "InsertStmt", run_alone)
    assert failed is None
    conn.execute("COMMIT")
    assert order == ["insert into a values (1)", "insert into b values (2)"]
    assert conn.execute("SELECT array_agg(id ORDER BY id) FROM b").fetchone() == ([1, 2],)


def test_an_error_of_a_statement_run_alone_is_its_own(conn: psycopg.Connection[object]) -> None:
    statements = _statements("create table a (id int);\ninsert into missing values (1);\n")

    def run_alone(st: Statement) -> None:
        conn.execute(st.text, prepare=False)

    conn.execute("BEGIN")
    failed = run_statements(conn, statements, lambda st: st.kind == "InsertStmt", run_alone)
    assert failed is not None
    assert failed[0] is statements[1]
    assert failed[1].sqlstate == "42P01"
    conn.execute("ROLLBACK")


def test_the_lead_opens_the_transaction_in_the_first_send(
    conn: psycopg.Connection[object],
) -> None:
    """BEGIN sent with the statements: a failure is still the statement's, and undone whole."""
    statements = _statements(SCRIPT)
    failed = run_statements(conn, statements, lambda st: False, lambda st: None, lead=("BEGIN",))
    assert failed is not None
    assert failed[0] is statements[2]
    assert failed[1].sqlstate == "42P07"
    conn.execute("ROLLBACK")
    assert _tables(conn) == []


def test_a_read_in_the_lead_sees_the_state_before_the_statements(
    conn: psycopg.Connection[object],
) -> None:
    """A read the caller queues in the lead (the stand-ins' member state, roundtrip.py) runs
    before the statements, in their round trip; a failure is still the statement's."""
    conn.execute("create table z (id int)")
    statements = _statements(SCRIPT)
    read: list[psycopg.Cursor[object]] = []

    def tables_now(c: psycopg.Connection[object]) -> psycopg.Cursor[object]:
        read.append(c.execute("SELECT count(*) FROM pg_class WHERE relname IN ('a', 'z')"))
        return read[0]

    lead = ("BEGIN", tables_now)
    failed = run_statements(conn, statements, lambda st: False, lambda st: None, lead=lead)
    assert failed is not None
    assert failed[0] is statements[2]
    assert read[0].fetchone() == (1,)  # z only: read before `create table a`
    conn.execute("ROLLBACK")
    assert _tables(conn) == ["z"]


def test_the_lead_goes_before_a_first_statement_run_alone(
    conn: psycopg.Connection[object],
) -> None:
    statements = _statements("create table a (id int);\ncreate table b (id int);\n")

    def run_alone(st: Statement) -> None:  # only inside the transaction the lead opened
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        conn.execute(st.text, prepare=False)

    lead = ("BEGIN",)
    assert run_statements(conn, statements, lambda st: True, run_alone, lead=lead) is None
    conn.execute("ROLLBACK")
    assert _tables(conn) == []


def test_a_tail_failure_is_raised_after_every_statement_ran(
    conn: psycopg.Connection[object],
) -> None:
    """SET CONSTRAINTS ALL IMMEDIATE in the tail: the deferred check fails there, not in a
    statement of the script."""
    statements = _statements(
        "create table p (id int primary key);\n"
        "create table c (p int references p deferrable initially deferred);\n"
        "insert into c values (1);\n"
    )
    with pytest.raises(TailError) as raised:
        run_statements(
            conn, statements, lambda st: False, lambda st: None,
            lead=("BEGIN",), tail=("SET CONSTRAINTS ALL IMMEDIATE",),
        )  # fmt: skip
    assert raised.value.error.sqlstate == "23503"
    conn.execute("ROLLBACK")
    assert _tables(conn) == []


def test_only_plain_sql_may_join_a_pipeline(conn: psycopg.Connection[object]) -> None:
    """What the stand-ins must decide on is run alone; plain SQL and built-in indexes are not."""
    platform = Platform(conn)
    plain = _statements(
        "create table t (v text);\n"
        "create index on t (v);\n"
        "create index on t using gin (v gin_trgm_ops);\n"
        "alter extension plpgsql update;\n"
    )
    special = _statements(
        "create extension if not exists pgcrypto;\n"
        "create index on t using hnsw (v);\n"
        "alter extension no_such_extension update;\n"
    )
    assert [platform.plain(st) for st in plain] == [True, True, True, True]
    assert [platform.plain(st) for st in special] == [False, False, False]
