"""Which writes of a DO block `apply` can keep before the block runs (read, not run)."""

from __future__ import annotations

import pytest

from migration_rollback.runner.capture_blocks import block_writes
from migration_rollback.runner.capture_plan import CaptureKind, capture_specs
from migration_rollback.sql import parse_script


def _kept(body: str) -> list[tuple[tuple[str, ...], str | None]]:
    found = block_writes(body)
    assert not isinstance(found, str), found
    return [(w.table, w.manual) for w in found]


def test_constant_execute_and_static_statements_are_kept() -> None:
    body = (
        "BEGIN IF EXISTS (SELECT 1 FROM information_schema.tables WHERE table_name = 't') THEN"
        " EXECUTE 'DELETE FROM t WHERE unit_id NOT IN (SELECT id FROM units)'; END IF;"
        " UPDATE public.m SET d = coalesce(d, lower(k)) WHERE d IS NULL; END"
    )
    assert _kept(body) == [(("t",), None), (("public", "m"), None)]


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (  # achan24 20240621000003: the WHERE reads a variable assigned in the block
            "DECLARE uid uuid; BEGIN SELECT id INTO uid FROM users LIMIT 1;"
            " UPDATE characters SET level = 1 WHERE owner = uid; END",
            "variable uid",
        ),
        (  # curiousanthony 20260319140000: an UPDATE per row of a loop
            "DECLARE fa record; BEGIN FOR fa IN SELECT id FROM a LOOP"
            " UPDATE b SET x = 1 WHERE b.k = 2; END LOOP; END",
            "loop",
        ),
        ("BEGIN UPDATE t SET a = 1 WHERE b < clock_timestamp(); END", "volatile"),
        (  # ahsandevhub 0064: the second UPDATE's WHERE reads what the first one set
            "BEGIN UPDATE m SET s = 1 WHERE s IS NULL; UPDATE m SET e = 2 WHERE e IS NULL; END",
            "another write of the block changes m",
        ),
        ("BEGIN UPDATE a SET x = 1; DELETE FROM b WHERE y IN (SELECT x FROM a); END", "changes a"),
        ("BEGIN INSERT INTO t VALUES (1); END", "INSERT in a DO block"),
        # dynamic queries of other statements are read as EXECUTE, not as a string SELECTed
        (
            "DECLARE r record; BEGIN FOR r IN EXECUTE 'DELETE FROM b RETURNING id' LOOP"
            " END LOOP; END",
            "loop",
        ),
        # a write in a WITH of a read-only statement, and in one of a kept write
        (
            "DECLARE n int; BEGIN WITH d AS (DELETE FROM b RETURNING id)"
            " SELECT count(*) INTO n FROM d; END",
            "DELETE inside another statement",
        ),
        (
            "BEGIN WITH d AS (DELETE FROM b RETURNING id) UPDATE t SET a = 1 WHERE a = 2; END",
            "DELETE inside another statement",
        ),
    ],
)
def test_writes_whose_rows_are_known_only_when_they_run_are_reasons(body: str, why: str) -> None:
    reasons = [m for _, m in _kept(body)]
    assert any(m and why in m for m in reasons), reasons


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("BEGIN EXECUTE format('DELETE FROM %I', 't'); END", "computed string"),
        ("BEGIN UPDATE t SET a = 1 WHERE b < random(); END", "calls random()"),
        ("DECLARE q text := 'x'; BEGIN EXECUTE q; END", "computed string"),
        ("BEGIN ALTER TABLE t ADD COLUMN c int; UPDATE t SET c = 1; END", "changes the schema"),
        ("BEGIN PERFORM public.refresh_all(); END", "calls public.refresh_all()"),
        # a user function named like a built-in is not the built-in
        ("BEGIN UPDATE t SET a = myschema.lower(b) WHERE b > 0; END", "calls myschema.lower()"),
        ("BEGIN CALL p(); END", "procedure"),
        ("DECLARE c refcursor; BEGIN OPEN c FOR EXECUTE format('x'); END", "computed string"),
        ("DECLARE c refcursor; BEGIN OPEN c FOR EXECUTE 'DELET'; END", "does not parse"),
        ("BEGIN SET search_path = other; UPDATE t SET a = 1 WHERE a = 2; END", "SETs or RESETs"),
        ("BEGIN SET LOCAL search_path = other; DELETE FROM t WHERE a = 2; END", "SETs or"),
        ("BEGIN RESET search_path; DELETE FROM t WHERE a = 2; END", "SETs or RESETs"),
    ],
)
def test_blocks_that_cannot_be_read_say_why(body: str, why: str) -> None:
    found = block_writes(body)
    assert isinstance(found, str)
    assert why in found


def test_a_cursor_opened_on_a_constant_write_is_that_write() -> None:
    body = "DECLARE c refcursor; BEGIN OPEN c FOR EXECUTE 'DELETE FROM b WHERE x = 1'; END"
    assert _kept(body) == [(("b",), None)]


def test_do_block_specs_are_the_statements_own() -> None:
    statement = parse_script(
        "DO $$ BEGIN EXECUTE 'UPDATE public.t AS x SET a = 1 WHERE x.b > 0'; END $$;"
    ).statements[0]
    (spec,) = capture_specs(statement)
    assert spec.kind is CaptureKind.UPDATE
    assert spec.manual is None
    assert spec.where_sql == "x.b > 0"
    assert spec.in_block


def test_a_do_block_that_writes_nothing_keeps_nothing() -> None:
    statement = parse_script(
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'e') THEN"
        " CREATE TYPE e AS ENUM ('a'); END IF; END $$;"
    ).statements[0]
    assert capture_specs(statement) == []
