"""The shadow runs the project's PostgreSQL major, or says plainly that it cannot.

The project's second migration uses `JSON_TABLE` (PostgreSQL 17 and later): verified on a 17
shadow (a throwaway cluster from the cached binaries, or a --shadow-url), refused with the
plain mismatch message when the shadow would be 15, and labelled when the user allows it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest
from majors_support import server_binaries
from typer.testing import CliRunner

from migration_rollback.cli import app
from migration_rollback.verify.cluster import (
    TemporaryCluster,
    available_majors,
    bindir_major,
    cache_root,
    find_server_bindir,
)
from migration_rollback.verify.majors import MajorRequirement, ShadowMajorError
from migration_rollback.verify.shadow import shadow_server

pytestmark = pytest.mark.integration

ORDERS = """\
create table public.orders (
  id bigint generated always as identity primary key,
  doc jsonb not null default '{}'::jsonb
);
"""
ORDER_LINES = """\
-- JSON_TABLE: PostgreSQL 17 and later.
create view public.order_lines as
  select o.id as order_id, lines.sku, lines.qty
  from public.orders o,
       json_table(o.doc, '$.lines[*]' columns (sku text path '$.sku', qty int path '$.qty'))
         as lines;
"""
NAMES = ["20260101000001_orders", "20260102000001_order_lines"]
MISMATCH = "the project targets PostgreSQL 17 but the shadow is PostgreSQL 15"
LABEL = "ran on PostgreSQL 15, not the project's PostgreSQL 17 (--allow-other-major)"


def make_project(root: Path, major: int | None, *, json_table: bool = True) -> Path:
    """A Supabase project: config.toml saying `major` (None: no config), and its migrations."""
    migrations = root / "supabase" / "migrations"
    migrations.mkdir(parents=True)
    if major is not None:
        (root / "supabase" / "config.toml").write_text(
            f'project_id = "shop"\n\n[db]\nport = 54322\nmajor_version = {major}\n'
        )
    (migrations / f"{NAMES[0]}.sql").write_text(ORDERS)
    if json_table:
        (migrations / f"{NAMES[1]}.sql").write_text(ORDER_LINES)
    return migrations


@pytest.fixture
def project17(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return make_project(tmp_path, 17)


@pytest.fixture(scope="session")
def pg17_bindir() -> Path:
    return server_binaries(17)


@pytest.fixture
def only_15_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The machine as if `scripts/pg-binaries.sh 17` never ran: Debian's 15 alone."""
    server_binaries(15)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))
    monkeypatch.delenv("MIGRATION_ROLLBACK_PG_BINDIR", raising=False)
    assert 17 not in available_majors(), "a PostgreSQL 17 outside the cache: cannot test"


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def verdicts(out: str) -> dict[str, dict[str, Any]]:
    doc = json.loads(out)
    return {m["migration"]: m["verification"] for m in doc["migrations"]}


def one_line(out: str) -> str:
    return " ".join(out.split())


# --- the binaries -----------------------------------------------------------------------------


def test_the_cached_17_binaries_are_found(pg17_bindir: Path) -> None:
    assert find_server_bindir(17) == pg17_bindir
    assert bindir_major(pg17_bindir) == 17
    if pg17_bindir.is_relative_to(cache_root()):
        assert (pg17_bindir.parent / ".installed").read_text().startswith("version=17.")


def test_the_17_server_runs_with_the_verifiers_extensions(pg17: TemporaryCluster) -> None:
    with psycopg.connect(pg17.url(), autocommit=True) as conn:
        version = conn.execute("select version()").fetchone()
        assert version is not None
        assert str(version[0]).startswith("PostgreSQL 17.")
        db = "ext_check"
        conn.execute(f"create database {db}")
    try:
        with psycopg.connect(pg17.url(db), autocommit=True) as conn:
            conn.execute('create extension pgcrypto; create extension "uuid-ossp"')
            row = conn.execute(
                "select gen_random_uuid(), uuid_generate_v4(), digest('x', 'sha256')"
            )
            assert all(v is not None for v in row.fetchone() or ())
    finally:
        with psycopg.connect(pg17.url(), autocommit=True) as conn:
            conn.execute(f"drop database {db} with (force)")


def test_a_given_server_reports_its_major(pg17: TemporaryCluster) -> None:
    with shadow_server(pg17.url(), MajorRequirement(17, "test")) as server:
        assert server.major == 17
        assert server.off_major is None
        assert server.description.endswith("PostgreSQL 17")


# --- verified on 17 ---------------------------------------------------------------------------


def test_a_pg17_project_is_proven_on_a_throwaway_17_cluster(
    project17: Path, pg17_bindir: Path
) -> None:
    code, out = invoke("generate", "--verify")
    assert code == 0, out
    assert out.count("verified") == 2, out
    code, out = invoke("validate", "--verify", "--format", "json")
    assert code == 0, out
    proofs = verdicts(out)
    assert {name: p["status"] for name, p in proofs.items()} == dict.fromkeys(NAMES, "verified")
    assert not any(LABEL in n for p in proofs.values() for n in p["notes"])


def test_a_pg17_project_is_proven_on_a_17_shadow_url(
    project17: Path, pg17: TemporaryCluster
) -> None:
    invoke("generate")
    code, out = invoke("validate", "--verify", "--shadow-url", pg17.url(), "--format", "json")
    assert code == 0, out
    assert {n: p["status"] for n, p in verdicts(out).items()} == dict.fromkeys(NAMES, "verified")


# --- refused on 15 ----------------------------------------------------------------------------


@pytest.mark.usefixtures("only_15_here")
@pytest.mark.parametrize("command", ["validate", "generate"])
def test_config_17_with_only_15_here_is_refused(project17: Path, command: str) -> None:
    code, out = invoke(command, "--verify")
    assert code == 2, out
    text = one_line(out)
    assert MISMATCH in text
    assert "no PostgreSQL 17 server binaries were found" in text
    assert "scripts/pg-binaries.sh 17" in text
    assert "supabase/config.toml [db] major_version" in text
    assert not list(project17.glob("*_rollback.sql"))  # nothing written from a refused run


@pytest.mark.parametrize("command", ["validate", "generate"])
def test_a_15_shadow_url_is_refused_for_a_17_project(
    project17: Path, pg15: TemporaryCluster, command: str
) -> None:
    code, out = invoke(command, "--verify", "--shadow-url", pg15.url())
    assert code == 2, out
    text = one_line(out)
    assert MISMATCH in text
    assert "scripts/pg-binaries.sh 17" in text
    assert "--allow-other-major" in text
    assert not list(project17.glob("*_rollback.sql"))


def test_the_flag_overrides_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       pg15: TemporaryCluster) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    make_project(tmp_path, 15, json_table=False)
    invoke("generate")
    code, out = invoke("validate", "--verify", "--shadow-url", pg15.url())
    assert code == 0, out
    code, out = invoke("validate", "--verify", "--shadow-url", pg15.url(), "--pg-major", "17")
    assert code == 2, out
    assert "the project targets PostgreSQL 17 but the shadow is PostgreSQL 15" in one_line(out)
    assert "comes from --pg-major" in one_line(out)


# --- allowed on 15: every verdict labelled ----------------------------------------------------


def test_allow_other_major_labels_every_verdict(project17: Path, pg15: TemporaryCluster) -> None:
    invoke("generate")
    args = ("validate", "--verify", "--shadow-url", pg15.url(), "--allow-other-major")
    code, out = invoke(*args, "--format", "json")
    assert code == 1, out  # JSON_TABLE does not exist on 15: the forward fails there
    proofs = verdicts(out)
    assert proofs[NAMES[0]]["status"] == "verified"
    assert proofs[NAMES[1]]["status"] == "forward_failed"
    assert all(LABEL in p["notes"] for p in proofs.values())
    code, out = invoke(*args)
    lines = [line for line in out.splitlines() if line.startswith("valid")]
    assert len(lines) == 2
    assert all(LABEL in line for line in lines), out


@pytest.mark.usefixtures("only_15_here")
def test_allow_other_major_uses_the_binaries_there_are(project17: Path) -> None:
    project17.joinpath(f"{NAMES[1]}.sql").unlink()  # what 15 can run
    invoke("generate")
    code, out = invoke("validate", "--verify", "--allow-other-major", "--format", "json")
    assert code == 0, out
    proof = verdicts(out)[NAMES[0]]
    assert proof["status"] == "verified"
    assert LABEL in proof["notes"]


def test_the_library_refuses_without_the_cli(pg15: TemporaryCluster) -> None:
    with (
        pytest.raises(ShadowMajorError, match=MISMATCH.replace("the project", "^the project")),
        shadow_server(pg15.url(), MajorRequirement(17, "supabase/config.toml")),
    ):
        pass
