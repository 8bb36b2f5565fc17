"""The archive's EXECUTEs write their arguments as literals themselves (runner/prepared.py, not
psycopg.sql: it cost some 0.2 ms a statement): the server must read back exactly the values,
whatever the names hold and whatever standard_conforming_strings says."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from migration_rollback.runner.prepared import executing

pytestmark = pytest.mark.integration

AWKWARD = [
    "plain",
    "it's",
    'say "hi"',
    "back\\slash",
    "\\'",
    "{braces},commas",
    "NULL",
    "",
    " spaced ",
    "ünï €",
    "$1",
]
ARGS: list[tuple[Any, str]] = [
    ('it\'s \\ "x"', "text"),
    (AWKWARD, "text[]"),
    ([1, 2, 4294967295], "oid[]"),
    ([], "oid[]"),
    (16384, "oid"),
]


@pytest.mark.parametrize("conforming", ["on", "off"])
def test_every_argument_reads_back_as_it_was(database_url: str, conforming: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"SET standard_conforming_strings = {conforming}")
        conn.execute(
            "PREPARE _mr_archive_literals(pg_catalog.text, pg_catalog.text[], pg_catalog.oid[], "
            "pg_catalog.oid[], pg_catalog.oid) AS SELECT $1, $2, $3, $4, $5"
        )

        row = conn.execute(executing("_mr_archive_literals", ARGS)).fetchone()

        assert row == tuple(value for value, _ in ARGS)
