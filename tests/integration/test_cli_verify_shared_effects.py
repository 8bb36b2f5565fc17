"""`--verify --shadow-url` refuses a project whose migrations change the shadow SERVER.

Only the scratch `mr_shadow_*` database is dropped after a run: an `ALTER ROLE ... PASSWORD
... NOLOGIN`, a role setting or a new LOGIN role stayed on the given server (a shared local
Supabase stack: `postgres`/`authenticator` locked out). Refused before anything runs, naming
file:line and the statement kind, unless --allow-shared-effects; the throwaway cluster (no
--shadow-url) is dropped whole and needs no refusal.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from migration_rollback.cli import app
from migration_rollback.verify import MigrationPair
from migration_rollback.verify.cluster import TemporaryCluster, create_cluster
from migration_rollback.verify.shared_effects import first_cluster_effect

pytestmark = pytest.mark.integration

FORWARD = """create table public.t (id int primary key);
alter role victim with password 'changedByMigration' nologin;
alter role victim set work_mem = '64MB';
create role shadow_leftover_role login password 'ShadowPw123';
"""
STATE = """
select r.rolcanlogin, a.rolpassword, coalesce(s.setconfig, '{}'),
       (select count(*) from pg_roles where rolname = 'shadow_leftover_role')
from pg_roles r join pg_authid a on a.oid = r.oid
left join pg_db_role_setting s on s.setrole = r.oid and s.setdatabase = 0
where r.rolname = 'victim'
"""


@pytest.fixture(scope="module")
def shadow() -> Iterator[TemporaryCluster]:
    cluster = create_cluster()
    try:
        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            conn.execute("create role victim login password 'orig'")
            conn.execute("alter role victim set work_mem = '4MB'")
        yield cluster
    finally:
        cluster.stop()


def _state(cluster: TemporaryCluster) -> tuple[object, ...] | None:
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        return conn.execute(STATE).fetchone()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "supabase" / "migrations"
    folder.mkdir(parents=True)
    (folder / "20250501000000_roles.sql").write_text(FORWARD)
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(app, ["generate"]).exit_code == 0
    return folder


@pytest.mark.parametrize("command", ["validate", "generate"])
def test_a_shadow_url_is_refused_and_the_server_keeps_its_roles(
    shadow: TemporaryCluster, project: Path, command: str
) -> None:
    before = _state(shadow)

    result = CliRunner().invoke(app, [command, "--verify", "--shadow-url", shadow.url()])

    out = " ".join(result.output.split())
    assert result.exit_code == 2, out
    assert "20250501000000_roles.sql:2: a role (AlterRoleStmt)" in out
    assert "--allow-shared-effects" in out
    assert "throwaway cluster" in out
    assert _state(shadow) == before  # the password, LOGIN and work_mem as they were
    with psycopg.connect(shadow.url(), autocommit=True) as conn:
        made = conn.execute("select count(*) from pg_database where datname like 'mr_shadow%'")
        assert made.fetchone() == (0,)  # refused before anything ran


def test_allow_shared_effects_runs_and_says_the_change_stays(
    shadow: TemporaryCluster, project: Path
) -> None:
    with psycopg.connect(shadow.url(), autocommit=True) as conn:
        conn.execute("drop role if exists shadow_leftover_role")

    url = shadow.url()
    command = ["validate", "--verify", "--shadow-url", url, "--allow-shared-effects"]
    result = CliRunner().invoke(app, [*command, "--format", "json"])

    out = " ".join(result.stderr.split())
    assert "changes the shadow server itself; the change stays there" in out, out
    assert "refusing" not in out
    assert json.loads(result.stdout)["migrations"]  # the warning kept off the JSON document
    with psycopg.connect(shadow.url(), autocommit=True) as conn:
        conn.execute("drop role if exists shadow_leftover_role")
        conn.execute("alter role victim with password 'orig' login")
        conn.execute("alter role victim set work_mem = '4MB'")


def test_the_option_needs_verify(project: Path) -> None:
    result = CliRunner().invoke(app, ["validate", "--allow-shared-effects"])

    assert result.exit_code == 2
    assert "--allow-shared-effects only applies with --verify" in " ".join(result.output.split())


def test_a_project_inside_its_database_has_no_cluster_effect(tmp_path: Path) -> None:
    plain = tmp_path / "1_plain.sql"
    plain.write_text("create table t (id int);\ngrant select on t to anon;\n")
    code = tmp_path / "2_do.sql"
    code.write_text("select 1;\n\ndo $$ begin execute 'alter system set work_mem = 1'; end $$;\n")
    rollback = tmp_path / "1_plain_rollback.sql"
    rollback.write_text("drop table t;\ngrant authenticated to anon;\n")

    assert first_cluster_effect([MigrationPair("1_plain", plain)]) is None
    found = first_cluster_effect([MigrationPair("2_do", code)])
    assert found is not None
    assert found.endswith("2_do.sql:3: the server's configuration (in a DO block) (DoStmt)")
    with_rollback = MigrationPair("1_plain", plain, rollback)
    assert first_cluster_effect([with_rollback], rollbacks=False) is None
    assert "1_plain_rollback.sql:2: a role membership" in str(first_cluster_effect([with_rollback]))
