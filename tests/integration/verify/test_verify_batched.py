"""A forward or a rollback sent as one simple-query batch fails exactly as when its statements
were sent in a pipeline: the same statement, message, file:line:column, context and code-body
flag, and the same verdict."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from verify_support import explain, statuses, write_project

from migration_rollback.sql import Statement, parse_script
from migration_rollback.verify import batch, catalog, pipelined, verify_project
from migration_rollback.verify.pipelined import TailError, run_statements

TABLE = "create table public.a (id int primary key);\n"

# One forward per failure shape (`public.` stands for a schema of its own); each fails on its
# third statement, or at its end.
SHAPES = {
    "an error without a position": TABLE + "create table public.b (id int);\n" + TABLE,
    "an error with a position": TABLE
    + "create table public.b (id int);\ncreate view public.v as\n  select nosuch from public.a;\n",
    "a position after characters of several bytes": "-- é, ü, 雪\n"
    + TABLE
    + "comment on table public.a is 'café';\ncreate view public.v as select ñ from public.a;\n",
    "a code body's error": TABLE
    + "create table public.b (id int);\n"
    + "create function public.f() returns int language plpgsql as $$\n"
    + "begin\n  retrun 1;\nend\n$$;\n",
    "a function's error at run time": TABLE
    + "create function public.g() returns int language plpgsql as $$\n"
    + "begin raise exception 'no' using errcode = 'P0001'; end $$;\n"
    + "create table public.b (id int default public.g());\n"
    + "insert into public.b values (default);\n",
    "a deferred check at the end": "create table public.p (id int primary key);\n"
    + "create table public.c (p int references public.p deferrable initially deferred);\n"
    + "insert into public.c values (1);\n",
    "a statement ending in a comment, then an error": TABLE.rstrip(";\n")
    + " -- the key\n;\ncreate table public.b (id int) -- b\n;\n"
    + "create table public.b (id int);\n",
    "a backslash (not batched)": TABLE
    + "comment on table public.a is E'a\\\\b';\ncreate table public.a (id int);\n",
}


def _outcomes(tmp_path: Path, shadow_url: str, rollbacks: bool) -> list[dict[str, Any]]:
    """Each shape as a forward (rollbacks False) or as a rollback of a forward that creates
    the shape's schema; the verdicts' JSON."""
    migrations = []
    for n, sql in enumerate(SHAPES.values()):
        schema, own = f"create schema s{n};\n", sql.replace("public.", f"s{n}.")
        if rollbacks:
            migrations.append((f"m{n}", schema, own))
        else:
            migrations.append((f"m{n}", schema + own, ""))
    pairs = write_project(tmp_path, migrations)
    results = verify_project(pairs, shadow_url)
    expected = "rollback_failed" if rollbacks else "forward_failed"
    assert statuses(results) == [expected] * len(SHAPES), explain(results)
    return [{**r.to_json(), "elapsed_ms": None} for r in results]


@pytest.mark.parametrize("rollbacks", [False, True], ids=["forwards", "rollbacks"])
def test_each_failure_shape_is_the_same_batched_or_pipelined(
    tmp_path: Path, shadow_url: str, monkeypatch: pytest.MonkeyPatch, rollbacks: bool
) -> None:
    sent: list[int] = []
    run = batch.run

    def counted(conn: psycopg.Connection[Any], commands: Any, then: Any = None) -> Any:
        if commands:  # a script's batch, not the verifier's reads alone
            sent.append(len(commands))
        return run(conn, commands, then)

    monkeypatch.setattr(batch, "run", counted)
    batched = _outcomes(tmp_path, shadow_url, rollbacks)
    assert len(sent) >= 4, "not batched"  # not: DML run alone, the backslash
    monkeypatch.setattr(pipelined, "_batch_lead", lambda *_: None)
    assert batched == _outcomes(tmp_path, shadow_url, rollbacks)
    located = {o["migration"].split("_", 1)[1]: o["location"] for o in batched}
    name, line = ("m{}_rollback.sql", 3) if rollbacks else ("m{}.sql", 4)
    assert located["m0"].endswith(f"{name.format(0)}:{line}:1")
    assert located["m1"].endswith(f"{name.format(1)}:{line + 1}:10")  # `nosuch`, in its statement
    assert located["m2"].endswith(f"{name.format(2)}:{line + 1}:28")  # `ñ`: characters, not bytes


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection[object]]:
    with psycopg.connect(database_url, autocommit=True) as connection:
        yield connection


def _statements(text: str) -> list[Statement]:
    return list(parse_script(text, "m.sql").statements)


def test_a_text_the_server_refuses_runs_again_statement_by_statement(
    conn: psycopg.Connection[object],
) -> None:
    """The server parses a batch whole before it runs any of it: a syntax only pglast knows
    (here: a misspelling put in after pglast parsed) fails the batch before the statement that
    fails first when each runs in turn. The pipeline then finds that one."""
    first, duplicate, last = _statements(TABLE + TABLE + "create table public.c (id int);\n")
    refused = dataclasses.replace(last, text="create tabel public.c (id int)")
    failed = run_statements(
        conn, [first, duplicate, refused], lambda st: False, lambda st: None,
        lead=("BEGIN",), rewind=(),
    )  # fmt: skip
    assert failed is not None
    assert failed.statement is duplicate
    assert failed.error.sqlstate == "42P07"
    conn.execute("ROLLBACK")


def test_inside_a_transaction_a_refused_text_is_rewound_to_the_savepoint(
    conn: psycopg.Connection[object],
) -> None:
    """A refusal aborts the open transaction: `rewind` goes back to the savepoint made before
    the batch, and the statements run again in a pipeline, the transaction's work kept."""
    conn.execute("BEGIN")
    conn.execute("create table public.kept (id int)")
    conn.execute("SAVEPOINT before_batch")
    first, duplicate, last = _statements(TABLE + TABLE + "create table public.c (id int);\n")
    refused = dataclasses.replace(last, text="create tabel public.c (id int)")
    failed = run_statements(
        conn, [first, duplicate, refused], lambda st: False, lambda st: None,
        lead=("RESET ALL",), rewind=("ROLLBACK TO SAVEPOINT before_batch",),
    )  # fmt: skip
    assert failed is not None
    assert failed.statement is duplicate
    conn.execute("ROLLBACK TO SAVEPOINT before_batch")
    assert conn.execute("SELECT to_regclass('public.kept') IS NOT NULL").fetchone() == (True,)
    conn.execute("ROLLBACK")


def test_the_tail_and_the_lead_fail_as_in_a_pipeline(conn: psycopg.Connection[object]) -> None:
    statements = _statements(SHAPES["a deferred check at the end"])
    with pytest.raises(TailError) as raised:
        run_statements(
            conn, statements, lambda st: False, lambda st: None,
            lead=("BEGIN",), tail=("SET CONSTRAINTS ALL IMMEDIATE",), rewind=("ROLLBACK",),
        )  # fmt: skip
    assert raised.value.error.sqlstate == "23503"
    conn.execute("ROLLBACK")
    with pytest.raises(psycopg.errors.UndefinedTable):
        run_statements(
            conn, statements, lambda st: False, lambda st: None,
            lead=("BEGIN", "DELETE FROM public.no_such_table"), rewind=("ROLLBACK",),
        )  # fmt: skip
    conn.execute("ROLLBACK")


def test_a_batch_reads_the_rows_of_each_command(conn: psycopg.Connection[object]) -> None:
    reads = batch.Batch(conn)  # type: ignore[arg-type]
    queued = [
        reads.execute(c)
        for c in ["SELECT 1, 'a', ARRAY[1, 2]", "SET search_path = public", "SELECT 2 -- end"]
    ]
    reads.send()
    assert [q.fetchall() for q in queued] == [[(1, "a", [1, 2])], [], [(2,)]]
    failing = batch.Batch(conn)  # type: ignore[arg-type]
    failing.execute("SELECT 1")
    failing.execute("SELECT nosuch")
    with pytest.raises(psycopg.errors.UndefinedColumn):
        failing.send()


def _same_batched_or_pipelined(
    tmp_path: Path,
    shadow_url: str,
    monkeypatch: pytest.MonkeyPatch,
    migrations: list[tuple[str, str, str]],
) -> list[dict[str, Any]]:
    """The verdicts' JSON when batched, asserted equal to the pipelined run's."""

    def outcomes() -> list[dict[str, Any]]:
        results = verify_project(write_project(tmp_path, migrations), shadow_url)
        return [{**r.to_json(), "elapsed_ms": None} for r in results]

    batched = outcomes()
    with monkeypatch.context() as patched:
        patched.setattr(pipelined, "_batch_lead", lambda *_: None)
        assert batched == outcomes()
    return batched


BODY = "create function public.{} returns int language {} as {};\n"
PLPGSQL_BODY = "$$\nbegin\n  x := 1;\n  return x;\nend\n$$"


@pytest.mark.parametrize(
    ("forward", "rollback", "status", "location"),
    [
        (  # the same body twice: the server cannot place the error by searching the text
            TABLE + BODY.format("f(x int)", "sql", "$$ select x $$")
            + BODY.format("g()", "sql", "$$ select x $$"),
            "drop table public.a;\n",
            "forward_failed",
            "m1.sql:3:66",
        ),
        (  # a PL/pgSQL body's error ("x" is not a known variable), the body written twice
            BODY.format("f()", "plpgsql", PLPGSQL_BODY)
            + BODY.format("g()", "plpgsql", PLPGSQL_BODY),
            "",
            "forward_failed",
            "m1.sql:3:",
        ),
        (  # the body's text in an unrelated COMMENT before it
            TABLE,
            "comment on table public.a is $$ select x $$;\n"
            + BODY.format("g()", "sql", "' select x '")
            + "drop table public.a;\n",
            "rollback_failed",
            "m1_rollback.sql:2:",
        ),
    ],
    ids=["same-body-twice", "plpgsql-unknown-variable", "body-in-a-comment"],
)  # fmt: skip
def test_a_code_bodys_error_is_placed_as_in_a_pipeline(
    tmp_path: Path,
    shadow_url: str,
    monkeypatch: pytest.MonkeyPatch,
    forward: str,
    rollback: str,
    status: str,
    location: str,
) -> None:
    (result,) = _same_batched_or_pipelined(
        tmp_path, shadow_url, monkeypatch, [("m1", forward, rollback)]
    )
    assert result["status"] == status, result
    assert location in result["location"], result


def test_a_setting_that_changes_how_the_rest_parses_is_refused_before_any_batch(
    tmp_path: Path, shadow_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server parses a batch under the settings in force when it arrives: a U& literal
    after `standard_conforming_strings = off` would pass in a batch, and fails alone. Such a
    rollback is refused as execute refuses it (sql/session_state.py), batched or not, before
    the shadow runs any of it (test_batchable.py: nor would it be batched)."""
    rollback = (
        "set standard_conforming_strings = off;\n"
        "comment on table public.t is U&'d0061t';\ndrop table public.t;\n"
    )
    migrations = [("m1", "create table public.t (id int);\n", rollback)]
    (result,) = _same_batched_or_pipelined(tmp_path, shadow_url, monkeypatch, migrations)
    assert result["status"] == "rollback_failed", result
    assert result["location"].endswith("m1_rollback.sql:1:1"), result
    assert result["message"].startswith("execute refuses it: "), result
    assert "standard_conforming_strings" in result["message"], result


GUARDS = {
    # the COMMENT would fail for the DROP VIEW after it
    "fails for another": "current_query() ~* 'drop\\s+view'",
    # the DROP VIEW would pass for the COMMENT before it (a failure hidden: verified)
    "passes for another": "tg_tag = 'DROP VIEW' and current_query() !~* 'confirmed'",
}


@pytest.mark.parametrize("condition", GUARDS.values(), ids=GUARDS.keys())
def test_no_batch_while_an_event_trigger_of_a_migration_is_enabled(
    tmp_path: Path, shadow_url: str, monkeypatch: pytest.MonkeyPatch, condition: str
) -> None:
    """An event trigger reading current_query() would see the whole batch."""
    guard = (
        "create function public.guard() returns event_trigger language plpgsql as $$\n"
        f"begin if {condition} then raise exception 'no drop view'; end if; end $$;\n"
        "create event trigger guard on ddl_command_start execute function public.guard();\n"
    )
    view = "create view public.v as select 1 as one;\n"
    migrations = [
        ("m1", guard, "drop event trigger guard;\ndrop function public.guard();\n"),
        ("m2", view, "comment on view public.v is 'confirmed';\ndrop view public.v;\n"),
    ]
    results = _same_batched_or_pipelined(tmp_path, shadow_url, monkeypatch, migrations)
    assert [r["status"] for r in results] == ["verified", "rollback_failed"], results
    assert results[1]["location"].endswith("m2_rollback.sql:2:1"), results[1]


def test_a_statement_prepared_before_a_failing_read_is_known(
    conn: psycopg.Connection[object],
) -> None:
    """PREPARE is not undone by a rollback: once it ran, a later batch EXECUTEs it (a second
    PREPARE would fail, 42P05), though a command after it failed."""
    query = "SELECT 41 + 1"
    failing = batch.Batch(conn)  # type: ignore[arg-type]
    catalog.execute(failing, query)
    failing.execute("SELECT nosuch")
    with pytest.raises(psycopg.errors.UndefinedColumn):
        failing.send()
    reads = batch.Batch(conn)  # type: ignore[arg-type]
    rows = catalog.execute(reads, query)
    reads.send()
    assert rows.fetchall() == [(42,)]
