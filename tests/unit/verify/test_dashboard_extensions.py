"""Which dashboard extension a failed statement relied on, from the server's message and its
classified cause (verify/dashboard.py). Pure: no server."""

from __future__ import annotations

import pytest

from migration_rollback.verify.cause import Cause
from migration_rollback.verify.causes import classify_failure
from migration_rollback.verify.dashboard import dashboard_extension
from migration_rollback.verify.placement import EXTENSION_OF

FOUND = [
    ("42704", 'type "vector" does not exist', "vector"),
    ("42704", 'access method "ivfflat" does not exist', "vector"),
    ("42704", 'access method "hnsw" does not exist', "vector"),
    (
        "42704",
        'operator class "vector_cosine_ops" does not exist for access method "btree"',
        "vector",
    ),
    ("42704", 'type "extensions.vector" does not exist', "vector"),
    ("42883", "function moddatetime() does not exist", "moddatetime"),
    ("42883", "function extensions.moddatetime() does not exist", "moddatetime"),
    ("42704", 'operator class "gin_trgm_ops" does not exist for access method "gin"', "pg_trgm"),
    ("42883", "function similarity(text, text) does not exist", "pg_trgm"),
    ("42704", 'type "citext" does not exist', "citext"),
    ("42704", 'type "public.hstore" does not exist', "hstore"),
    ("42883", "function cron.schedule(unknown, unknown, unknown) does not exist", "pg_cron"),
    ("42883", "function net.http_post(url => unknown) does not exist", "pg_net"),
]

NOT_FOUND = [
    ("42P01", 'relation "vector" does not exist'),  # a table of that name: no extension's
    ("42703", 'column "citext" does not exist'),
    ("42704", 'type "app.vector" does not exist'),  # in a schema of the project's own
    ("42704", 'type "mood" does not exist'),
    ("42601", 'syntax error at or near "vector"'),
]


def _cause(sqlstate: str, message: str) -> Cause:
    return classify_failure(sqlstate, message, server_major=15)


@pytest.mark.parametrize(("sqlstate", "message", "extension"), FOUND)
def test_the_extension_that_provides_what_is_missing(
    sqlstate: str, message: str, extension: str
) -> None:
    assert dashboard_extension(sqlstate, message, _cause(sqlstate, message)) == extension


@pytest.mark.parametrize(("sqlstate", "message"), NOT_FOUND)
def test_nothing_for_what_no_extension_provides(sqlstate: str, message: str) -> None:
    assert dashboard_extension(sqlstate, message, _cause(sqlstate, message)) is None


@pytest.mark.parametrize("kind", ["depends_on", "created_later", "missing_extension"])
def test_nothing_when_a_migration_accounts_for_it(kind: str) -> None:
    # An earlier migration that failed, or a later one, would have made it: not the dashboard.
    cause = Cause(kind, "made by a migration", "20240101000000_x")
    assert dashboard_extension("42704", 'type "vector" does not exist', cause) is None


def test_names_are_bare_and_lower_case() -> None:
    assert all(name == name.lower() and "." not in name for name in EXTENSION_OF)
