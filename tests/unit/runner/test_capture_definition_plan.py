"""Which definitions `apply` keeps before a statement, read from the parse tree alone."""

from __future__ import annotations

import pytest

from migration_rollback.runner.capture_definition_plan import definition_specs, planned_captures
from migration_rollback.runner.capture_plan import CaptureKind
from migration_rollback.sql import parse_script


def _specs(text: str):  # type: ignore[no-untyped-def]
    return definition_specs(parse_script(text).statements[0])


def test_dropped_trigger_and_policy_keep_their_name_and_table() -> None:
    (trigger,) = _specs("DROP TRIGGER IF EXISTS t ON public.x")
    (policy,) = _specs('DROP POLICY "Read all" ON x')
    assert (trigger.kind, trigger.table, trigger.name) == (
        CaptureKind.DROP_TRIGGER,
        ("public", "x"),
        "t",
    )
    assert (policy.kind, policy.table, policy.name) == (CaptureKind.DROP_POLICY, ("x",), "Read all")
    assert trigger.manual is None
    assert policy.manual is None


def test_dropped_routines_keep_their_identity_arguments() -> None:
    specs = _specs("DROP FUNCTION IF EXISTS a.f(int, VARIADIC text[]), g; ")
    assert [(s.kind, s.table, s.arguments) for s in specs] == [
        (CaptureKind.DROP_ROUTINE, ("a", "f"), ("integer", "text[]")),
        (CaptureKind.DROP_ROUTINE, ("g",), None),  # no list: the name alone, as DROP resolves it
    ]
    (procedure,) = _specs("DROP PROCEDURE p()")
    assert (procedure.kind, procedure.arguments) == (CaptureKind.DROP_ROUTINE, ())


def test_create_or_replace_function_keeps_its_input_types_only() -> None:
    (spec,) = _specs(
        "CREATE OR REPLACE FUNCTION f(a int, OUT b text, INOUT c bigint) RETURNS record "
        "LANGUAGE sql AS $$ SELECT 'x', 1::bigint $$"
    )
    assert (spec.kind, spec.table, spec.arguments) == (
        CaptureKind.REPLACE_ROUTINE,
        ("f",),
        ("integer", "bigint"),
    )


def test_create_or_replace_trigger_is_kept() -> None:
    (spec,) = _specs(
        "CREATE OR REPLACE TRIGGER t BEFORE UPDATE ON s.x FOR EACH ROW EXECUTE FUNCTION f()"
    )
    assert (spec.kind, spec.table, spec.name) == (CaptureKind.REPLACE_TRIGGER, ("s", "x"), "t")


def test_dropped_index_keeps_its_name_as_written() -> None:
    specs = _specs("DROP INDEX IF EXISTS public.i, j")
    assert [(s.kind, s.table) for s in specs] == [
        (CaptureKind.DROP_INDEX, ("public", "i")),
        (CaptureKind.DROP_INDEX, ("j",)),
    ]


def test_dropped_view_is_kept_by_name_not_a_materialized_one() -> None:
    (spec,) = _specs("DROP VIEW IF EXISTS s.v")
    assert (spec.kind, spec.table) == (CaptureKind.DROP_VIEW, ("s", "v"))
    assert _specs("DROP MATERIALIZED VIEW s.m") == []


@pytest.mark.parametrize(
    "text", ["DROP FUNCTION f(int) CASCADE", "DROP INDEX i CASCADE", "DROP VIEW v CASCADE"]
)
def test_drop_cascade_of_what_others_use_is_a_reason_not_a_capture(text: str) -> None:
    (spec,) = _specs(text)
    assert spec.manual is not None
    assert "CASCADE" in spec.manual


def test_drop_trigger_cascade_is_kept() -> None:
    (trigger,) = _specs("DROP TRIGGER t ON x CASCADE")  # nothing depends on a trigger
    assert trigger.manual is None


@pytest.mark.parametrize(
    "text",
    [
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$",  # not OR REPLACE
        "CREATE TRIGGER t BEFORE UPDATE ON x FOR EACH ROW EXECUTE FUNCTION f()",
        "DROP TABLE x",
        "DROP INDEX CONCURRENTLY i",  # runs after COMMIT, outside the capture's transaction
        "UPDATE x SET a = 1",
    ],
)
def test_statements_that_replace_no_definition_keep_none(text: str) -> None:
    assert _specs(text) == []


def test_planned_captures_put_rows_before_definitions() -> None:
    def kinds(text: str) -> list[CaptureKind]:
        return [s.kind for s in planned_captures(parse_script(text).statements[0])]

    assert kinds("DROP TABLE x") == [CaptureKind.DROP_TABLE]
    assert kinds("DROP TRIGGER t ON x") == [CaptureKind.DROP_TRIGGER]
    assert CaptureKind.DROP_POLICY.keeps_definition
    assert not CaptureKind.DROP_POLICY.needs_key
    assert not CaptureKind.UPDATE.keeps_definition


def test_a_routine_with_a_copied_type_is_not_looked_up() -> None:
    """`t.c%TYPE` is no type name to_regtype reads (a syntax error before PostgreSQL 16, NULL
    since: the routine would be taken for absent, and its MANUAL item answered by nothing)."""
    (dropped,) = _specs("DROP FUNCTION f(public.t.c%TYPE)")
    (replaced,) = _specs(
        "CREATE OR REPLACE FUNCTION f(x public.t.c%TYPE) RETURNS int LANGUAGE sql AS 'select 1'"
    )
    assert dropped.manual is not None
    assert "%TYPE" in dropped.manual
    assert replaced.manual == dropped.manual


def test_a_procedure_is_looked_up_with_its_out_arguments() -> None:
    (spec,) = _specs(
        "CREATE OR REPLACE PROCEDURE p(IN a int, OUT b text) LANGUAGE sql AS $$ SELECT 'x' $$"
    )
    assert spec.arguments == ("integer", "text")
    assert spec.manual is None


def test_create_index_if_not_exists_keeps_its_name_and_table_as_written() -> None:
    (spec,) = _specs("CREATE INDEX IF NOT EXISTS by_name ON things (name)")
    assert (spec.kind, spec.table, spec.name, spec.manual) == (
        CaptureKind.CREATE_INDEX,
        ("things",),
        "by_name",
        None,
    )
    (qualified,) = _specs('CREATE UNIQUE INDEX IF NOT EXISTS "By" ON app.things (id)')
    assert (qualified.table, qualified.name) == (("app", "things"), "By")


@pytest.mark.parametrize(
    "text",
    [
        "CREATE INDEX by_name ON things (name)",  # no IF NOT EXISTS: the generator drops it
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS by_name ON things (name)",  # after COMMIT
    ],
)
def test_create_index_without_the_doubt_keeps_nothing(text: str) -> None:
    assert _specs(text) == []


@pytest.mark.parametrize(
    ("text", "kind", "table", "name"),
    [
        ("CREATE TABLE IF NOT EXISTS app.t (id int)", CaptureKind.CREATE_TABLE, ("app", "t"), ""),
        ("CREATE TABLE IF NOT EXISTS t (id int)", CaptureKind.CREATE_TABLE, ("t",), ""),
        ("CREATE SEQUENCE IF NOT EXISTS s", CaptureKind.CREATE_SEQUENCE, ("s",), ""),
        ("CREATE SCHEMA IF NOT EXISTS extra", CaptureKind.CREATE_SCHEMA, ("extra",), ""),
        ("CREATE EXTENSION IF NOT EXISTS seg", CaptureKind.CREATE_EXTENSION, ("seg",), ""),
        (
            'ALTER TABLE app.t ADD COLUMN IF NOT EXISTS "Note" text',
            CaptureKind.ADD_COLUMN,
            ("app", "t"),
            "Note",
        ),
    ],
)
def test_if_not_exists_of_what_holds_data_keeps_whether_it_existed(
    text: str, kind: CaptureKind, table: tuple[str, ...], name: str
) -> None:
    (spec,) = _specs(text)
    assert (spec.kind, spec.table, spec.name, spec.manual) == (kind, table, name, None)
    assert kind.keeps_definition


@pytest.mark.parametrize(
    "text",
    [
        "CREATE TABLE t (id int)",  # no doubt: the generator drops it
        "CREATE TEMP TABLE IF NOT EXISTS t (id int)",  # the session's own
        "CREATE SCHEMA extra",
        "CREATE EXTENSION seg",
        "ALTER TABLE t ADD COLUMN c int",
        # Two commands share one place in the rollback: a capture answers a place whole.
        "ALTER TABLE t ADD COLUMN IF NOT EXISTS c int, ADD COLUMN IF NOT EXISTS d int",
    ],
)
def test_creates_without_the_doubt_keep_nothing(text: str) -> None:
    assert _specs(text) == []
