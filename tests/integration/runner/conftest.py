"""Fixtures for the runner's integration tests (helpers live in runner_support.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from runner_support import Project


@pytest.fixture
def project(tmp_path: Path, database_url: str) -> Project:
    """An empty Supabase-style project (history table created) on a fresh database."""
    return Project(tmp_path, database_url)
