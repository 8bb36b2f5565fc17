"""The throwaway cluster is the one it started: a port picked free but taken before the server
binds it (by another cluster starting at the same moment) is given up for another, and the
readiness check cannot be answered by whatever server holds the port."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from migration_rollback.verify import cluster

pytestmark = pytest.mark.integration


def test_a_port_taken_before_the_bind_is_given_up_for_another(
    pg_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = int(psycopg.conninfo.conninfo_to_dict(pg_server.admin_url)["port"] or 5432)
    picks = iter([taken])
    free = cluster._free_port
    # The session's server holds the first port picked, as another cluster could by then.
    monkeypatch.setattr(cluster, "_free_port", lambda: next(picks, None) or free())
    with cluster.temporary_cluster() as ours:
        assert ours.port != taken
        with psycopg.connect(ours.url()) as conn:
            row = conn.execute("SHOW data_directory").fetchone()
        assert row is not None
        assert row[0] == str(ours.data_dir)
