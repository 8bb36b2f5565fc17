"""The archive's prepared reads: placeholders numbered as PostgreSQL's (a name used twice is
one parameter), and EXECUTE's arguments typed literals, in the order PREPARE declared them."""

from __future__ import annotations

from migration_rollback.runner.prepared import Read


def test_a_named_placeholder_used_twice_is_one_parameter() -> None:
    read = Read("SELECT %(a)s, %(b)s, %(a)s", (("a", "text"), ("b", "oid[]")))

    prepared = read.preparing().as_string(None)

    assert (
        prepared == f'PREPARE "{read.name}"(pg_catalog.text, pg_catalog.oid[]) AS SELECT $1, $2, $1'
    )


def test_positional_placeholders_are_numbered_in_order() -> None:
    read = Read("SELECT to_regclass(%s), %s", (("", "text"), ("", "text[]")))

    assert read.preparing().as_string(None).endswith("AS SELECT to_regclass($1), $2")


def test_execute_passes_typed_literals_in_the_declared_order() -> None:
    read = Read("SELECT %(m)s, %(n)s", (("m", "oid[]"), ("n", "text")))

    executed = read.executing([[1, 2], "it's"])

    assert executed.startswith(f'EXECUTE "{read.name}"(')
    assert "::pg_catalog.oid[]" in executed
    assert "'it''s'::pg_catalog.text" in executed


def test_a_read_without_parameters_has_no_empty_list() -> None:
    read = Read("SELECT 1", ())

    assert read.preparing().as_string(None) == f'PREPARE "{read.name}" AS SELECT 1'
    assert read.executing([]) == f'EXECUTE "{read.name}"'
    assert Read("SELECT 2", ()).name != read.name
