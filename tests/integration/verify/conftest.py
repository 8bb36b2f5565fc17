"""Fixtures for the verifier's integration tests (helpers live in verify_support.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def shadow_url(pg_server: object) -> str:
    """The session server as a `--shadow-url`: each replay creates and drops its own database."""
    return str(pg_server.admin_url)  # type: ignore[attr-defined]
