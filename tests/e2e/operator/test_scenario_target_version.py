"""spec.targetVersion: three migrations applied, everything newer than the first rolled back.

One resource, one approval over the whole set's sha256, one Job running `execute --to`: the
newer two migrations go newest first in one transaction, the schema is the first migration's
again, `status.migrations` shows both RolledBack, and the app comes back. A target the project
does not have ends Failed before anything is touched.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from kubernetes import client
from scenario import MIGRATIONS, Shop, apply_sql, rollback_sql_for, wait_for

from migration_rollback import api
from migration_rollback.verify.baseline import load_baseline

pytestmark = pytest.mark.e2e

FIRST, SECOND, THIRD = (
    "20251101000001_initial_schema",
    "20251105000001_timeline_events",
    "20251113000001_timeline_social_features",
)

# The shape of the public schema: what the first migration made, whatever oids it got.
SHAPE = """
SELECT 'rel', c.relname, c.relkind::text,
       coalesce((SELECT string_agg(a.attname || ':' || format_type(a.atttypid, a.atttypmod)
                                   || ':' || a.attnotnull, ',' ORDER BY a.attnum)
                 FROM pg_attribute a
                 WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '')
FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
UNION ALL
SELECT 'con', conrelid::regclass::text, conname, pg_get_constraintdef(oid)
FROM pg_constraint WHERE connamespace = 'public'::regnamespace
UNION ALL
SELECT 'proc', proname, prokind::text, md5(prosrc)
FROM pg_proc WHERE pronamespace = 'public'::regnamespace
UNION ALL
SELECT 'policy', c.relname, p.polname, pg_get_expr(p.polqual, p.polrelid)
FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
WHERE c.relnamespace = 'public'::regnamespace
UNION ALL
SELECT 'trigger', c.relname, t.tgname, ''
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal
ORDER BY 1, 2, 3
"""


def shape(url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return list(conn.execute(SHAPE).fetchall())  # type: ignore[arg-type]


def first_migration_only(pg_server: Any) -> tuple[str, str]:
    """A database that only ever had the first migration: what the rollback must come back to."""
    dbname = pg_server.create_database("first")
    url = pg_server.url_for(dbname)
    with psycopg.connect(url, autocommit=True) as conn:
        load_baseline(conn)
    apply_sql(url, (MIGRATIONS / f"{FIRST}.sql").read_text())
    return dbname, url


def migrations_config_map(shop: Shop, name: str) -> None:
    """The project's migrations directory as `kubectl create configmap --from-file` makes it:
    the three applied migrations and the reviewed rollbacks of the two newer ones."""
    data = {f"{m}.sql": (MIGRATIONS / f"{m}.sql").read_text() for m in (FIRST, SECOND, THIRD)}
    data |= {f"{m}_rollback.sql": rollback_sql_for(m) for m in (SECOND, THIRD)}
    shop.core.create_namespaced_config_map(
        shop.namespace, {"metadata": {"name": name}, "data": data}
    )


def test_everything_newer_than_the_target_is_rolled_back_in_one_job(
    shop: Shop, pg_server: Any
) -> None:
    dbname, reference = first_migration_only(pg_server)
    try:
        expected = shape(reference)
    finally:
        pg_server.drop_database(dbname)
    assert shape(shop.database_url) != expected
    migrations_config_map(shop, "shop-migration-dir")
    shop.mrb(
        "undo-to-first",
        targetVersion=FIRST.split("_")[0],
        rollback={"migrationsFrom": {"configMapRef": {"name": "shop-migration-dir"}}},
        allowDataLoss=True,
    )

    # One approval over the whole set: MANUAL items in the newest one stop it here.
    waiting = shop.wait_phase("undo-to-first", "AwaitingApproval")["status"]
    listed = [(m["name"], m["state"]) for m in waiting["migrations"]]
    assert listed == [(THIRD, "Pending"), (SECOND, "Pending")]
    sha = waiting["sqlSha256"]
    assert f"{api.APPROVAL_ANNOTATION}={sha}" in waiting["message"]
    assert shop.replicas() == 3, "nothing is touched before approval"
    shop.annotate("undo-to-first", {api.APPROVAL_ANNOTATION: sha})

    done = shop.wait_phase("undo-to-first", "Succeeded", "Failed", timeout=240)["status"]
    assert done["phase"] == "Succeeded", done.get("message")
    assert [(m["name"], m["state"]) for m in done["migrations"]] == [
        (THIRD, "RolledBack"),
        (SECOND, "RolledBack"),
    ]
    assert done["result"]["migrations"] == [THIRD.split("_")[0], SECOND.split("_")[0]]
    # The database is the first migration's again; the history says so too.
    assert shop.history() == [FIRST.split("_")[0]]
    assert shape(shop.database_url) == expected
    # One rehearsal and one rollback Job ran, both over the set.
    jobs = (
        client.BatchV1Api(shop.k8s)
        .list_namespaced_job(
            shop.namespace, label_selector="rollback.migrations.dev/resource=undo-to-first"
        )
        .items
    )
    assert len(jobs) == 2, [j.metadata.name for j in jobs]
    for job in jobs:
        args = job.spec.template.spec.containers[0].args
        assert args[args.index("--to") + 1] == FIRST.split("_")[0]
        assert args[args.index("--expect-set-sha256") + 1] == sha
    # The application is back.
    assert shop.replicas() == 3
    wait_for("3 ready pods", lambda: shop.ready_replicas() == 3)
    assert shop.endpoints.maintenance_calls() == ['{"enabled":true}', '{"enabled":false}']


def test_an_unknown_target_fails_before_anything_is_touched(shop: Shop) -> None:
    migrations_config_map(shop, "shop-migration-dir")
    before = shop.history()
    shop.mrb(
        "undo-to-nowhere",
        targetVersion="20251102000000",
        rollback={"migrationsFrom": {"configMapRef": {"name": "shop-migration-dir"}}},
    )
    done = shop.wait_phase("undo-to-nowhere", "Succeeded", "Failed", timeout=120)["status"]
    assert done["phase"] == "Failed"
    assert done["reason"] == "UnknownTargetVersion"
    assert "spec.targetVersion 20251102000000 is not a migration in ConfigMap" in done["message"]
    assert "20251113000001" in done["message"]  # it names the versions there are
    assert shop.condition("undo-to-nowhere", "Failed")["status"] == "True"
    shop.wait_events("undo-to-nowhere", "UnknownTargetVersion")
    assert not done.get("jobName")
    assert shop.history() == before
    assert shop.replicas() == 3
    assert shop.endpoints.maintenance_calls() == []
