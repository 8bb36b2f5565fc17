"""`validate --verify` when the shadow URL reaches its own database but not the scratch one.

The replay creates a `mr_shadow_*` database on the shadow server and connects to it with the
URL's credentials. Credentials good for one database only (a .pgpass line naming it, a pg_hba
rule) failed there with a raw psycopg error: exit 1, "internal error ... a bug". It is now the
shadow error (exit 2) naming the database that could not be reached and why.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from migration_rollback.cli import app
from migration_rollback.verify.cluster import TemporaryCluster, create_cluster

pytestmark = pytest.mark.integration
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "supabase" / "migrations"
# Only the shadow URL's own database (postgres) is open; the scratch databases are not.
HBA = """
local all all trust
host postgres all 127.0.0.1/32 trust
host all all 127.0.0.1/32 reject
"""


@pytest.fixture(scope="module")
def one_database_cluster() -> Iterator[TemporaryCluster]:
    cluster = create_cluster()
    try:
        (cluster.data_dir / "pg_hba.conf").write_text(HBA)
        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            conn.execute("SELECT pg_reload_conf()")
        yield cluster
    finally:
        cluster.stop()


def test_an_unreachable_scratch_database_is_a_shadow_error_naming_it(
    one_database_cluster: TemporaryCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "supabase" / "migrations")
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(
        app, ["validate", "--verify", "--shadow-url", one_database_cluster.url()]
    )

    out = " ".join(result.output.split())
    assert result.exit_code == 2, out
    assert "cannot connect to the scratch database mr_shadow_" in out
    assert "must reach every database of that server" in out
    assert "a bug" not in out
    with psycopg.connect(one_database_cluster.url(), autocommit=True) as conn:
        left = conn.execute("SELECT count(*) FROM pg_database WHERE datname LIKE 'mr_shadow%'")
        assert left.fetchone() == (0,)  # the scratch database was still dropped
