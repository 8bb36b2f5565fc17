"""Fixtures for the verifier's integration tests (helpers live in verify_support.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def shadow_url(database_url: str) -> str:
    """The session server as a `--shadow-url`, reached through a database of this test's own
    (dropped after it): each replay creates and drops its own scratch databases, and whatever
    a test leaves in the database it connects through (a half-run capture schema, a failing
    test's objects) never reaches another test."""
    return database_url
