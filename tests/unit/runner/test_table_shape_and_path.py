"""Pure parts of table_shape (what is wrong with a bookkeeping table) and catalog_path (when
the search_path puts another schema before pg_catalog)."""

from __future__ import annotations

import pytest

from migration_rollback.runner.catalog_path import _catalog_first
from migration_rollback.runner.table_shape import _column_problem

WANTED: dict[str, str | None] = {"id": "bigint", "who": "jsonb", "version": None}


def test_a_table_with_every_column_is_fine() -> None:
    found = {"id": "bigint", "who": "jsonb", "version": "character varying", "more": "text"}
    assert _column_problem("s.t", found, WANTED) is None


def test_missing_columns_are_all_named() -> None:
    assert (
        _column_problem("s.t", {"id": "bigint"}, WANTED)
        == "s.t exists but lacks column who, version"
    )


def test_a_column_of_another_type_is_named_with_both_types() -> None:
    found = {"id": "bigint", "who": "text", "version": "text"}
    assert (
        _column_problem("s.t", found, WANTED) == "s.t exists but its column who is text, not jsonb"
    )


@pytest.mark.parametrize(
    ("schemas", "first"),
    [
        (["pg_catalog", "evil", "public"], True),
        (["pg_temp_3", "pg_catalog", "public"], True),  # the session's own temp schema
        ([], True),
        (["evil", "pg_catalog", "public"], False),
        (["pg_temp_3", "evil", "pg_catalog"], False),
    ],
)
def test_catalog_first(schemas: list[str], first: bool) -> None:
    assert _catalog_first(schemas) is first
