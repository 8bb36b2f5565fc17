"""psycopg's "error ignored terminating <Pipeline ...>" is not printed by the CLI: the error
raised in the pipeline is the one the command says (it was noise on stderr of
`validate --verify --format json` on two of 13 real projects)."""

from __future__ import annotations

import logging

import psycopg
import pytest

from migration_rollback.cli import _quiet_psycopg

pytestmark = pytest.mark.integration


def _fail_in_a_pipeline(url: str) -> None:
    with psycopg.connect(url) as conn, pytest.raises(RuntimeError):
        _divide_by_zero_then_raise(conn)


def _divide_by_zero_then_raise(conn: psycopg.Connection[object]) -> None:
    with conn.pipeline():
        conn.execute("SELECT 1 / 0")
        raise RuntimeError("the error the command says")


def _said(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "psycopg"]


def test_the_second_error_leaving_a_pipeline_is_not_logged(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    logger = logging.getLogger("psycopg")
    kept = list(logger.filters)
    logger.filters.clear()  # an earlier test's main() may have added the filter already
    try:
        with caplog.at_level(logging.WARNING, logger="psycopg"):
            _fail_in_a_pipeline(database_url)
            assert any("error ignored terminating" in m for m in _said(caplog))  # unfiltered
            caplog.clear()
            _quiet_psycopg()
            _fail_in_a_pipeline(database_url)
            logger.warning("another psycopg warning")
        assert _said(caplog) == ["another psycopg warning"]
    finally:
        logger.filters[:] = kept
