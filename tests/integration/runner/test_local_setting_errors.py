"""The transaction-local setting switch puts the setting back on the error path too (real
PostgreSQL): a refusal raised inside the block, caught by a caller that goes on in the same
transaction, must not leave pg_catalog alone on the search_path; a failed transaction (or a
savepoint rolled back over the SET) undid the setting itself, and the original error is what
the caller sees."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from migration_rollback.runner.capture_definition_read import local_setting
from migration_rollback.runner.errors import PreconditionError

pytestmark = pytest.mark.integration


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(database_url) as connection:  # a transaction is open after the first
        connection.execute("SET LOCAL search_path TO public, extensions")
        yield connection
        connection.rollback()


def _path(conn: psycopg.Connection[Any]) -> str:
    row = conn.execute("SHOW search_path").fetchone()
    assert row is not None
    return str(row[0])


def test_setting_is_put_back_when_the_block_raises(conn: psycopg.Connection[Any]) -> None:
    """The old switch was no try/finally: pg_catalog stayed alone on the path."""
    seen: list[str] = []

    def refuse() -> None:
        with local_setting(conn, "search_path", "pg_catalog"):
            seen.append(_path(conn))
            raise PreconditionError("refused")

    with pytest.raises(PreconditionError):
        refuse()
    assert seen == ["pg_catalog"]
    assert _path(conn) == "public, extensions"


def test_failed_statement_surfaces_its_own_error(conn: psycopg.Connection[Any]) -> None:
    """Nothing is put back in a failed transaction (a SET would raise InFailedSqlTransaction
    over the real error)."""
    with (
        pytest.raises(psycopg.errors.DivisionByZero),
        local_setting(conn, "search_path", "pg_catalog"),
    ):
        conn.execute("SELECT 1 / 0")


def test_savepoint_rolled_back_inside_the_block(conn: psycopg.Connection[Any]) -> None:
    with local_setting(conn, "check_function_bodies", "off"):
        with pytest.raises(psycopg.errors.DivisionByZero), conn.transaction():
            conn.execute("SELECT 1 / 0")
        assert conn.execute("SHOW check_function_bodies").fetchone() == ("off",)
    assert conn.execute("SHOW check_function_bodies").fetchone() == ("on",)
