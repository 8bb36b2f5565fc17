"""Credentials written in migrations stay out of what `generate` and `validate` print and of the
comments and reports they write, while the rollback SQL that runs keeps what it needs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.leaks import leaked
from typer.testing import CliRunner

from migration_rollback.cli import app

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.Zk3vQ9xWp7Lm"
SECRETS = {
    "role": "hunter2Qz9Wk7",
    "md5": "md5qqqqrrrrssss",  # no piece of it is hex: a printed sha256 cannot hold one
    "user": "Zq8vWk3Pass",
    "server": "srvQ7x9Kp2",
    "mapping": "mapZ4q8Wv1",
    "vault": "vltR5t8Yq3",
    "jwt": JWT,
    "apikey": "Nq4Xw8Tz2Lp6Rk",  # after the vendor prefix sb_secret_ (no secret)
    "slack": "XXWQ7ZK2SECRETTOKEN",
}
ROLES = f"""create table public.t (id int primary key, password_hash text);
-- set the password for role r
create role r login password '{SECRETS["role"]}';
alter role r with password '{SECRETS["md5"]}';
create user u2 encrypted password '{SECRETS["user"]}';
create server s foreign data wrapper postgres_fdw options (host 'h', password '{SECRETS["server"]}');
create user mapping for r server s options (user 'x', password '{SECRETS["mapping"]}');
select vault.create_secret('{SECRETS["vault"]}', 'stripe', 'the key');
select cron.schedule('job', '* * * * *', $$ select net.http_post(url:='https://x.supabase.co/functions/v1/f', headers:='{{"Authorization":"Bearer {JWT}","apikey":"sb_secret_{SECRETS["apikey"]}"}}'::jsonb) $$);
select cron.schedule('hook', '0 * * * *', $$ select net.http_post('https://hooks.slack.com/services/T0/B0/{SECRETS["slack"]}') $$);
"""  # noqa: E501 (the statements are on one line each, as the excerpts quote them)
# A function whose earlier definition holds a key it needs: its rollback recreates it.
FUNCTION = (
    "function public.ping() returns void language sql as "
    f"$$ select net.http_post(url:='https://x.supabase.co/functions/v1/f', "
    f'headers:=\'{{"Authorization":"Bearer {JWT}"}}\'::jsonb) $$'
)


@pytest.fixture
def migrations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "supabase" / "migrations"
    folder.mkdir(parents=True)
    (folder / "20250101000000_roles.sql").write_text(ROLES)
    (folder / "20250102000000_fn.sql").write_text(f"create {FUNCTION};\n")
    replaced = (
        "create or replace function public.ping() returns void language sql as $$ select 1 $$"
    )
    (folder / "20250103000000_fn2.sql").write_text(f"{replaced};\n")
    monkeypatch.chdir(tmp_path)
    return folder


def printed(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.output + (getattr(result, "stderr", "") or "")


def shown_in_files(folder: Path) -> str:
    """The generated files' comments and reports (not the SQL that runs)."""
    comments = [
        line
        for path in sorted(folder.glob("*_rollback.sql"))
        for line in path.read_text().splitlines()
        if line.startswith("--")
    ]
    reports = [path.read_text() for path in sorted(folder.glob("*_rollback.md"))]
    return "\n".join([*comments, *reports])


def executable(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line and not line.startswith("--")]


def test_no_piece_of_a_credential_in_outputs_comments_or_reports(migrations: Path) -> None:
    outputs = [
        printed("generate"),
        printed("validate"),
        printed("validate", "--format", "json"),
    ]
    json.loads(outputs[2])  # the JSON report is whole, masks and all
    shown = "\n".join([*outputs, shown_in_files(migrations)])

    assert "MANUAL" in shown
    assert "password '***'" in shown
    for name, secret in SECRETS.items():
        assert not leaked(secret, shown), (name, leaked(secret, shown))


def test_the_rollback_that_runs_keeps_the_credential_it_needs(migrations: Path) -> None:
    printed("generate")

    recreated = executable(migrations / "20250103000000_fn2_rollback.sql")
    assert recreated == [f"CREATE OR REPLACE {FUNCTION};"]
    assert executable(migrations / "20250101000000_roles_rollback.sql") == [
        "SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname = 'hook';",
        "SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname = 'job';",
        "DELETE FROM vault.secrets WHERE name = 'stripe';",
        "DROP SERVER IF EXISTS s;",
        "DROP ROLE IF EXISTS u2;",
        "DROP ROLE IF EXISTS r;",
        "DROP TABLE IF EXISTS public.t;",
    ]
