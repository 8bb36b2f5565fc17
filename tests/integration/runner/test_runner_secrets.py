"""The database password never appears in anything the runner prints, logs or writes.

The shared test server trusts every local connection, so this module starts its own cluster
with password (SCRAM) authentication for everyone but the superuser, and a role whose password
contains characters that URL encoding changes.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from psycopg import sql
from runner_support import TIMELINE, Project, timeline_project
from tests.leaks import leaked, neutral

from migration_rollback.runner import MigrationId, RunIO, RunOptions, execute_rollback
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


# --- property: any password, any form, right or wrong: no piece of it in any output ----------

# The whole printable and non-ASCII range; no NUL (libpq strings end there), no surrogates.
PASSWORDS = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00"),
    min_size=8,
    max_size=20,
)
FIXED_NOW = datetime(2025, 11, 13, 3, 0, tzinfo=UTC)


def forms(cluster: TemporaryCluster, dbname: str, password: str) -> list[str]:
    escaped = password.replace("\\", "\\\\").replace("'", "\\'")
    where = f"127.0.0.1:{cluster.port}/{dbname}"
    return [
        f"postgresql://{ROLE}:{password}@{where}",
        f"postgresql://{ROLE}:{quote(password, safe='')}@{where}",
        f"host=127.0.0.1 port={cluster.port} dbname={dbname} user={ROLE} password='{escaped}'",
    ]


def run_in_process(project: Project, url: str, out: Path) -> tuple[int, str]:
    """One dry run through the runner's real connect path; everything it printed or wrote."""
    stdout, stderr = io.StringIO(), io.StringIO()
    before = last_audit_id(project)
    options = RunOptions(
        database_url=url,
        migration=MigrationId.parse(TIMELINE),
        migrations_dir=project.migrations,
        dry_run=True,
        result_file=out / "result.json",
        report_file=out / "report.md",
    )
    result = execute_rollback(options, RunIO(stdout, stderr, env={}, now=lambda: FIXED_NOW))
    audit = audit_rows_after(project, before)
    files = [(out / name).read_text() for name in ("result.json", "report.md")]
    texts = [stdout.getvalue(), stderr.getvalue(), *files, *(r[0] for r in audit)]
    return int(result.exit_code), "\n".join(texts)


def audit_exists(project: Project) -> bool:
    return bool(project.value("SELECT to_regclass('migration_rollback.audit_log') IS NOT NULL"))


def last_audit_id(project: Project) -> int:
    if not audit_exists(project):
        return 0
    return int(project.value("SELECT coalesce(max(id), 0) FROM migration_rollback.audit_log"))


def audit_rows_after(project: Project, before: int) -> list[tuple[str]]:
    """The audit rows a run wrote (none when a refused URL never reached the database)."""
    if not audit_exists(project):
        return []
    query = "SELECT to_jsonb(a)::text FROM migration_rollback.audit_log a WHERE id > %s"
    return [(str(row[0]),) for row in project.sql(query, [before])]


def set_password(cluster: TemporaryCluster, password: str) -> None:
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        conn.execute(
            sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(ROLE), sql.Literal(password))
        )


def outputs(project: Project, cluster: TemporaryCluster, right: str, wrong: str, out: Path) -> str:
    """Every form of the URL with the right password, then with a wrong one. The right one
    connects in the encoded and keyword forms; a wrong one never does."""
    dbname = project.url.rsplit("/", 1)[1]
    set_password(cluster, right)
    runs = [run_in_process(project, url, out) for url in forms(cluster, dbname, right)]
    assert [code for code, _ in runs[1:]] == [0, 0], runs
    wrong_runs = [run_in_process(project, url, out) for url in forms(cluster, dbname, wrong)]
    assert {code for code, _ in wrong_runs} == {7}, wrong_runs
    return "\n".join(text for _, text in runs + wrong_runs)


def clock_like(piece: str) -> bool:
    """Digits and time punctuation: durations and server timestamps differ run to run."""
    return all(ch.isdigit() or ch in ":.-+ TZ" for ch in piece)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(right=PASSWORDS, wrong=PASSWORDS)
# A drawn case: the space made "a space in the URL" name MIGRATION_ROLLBACK_DATABASE_URL, whose
# "DATA" the neutral run (no space, so another message) did not print: a false leak.
@example(right="00000000", wrong="000 DATA")
def test_no_piece_of_any_password_reaches_any_output(
    secret_project: Project,
    password_cluster: TemporaryCluster,
    tmp_path: Path,
    right: str,
    wrong: str,
) -> None:
    assume(right != wrong)
    if not secret_project.versions():
        timeline_project(secret_project)
    text = outputs(secret_project, password_cluster, right, wrong, tmp_path)
    baseline = outputs(
        secret_project, password_cluster, neutral(right), neutral(wrong) + "x", tmp_path
    )
    for password in (right, wrong):
        found = {p for p in leaked(password, text, baseline) if not clock_like(p)}
        assert not found, f"{found} of {password!r} leaked"
    set_password(password_cluster, PASSWORD)


@pytest.mark.parametrize(
    ("password", "connects"),
    [
        ("Real#Pass-Zq", True),  # libpq takes a raw '#'; text-level redaction stopped at it
        ("Real?Pass-Zq", True),
        ("Frag@LeakZq", False),  # an unencoded '@': the rest would become the host
        ("Frag/LeakZq", False),  # an unencoded '/': the rest would become the database name
    ],
)
def test_raw_special_characters_in_the_url_never_leak_through_the_cli(
    secret_project: Project, password_cluster: TemporaryCluster, password: str, connects: bool
) -> None:
    timeline_project(secret_project)
    dbname = secret_project.url.rsplit("/", 1)[1]
    set_password(password_cluster, password)
    try:
        run = secret_project.execute(
            TIMELINE, "--dry-run", url=forms(password_cluster, dbname, password)[0]
        )
    finally:
        set_password(password_cluster, PASSWORD)
    assert run.returncode == (0 if connects else 7), run.stdout + run.stderr
    assert run.result is not None
    assert not leaked(password, run.everything(), baseline="postgresql")
    if not connects:
        assert "percent-encoded" in run.result["error"]["message"]


@pytest.mark.parametrize("password", ["2025", "true", "duration_ms"])
def test_pgpassword_never_rewrites_the_step_log(project: Project, password: str) -> None:
    # The CLI's streams were scrubbed as text: a digit password broke the step log's numbers,
    # "true" its literals (not JSON any more), a field name its keys. Its values are still
    # scrubbed (scrub_obj): a password may be a piece of a driver message.
    timeline_project(project)
    plain = project.execute(TIMELINE, "--dry-run", tag="plain")
    given = project.execute(TIMELINE, "--dry-run", env={"PGPASSWORD": password}, tag="given")

    assert given.returncode == plain.returncode == 0, given.stdout + given.stderr
    assert [sorted(s) for s in given.steps] == [sorted(s) for s in plain.steps]
    assert all(isinstance(s["duration_ms"], int) for s in given.steps if "duration_ms" in s)
