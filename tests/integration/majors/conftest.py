"""PostgreSQL 14, 15 and 17 for the shadow-major tests, never skipped.

15 is Debian's (scripts/setup installs it); 14 and 17 are the installs `scripts/pg-binaries.sh`
caches (scripts/setup runs it for 17): when one is missing the fixture runs the script itself,
and fails with the script's own words if that cannot work.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from majors_support import server_binaries

from migration_rollback.verify.cluster import TemporaryCluster, create_cluster


def _cluster(major: int) -> Iterator[TemporaryCluster]:
    cluster = create_cluster(server_binaries(major))
    try:
        assert cluster.major == major
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def pg17() -> Iterator[TemporaryCluster]:
    """A PostgreSQL 17 server from the cached binaries, for the whole session."""
    yield from _cluster(17)


@pytest.fixture(scope="session")
def pg14() -> Iterator[TemporaryCluster]:
    """A PostgreSQL 14 server from the cached binaries (catalogs without 15's additions)."""
    yield from _cluster(14)


@pytest.fixture(scope="session")
def pg15() -> Iterator[TemporaryCluster]:
    """A PostgreSQL 15 server from Debian's binaries, for the whole session."""
    yield from _cluster(15)


@pytest.fixture(autouse=True)
def _no_ambient_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    """The caller's environment must not pick the shadow or the major for these tests."""
    for name in ("MIGRATION_ROLLBACK_SHADOW_URL", "MIGRATION_ROLLBACK_PG_MAJOR"):
        monkeypatch.delenv(name, raising=False)
