"""The database password never appears in anything the runner prints, logs or writes.

The shared test server trusts every local connection, so this module starts its own cluster
with password (SCRAM) authentication for everyone but the superuser, and a role whose password
contains characters that URL encoding changes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from psycopg import sql
from runner_support import TIMELINE, Project, timeline_project

from migration_rollback.verify.cluster import TemporaryCluster, create_cluster

pytestmark = pytest.mark.integration

PASSWORD = "Sup3r-s3cret/p@ss:word"
ROLE = "rollbacker"
HBA = """
local all all trust
host all postgres 127.0.0.1/32 trust
host all all 127.0.0.1/32 scram-sha-256
"""


@pytest.fixture(scope="module")
def password_cluster() -> Iterator[TemporaryCluster]:
    cluster = create_cluster()
    try:
        (cluster.data_dir / "pg_hba.conf").write_text(HBA)
        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            conn.execute("SELECT pg_reload_conf()")
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN SUPERUSER PASSWORD {}").format(
                    sql.Identifier(ROLE), sql.Literal(PASSWORD)
                )
            )
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def secret_project(password_cluster: TemporaryCluster, tmp_path: Path) -> Iterator[Project]:
    name = f"s_{tmp_path.name[-20:].replace('-', '_').lower()}"
    with psycopg.connect(password_cluster.url(), autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(name), sql.Identifier(ROLE)
            )
        )
    project = Project(tmp_path, password_cluster.url(name))
    try:
        yield project
    finally:
        with psycopg.connect(password_cluster.url(), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def url_with(cluster: TemporaryCluster, dbname: str, password: str) -> str:
    return f"postgresql://{ROLE}:{quote(password, safe='')}@127.0.0.1:{cluster.port}/{dbname}"


def assert_no_secret(text: str, password: str = PASSWORD) -> None:
    for spelling in {password, quote(password, safe=""), json.dumps(password)[1:-1]}:
        assert spelling not in text


def test_password_absent_from_all_outputs_of_a_successful_run(
    secret_project: Project, password_cluster: TemporaryCluster, tmp_path: Path
) -> None:
    timeline_project(secret_project)
    dbname = secret_project.url.rsplit("/", 1)[1]
    url = url_with(password_cluster, dbname, PASSWORD)
    backups = tmp_path / "backups"
    backups.mkdir()

    run = secret_project.execute(
        TIMELINE, "--backup", "pg-dump", "--backup-dir", str(backups), url=url
    )

    assert run.returncode == 0, run.stdout + run.stderr
    assert run.result is not None
    assert run.result["backup"]["verified"] is True  # pg_dump authenticated via PGPASSWORD
    assert run.result["database"].startswith(f"postgresql://{ROLE}:***@")
    assert_no_secret(run.everything())
    audit = secret_project.audit()
    assert audit[-1]["who"]["db_user"] == ROLE
    assert_no_secret(json.dumps(audit))


def test_password_on_the_command_line_is_not_echoed(
    secret_project: Project, password_cluster: TemporaryCluster
) -> None:
    timeline_project(secret_project)
    dbname = secret_project.url.rsplit("/", 1)[1]
    url = url_with(password_cluster, dbname, PASSWORD)

    run = secret_project.execute(TIMELINE, "--dry-run", "--database-url", url, url="")

    assert run.returncode == 0, run.stdout + run.stderr
    assert run.result is not None
    assert run.result["database"].startswith(f"postgresql://{ROLE}:***@")
    assert_no_secret(run.everything())


def test_wrong_password_fails_clearly_without_echoing_it(
    secret_project: Project, password_cluster: TemporaryCluster
) -> None:
    timeline_project(secret_project)
    dbname = secret_project.url.rsplit("/", 1)[1]
    wrong = "Wr0ng-guess/with:colons@"

    run = secret_project.execute(TIMELINE, url=url_with(password_cluster, dbname, wrong))

    assert run.returncode == 7
    assert run.result is not None
    assert "password authentication failed" in run.result["error"]["message"]
    assert run.result["retryable"] is False
    assert_no_secret(run.everything(), wrong)


def test_malformed_url_with_a_password_is_not_echoed(secret_project: Project) -> None:
    url = f"postgresql://{ROLE}:{quote(PASSWORD, safe='')}@127.0.0.1:5432/db?nonsense=1"

    run = secret_project.execute(TIMELINE, url=url)

    assert run.returncode == 7
    assert_no_secret(run.everything())


def test_keyword_dsn_password_is_not_echoed(secret_project: Project) -> None:
    dsn = f"host=127.0.0.1 port=1 user={ROLE} password='{PASSWORD}' bogus_option=1"

    run = secret_project.execute(TIMELINE, url=dsn)

    assert run.returncode == 7
    assert_no_secret(run.everything())
