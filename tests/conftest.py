"""Fixtures shared by every suite: a real PostgreSQL started for the session.

`MIGRATION_ROLLBACK_TEST_PG_URL` points the suite at an existing server instead (a superuser
URL); otherwise a private cluster is started with the same code the tool's shadow database uses.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from migration_rollback.verify.cluster import create_cluster

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = REPO_ROOT / "examples"


class PgServer:
    """A PostgreSQL server the tests may create and drop databases on."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url

    def url_for(self, dbname: str) -> str:
        base, _, _ = self.admin_url.rpartition("/")
        return f"{base}/{dbname}"

    def create_database(self, prefix: str = "t") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return name

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    external = os.environ.get("MIGRATION_ROLLBACK_TEST_PG_URL")
    if external:
        yield PgServer(external)
        return
    cluster = create_cluster()
    try:
        yield PgServer(cluster.url())
    finally:
        cluster.stop()


@pytest.fixture
def database_url(pg_server: PgServer) -> Iterator[str]:
    """A fresh, empty database for one test; dropped afterwards."""
    name = pg_server.create_database()
    try:
        yield pg_server.url_for(name)
    finally:
        pg_server.drop_database(name)
