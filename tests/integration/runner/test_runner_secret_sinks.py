"""Two sinks that kept secrets: the audit log (kept for good in the target database) and
pg_dump's command line (readable by every local user while the dump runs).

The audit row stored `--to <URL>` raw: every value written to the table now passes the scrubber
in one place, password places masked even when the run's own URL held no password; and a value
that must be a version is refused before any connection. pg_dump got `sslpassword` on its
command line: every secret now goes in its environment or a private service file.
"""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from runner_support import Project
from tests.leaks import leaked

from migration_rollback.redact import Redactor
from migration_rollback.runner import audit, backup

pytestmark = pytest.mark.integration

PASSWORD = "Zq7!#$%&'()*+,/:;=?@[]^_x"
ENCODED = "Zq7%21%23%24%25%26%27%28%29%2A%2B%2C%2F%3A%3B%3D%3F%40%5B%5D%5E_x"
OTHER = "Qx9-Sh4dow-Sekr3t-Val"  # a password no redactor of the run was told about


def audit_text(project: Project) -> str:
    rows = project.sql("SELECT to_jsonb(a)::text FROM migration_rollback.audit_log a")
    return "\n".join(str(row[0]) for row in rows)


def test_every_value_of_an_audit_row_is_scrubbed(project: Project) -> None:
    url = f"postgresql://app:{ENCODED}@db.internal:5432/shop"
    redactor = Redactor.of([PASSWORD], masked={url: "postgresql://app:***@db.internal/shop"})
    with psycopg.connect(project.url, autocommit=True) as conn:
        row = audit.start(
            conn,
            migration=f"every migration newer than {url}?password={ENCODED}",
            dry_run=True,
            env={audit.ACTOR_ENV: f"alice (host=db password='{OTHER}')"},
            redactor=redactor,
        )
        audit.finish(
            conn,
            row,
            outcome="failed",
            sha256="ab" * 32,
            finished_at=datetime.now(UTC),
            statements=[{"sql": f"ALTER ROLE app PASSWORD '{PASSWORD}'"}],
            archived=[],
            error=f"could not connect: postgresql://shadow:{OTHER}@scratch/x",
            redactor=redactor,
        )
    stored = audit_text(project)
    for secret in (PASSWORD, ENCODED, OTHER):
        assert not leaked(secret, stored), stored
    assert "ab" * 32 in stored  # what the tool computed is kept as it is


def test_a_url_given_as_to_is_refused_before_any_connection(project: Project) -> None:
    url = f"postgresql://app:{ENCODED}@127.0.0.1:1/shop"
    run = project.execute("--to", url, "--dry-run")

    assert run.returncode == 2, run.stdout + run.stderr
    assert not leaked(PASSWORD, run.everything())
    assert not leaked(ENCODED, run.everything())
    # Nothing connected: no audit row (before: one holding the URL with its password).
    assert project.value("SELECT to_regclass('migration_rollback.audit_log')") is None


@pytest.fixture
def recorded_runs(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every command backup.py starts (the real one runs), with the service file as it was."""
    runs: list[dict[str, Any]] = []
    real = subprocess.run

    def recording(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[Any]:
        service = (kwargs.get("env") or {}).get("PGSERVICEFILE")
        seen = {"args": list(args), "service": service}
        if service:  # /proc/self/fd/N: the parent's descriptor the child inherits
            seen["target"] = os.readlink(service)
            seen["text"] = Path(service).read_text()
            seen["inherited"] = Path(service).name in map(str, kwargs.get("pass_fds", ()))
        runs.append(seen)
        return real(args, **kwargs)

    monkeypatch.setattr(backup.subprocess, "run", recording)
    return runs


def test_no_secret_reaches_pg_dumps_command_line(
    project: Project, tmp_path: Path, recorded_runs: list[dict[str, Any]]
) -> None:
    project.sql("CREATE TABLE public.kept (id int PRIMARY KEY); INSERT INTO public.kept VALUES (1)")
    passphrase = "SslKeyPassphrase42"
    url = f"{project.url}?sslmode=disable&sslpassword={passphrase}"
    with psycopg.connect(url) as conn:
        info = backup.take_dump(
            conn, tmp_path, server_major=conn.info.server_version // 10000, label="t",
            when=datetime.now(UTC), redactor=Redactor.of([passphrase]),
        )  # fmt: skip

    assert info.verified
    assert info.entries
    dump = next(r for r in recorded_runs if r["args"][0].endswith("pg_dump"))
    assert not any(passphrase in arg for arg in dump["args"]), dump["args"]
    assert f"sslpassword={passphrase}" in dump["text"]
    # Never on disk (a file in /tmp stayed, the passphrase in it, when the run was killed):
    # an anonymous memory file, gone with the last process holding it.
    assert dump["target"].startswith("/memfd:"), dump["target"]
    assert dump["inherited"]


def test_pg_dump_dumps_the_server_the_run_connected_to(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The user's PGSERVICE names the server; sslpassword in the URL needs the private service
    # file, which replaced the user's: pg_dump connected to another server (or none).
    project.sql("CREATE TABLE public.only_here (id int)")
    with psycopg.connect(project.url) as probe:
        where = {"host": probe.info.host, "port": probe.info.port, "user": probe.info.user}
        database, major = probe.info.dbname, probe.info.server_version // 10000
    services = tmp_path / "services.conf"
    services.write_text("[mine]\n" + "".join(f"{k}={v}\n" for k, v in where.items()))
    monkeypatch.setenv("PGSERVICE", "mine")
    monkeypatch.setenv("PGSERVICEFILE", str(services))
    folder = tmp_path / "dumps"
    folder.mkdir()
    with psycopg.connect(f"dbname={database} sslmode=disable sslpassword=Zq7Pass") as conn:
        info = backup.take_dump(
            conn, folder, server_major=major, label="t", when=datetime.now(UTC),
            redactor=Redactor.of(["Zq7Pass"]),
        )  # fmt: skip

    listing = subprocess.run(
        [str(backup.find_client_tool("pg_restore", major)), "--list", info.path],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "only_here" in listing


@pytest.mark.parametrize("value", [" padded", "two\nlines"])
def test_a_secret_a_service_file_cannot_hold_is_refused_unquoted(value: str) -> None:
    params = {"host": "db", "dbname": "shop", "sslpassword": value}
    with pytest.raises(backup.BackupError) as caught, backup.libpq_target(params, None):
        pass
    assert "sslpassword" in caught.value.message
    assert value.strip() not in caught.value.message


def apply_run(project: Project, url: str) -> subprocess.CompletedProcess[str]:
    env = {**project.environment(url), "PGPASSWORD": ""}
    return subprocess.run(
        [*project.command()[:-1], "apply"], cwd=project.root, env=env,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_a_migration_holding_the_runs_own_password_is_refused(project: Project) -> None:
    # The history row keeps statements as they ran: the password would stay in it. The test
    # server trusts local connections, so the URL's password is never checked, but the run
    # knows it as its secret, as it would a real one.
    secret = "Zq7Xk9Vw3Jp8Lm2"
    sql_text = f"CREATE TABLE public.t (id int);\nALTER ROLE app PASSWORD '{secret}';\n"
    (project.migrations / "20250101000001_t.sql").write_text(sql_text)
    done = apply_run(project, f"{project.url}?password={secret}")

    assert done.returncode != 0, done.stdout + done.stderr
    assert "20250101000001_t.sql:2:1: this statement holds the password" in done.stdout
    assert not leaked(secret, done.stdout + done.stderr)
    assert project.value("SELECT to_regclass('public.t') IS NULL") is True  # nothing ran


def test_the_history_row_keeps_the_statements_as_they_ran(project: Project) -> None:
    # As the Supabase CLI stores them (`migration fetch` writes them back to files): a
    # password of someone else's, an identifier that looks like a password place, unmasked.
    sql_text = (
        "CREATE TABLE public.t (id int);\n"
        "COMMENT ON TABLE public.t IS 'set password = rotate via TO vault_fdw';\n"
    )
    (project.migrations / "20250101000001_t.sql").write_text(sql_text)
    done = apply_run(project, f"{project.url}?password=Zq7OtherPw")

    assert done.returncode == 0, done.stdout + done.stderr
    stored = project.value("SELECT statements FROM supabase_migrations.schema_migrations")
    assert stored == [
        "CREATE TABLE public.t (id int)",
        "COMMENT ON TABLE public.t IS 'set password = rotate via TO vault_fdw'",
    ]
