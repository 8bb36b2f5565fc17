"""Platform calls a plain SELECT makes, undone and proven on a real PostgreSQL: pgmq queues
made in the migration (dropped by the rollback, so that the schema made with them can go too),
and a cron job replaced by `unschedule … WHERE EXISTS` (or its lookup spelling `unschedule(jobid)
FROM cron.job WHERE jobname = …`) then `schedule` of the same name (the schedule's undo puts
back what was there; the guarded unschedule needs no undo of its own).
Seen in real projects: a baseline making its queues with `SELECT pgmq.create(…)`, whose rollback
failed at `DROP SCHEMA pgmq`; a cron migration left with MANUAL items.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from verify_support import assert_verified, generate_replays

from migration_rollback.verify import GeneratedRollback

pytestmark = pytest.mark.integration

BASE = "create extension if not exists pg_cron;\n"

MIGRATIONS: list[tuple[str, str]] = [
    (
        "queues_in_their_own_schema",
        "create schema if not exists pgmq;\n"
        "create extension if not exists pgmq with schema pgmq;\n"
        "select pgmq.create('jobs13');\n"
        "select pgmq.create_unlogged('fast13');\n",
    ),
    (
        "cron_job_replaced",
        "select cron.unschedule('nightly13') where exists "
        "(select 1 from cron.job where jobname = 'nightly13');\n"
        "select cron.schedule('nightly13', '0 3 * * *', $$select 1$$);\n",
    ),
    (  # the lookup spelling of the same guard, as a real project writes it
        "cron_job_replaced_by_lookup",
        "select cron.unschedule(jobname) from cron.job where jobname = 'hourly13';\n"
        "select cron.unschedule(j.jobid) from cron.job j where j.jobname = 'hourly13';\n"
        "select cron.schedule('hourly13', '0 * * * *', $$select 2$$);\n",
    ),
]


@pytest.fixture(scope="module")
def generated(
    tmp_path_factory: pytest.TempPathFactory, pg_server: object
) -> dict[str, GeneratedRollback]:
    root: Path = tmp_path_factory.mktemp("platform_calls")
    guarded_alone = (
        "guarded_unschedule_alone",
        "select cron.unschedule('other13') where exists "
        "(select 1 from cron.job where jobname = 'other13');\n",
    )
    admin_url = str(pg_server.admin_url)  # type: ignore[attr-defined]
    return generate_replays(root, BASE, [*MIGRATIONS, guarded_alone], admin_url)


@pytest.mark.parametrize("case", [name for name, _ in MIGRATIONS])
def test_rollback_is_verified(generated: dict[str, GeneratedRollback], case: str) -> None:
    assert_verified(generated[case])


def test_what_the_rollbacks_say(generated: dict[str, GeneratedRollback]) -> None:
    queues = generated["queues_in_their_own_schema"].sql_body or ""
    assert queues.index("SELECT pgmq.drop_queue('fast13')") < queues.index(
        "SELECT pgmq.drop_queue('jobs13')"
    )
    assert "messages sent to it since are lost" in queues
    cron = generated["cron_job_replaced"].sql_body or ""
    assert "is replaced by line 2, whose undo restores it" in cron
    assert "jobname = 'nightly13'" in cron
    lookup = generated["cron_job_replaced_by_lookup"].sql_body or ""
    assert lookup.count("is replaced by line 3, whose undo restores it") == 2
    assert "MANUAL" not in lookup


def test_a_guarded_unschedule_alone_stays_manual(generated: dict[str, GeneratedRollback]) -> None:
    g = generated["guarded_unschedule_alone"]
    assert g.result.status == "manual"
    assert [m.need for m in g.still_manual] == ["DYNAMIC"]
    # the schema came back all the same: what a schema-only peer would call restored
    assert g.result.schema_restored
    assert g.result.to_json()["schema_restored"] is True


def _through_the_socket(admin_url: str) -> str:
    """The same server's superuser URL through its Unix socket (no TCP port of the session)."""
    with psycopg.connect(admin_url) as conn:
        directory = str(conn.execute("SHOW unix_socket_directories").fetchone()[0])  # type: ignore[index]
        port = str(conn.execute("SHOW port").fetchone()[0])  # type: ignore[index]
    return f"postgresql://postgres@/postgres?host={directory.split(',')[0].strip()}&port={port}"


def test_a_job_scheduled_through_a_unix_socket(tmp_path: Path, pg_server: object) -> None:
    """Over a Unix socket `inet_server_port()` is NULL: the stand-in's job table still takes a
    job (seen with `--shadow-url ...?host=/tmp`: every cron migration of two real projects
    failed on cron.job.nodeport)."""
    url = _through_the_socket(str(pg_server.admin_url))  # type: ignore[attr-defined]
    schedule = ("scheduled", "select cron.schedule('socket13', '0 3 * * *', $$select 3$$);\n")
    generated = generate_replays(tmp_path, BASE, [schedule], url)
    assert_verified(generated["scheduled"])
