"""set_config('search_path', …) read as `SET search_path` (names.set_config_schema): pure."""

from __future__ import annotations

import pytest
from pglast import parse_sql

from migration_rollback.sql.names import RUN_TIME, set_config_schema


@pytest.mark.parametrize(
    ("text", "schema"),
    [
        ("select set_config('search_path', 'app', false)", "app"),
        ("select pg_catalog.set_config('search_path', 'app, public', true)", "app"),
        ("select set_config('Search_Path', '\"App\"', false)", "App"),
        ("select pg_catalog.set_config('search_path', '', false)", ""),  # pg_dump: no default
        ("select set_config('search_path', current_setting('x'), false)", RUN_TIME),
        ("select set_config(name, 'app', false) from s", RUN_TIME),  # which setting: unknown
        ("select set_config('statement_timeout', '0', false)", None),
        ("select other.set_config('search_path', 'app', false)", None),  # not the built-in
        ("select 1", None),
    ],
)
def test_set_config_schema(text: str, schema: str | None) -> None:
    assert set_config_schema(parse_sql(text)[0].stmt) == schema
