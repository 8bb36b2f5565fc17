"""The ways libpq takes a password besides the URL, and the shadow URL: no output holds it.

Adversarial review A left these unprobed: a service file's password (PGSERVICEFILE), a password
file (`passfile=`, PGPASSFILE), `sslpassword=`, PGPASSWORD, and `--shadow-url` of `generate` /
`validate` carrying a password of URL-special characters. Each is run with the right password
and a wrong one, against a cluster with password authentication, and every output is searched:
stdout, stderr, the result and report files, the audit and history tables.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from psycopg import sql
from runner_support import TIMELINE, Project, Run, timeline_project
from tests.leaks import PIECE, leaked

from migration_rollback.verify.cluster import TemporaryCluster, create_cluster

pytestmark = pytest.mark.integration

ROLE = "pathsrole"
HBA = """
local all all trust
host all postgres 127.0.0.1/32 trust
host all all 127.0.0.1/32 scram-sha-256
"""
# Every URL-special character, with a letter (or a non-ASCII one) at least every 3rd place:
# each 4-character piece is then one no ordinary output holds by chance.
SPECIAL = "Z@:q/?Ü#%x&=Z+ q'\"Ü\\,x;€ßZ"
ONE = "¤"  # a 1-character password: searched for whole
PASSWORDS = [SPECIAL, ONE]
EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "supabase" / "migrations"


def test_the_special_password_is_searchable_piece_by_piece() -> None:
    assert all(any(c.isalpha() for c in SPECIAL[i : i + PIECE]) for i in range(len(SPECIAL)))
    assert set(" @:/?#%&=+'\"\\,;") <= set(SPECIAL)


@pytest.fixture(scope="module")
def cluster() -> Iterator[TemporaryCluster]:
    found = create_cluster()
    try:
        (found.data_dir / "pg_hba.conf").write_text(HBA)
        with psycopg.connect(found.url(), autocommit=True) as conn:
            conn.execute("SELECT pg_reload_conf()")
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN SUPERUSER").format(sql.Identifier(ROLE)))
        yield found
    finally:
        found.stop()


def set_password(cluster: TemporaryCluster, password: str) -> None:
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        conn.execute(
            sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(ROLE), sql.Literal(password))
        )


@pytest.fixture
def project(cluster: TemporaryCluster, tmp_path: Path) -> Iterator[Project]:
    name = f"p_{tmp_path.name[-20:].replace('-', '_').lower()}"
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(name), sql.Identifier(ROLE)
            )
        )
    found = Project(tmp_path, cluster.url(name))
    timeline_project(found)
    try:
        yield found
    finally:
        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def assert_absent(password: str, *texts: str) -> None:
    text = "\n".join(texts)
    spellings = {password, quote(password, safe=""), json.dumps(password)[1:-1]}
    if len(password) < PIECE:
        assert not [s for s in spellings if s in text], text
    else:
        assert not leaked(password, text), text
        assert not [s for s in spellings if s in text]


def tables(project: Project) -> str:
    """The audit log and the migration history, as stored."""
    rows = project.sql("SELECT to_jsonb(a)::text FROM migration_rollback.audit_log a")
    history = project.sql("SELECT to_jsonb(h)::text FROM supabase_migrations.schema_migrations h")
    return "\n".join(str(r[0]) for r in [*rows, *history])


def keyword_url(cluster: TemporaryCluster, project: Project, **extra: str) -> str:
    dbname = project.url.rsplit("/", 1)[1]
    more = " ".join(f"{k}='{v}'" for k, v in extra.items())
    return f"host=127.0.0.1 port={cluster.port} dbname={dbname} user={ROLE} {more}".strip()


def pass_line(cluster: TemporaryCluster, password: str) -> str:
    escaped = password.replace("\\", "\\\\").replace(":", "\\:")
    return f"127.0.0.1:{cluster.port}:*:{ROLE}:{escaped}\n"


def private(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)  # libpq ignores a password file others can read
    return str(path)


Way = tuple[str, dict[str, str]]  # the connection string, and the environment it needs


def service_way(cluster: TemporaryCluster, project: Project, password: str) -> Way:
    dbname = project.url.rsplit("/", 1)[1]
    # A service file's value runs to the end of the line, unquoted.
    text = (
        f"[paths]\nhost=127.0.0.1\nport={cluster.port}\ndbname={dbname}\nuser={ROLE}\n"
        f"password={password}\n"
    )
    return "service=paths", {"PGSERVICEFILE": private(project.root / "svc.conf", text)}


def passfile_way(cluster: TemporaryCluster, project: Project, password: str) -> Way:
    path = private(project.root / "pgpass", pass_line(cluster, password))
    return keyword_url(cluster, project, passfile=path), {}


def pgpassfile_way(cluster: TemporaryCluster, project: Project, password: str) -> Way:
    path = private(project.root / "pgpass-env", pass_line(cluster, password))
    return keyword_url(cluster, project), {"PGPASSFILE": path}


def pgpassword_way(cluster: TemporaryCluster, project: Project, password: str) -> Way:
    return keyword_url(cluster, project), {"PGPASSWORD": password}


WAYS = {
    "service": service_way,
    "passfile": passfile_way,
    "PGPASSFILE": pgpassfile_way,
    "PGPASSWORD": pgpassword_way,
}


def execute(project: Project, url: str, env: dict[str, str], tag: str) -> Run:
    return project.execute(TIMELINE, "--dry-run", url=url, env=env, tag=tag)


@pytest.mark.parametrize("password", PASSWORDS, ids=["special", "one-char"])
@pytest.mark.parametrize("way", sorted(WAYS))
def test_a_password_from_outside_the_url_reaches_no_output(
    cluster: TemporaryCluster, project: Project, way: str, password: str
) -> None:
    set_password(cluster, password)
    url, env = WAYS[way](cluster, project, password)
    right = execute(project, url, env, "right")
    assert right.returncode == 0, right.stdout + right.stderr
    url, env = WAYS[way](cluster, project, password + "Wr0ng")
    wrong = execute(project, url, env, "wrong")
    assert wrong.returncode == 7, wrong.stdout + wrong.stderr
    assert "password authentication failed" in wrong.result["error"]["message"]  # type: ignore[index]
    assert_absent(password, right.everything(), wrong.everything(), tables(project))
    assert_absent(password + "Wr0ng", wrong.everything(), tables(project))


def test_sslpassword_reaches_no_output(cluster: TemporaryCluster, project: Project) -> None:
    set_password(cluster, "plain-Pw-1")
    url = keyword_url(cluster, project, password="plain-Pw-1", sslmode="disable",
                      sslpassword=SPECIAL.replace("\\", "\\\\").replace("'", "\\'"))  # fmt: skip
    run = execute(project, url, {}, "ssl")
    assert run.returncode == 0, run.stdout + run.stderr
    assert_absent(SPECIAL, run.everything(), tables(project))


def test_a_password_equal_to_the_user_name_is_warned_of_once(
    cluster: TemporaryCluster, project: Project
) -> None:
    set_password(cluster, ROLE)
    dbname = project.url.rsplit("/", 1)[1]
    url = f"postgresql://{ROLE}:{ROLE}@127.0.0.1:{cluster.port}/{dbname}"
    run = execute(project, url, {}, "named")
    assert run.returncode == 0, run.stdout + run.stderr
    note = "the password is the same as the user, database or host name"
    assert run.result is not None
    [warning] = [w for w in run.result["warnings"] if note in w]
    assert warning.startswith("the database URL (--database-url or ")
    by_env = execute(project, keyword_url(cluster, project), {"PGPASSWORD": ROLE}, "env")
    assert by_env.returncode == 0, by_env.stdout + by_env.stderr
    assert by_env.result is not None
    assert len([w for w in by_env.result["warnings"] if note in w]) == 1


# --- the shadow URL of generate / validate --------------------------------------------------


def cli(root: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """The CLI in a subprocess, as a user runs it: everything it printed."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATION_ROLLBACK_")}
    proc = subprocess.run(
        [sys.executable, "-m", "migration_rollback", *args],
        cwd=root, env={**clean, **(env or {})}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    return proc.returncode, proc.stdout + proc.stderr


@pytest.fixture
def example(tmp_path: Path) -> Path:
    shutil.copytree(EXAMPLES, tmp_path / "supabase" / "migrations")
    return tmp_path


@pytest.mark.parametrize("password", PASSWORDS, ids=["special", "one-char"])
def test_a_shadow_url_password_reaches_no_output(
    cluster: TemporaryCluster, example: Path, password: str
) -> None:
    set_password(cluster, password)
    right = f"postgresql://{ROLE}:{quote(password, safe='')}@127.0.0.1:{cluster.port}/postgres"
    wrong = right.replace("@127", quote("Wr0ng", safe="") + "@127")
    texts = []
    for url, code in ((right, 0), (wrong, 2)):
        for args in (
            ("generate", "--verify", "--jobs", "1", "--shadow-url", url),
            ("validate", "--verify", "--jobs", "1", "--shadow-url", url),
            ("validate", "--verify", "--jobs", "1", "--format", "json", "--shadow-url", url),
        ):
            got, out = cli(example, *args)
            assert got == code, out
            texts.append(out)
        env = {"MIGRATION_ROLLBACK_SHADOW_URL": url}
        got, out = cli(example, "validate", "--verify", "--jobs", "1", env=env)
        assert got == code, out
        texts.append(out)
    got, out = cli(example, "emergency", env={"MIGRATION_ROLLBACK_SHADOW_URL": right})
    assert got == 0, out
    plan = (example / "scripts" / "EMERGENCY_ROLLBACK_PLAN.md").read_text()
    rollbacks = [p.read_text() for p in (example / "supabase" / "migrations").iterdir()]
    assert_absent(password, *texts, out, plan, *rollbacks)
    assert_absent(password + "Wr0ng", *texts)
