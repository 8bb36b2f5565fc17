"""A migration broke production; a MigrationRollback undoes it end to end.

The example project's third migration (timeline likes and comments) has a MANUAL item and drops
tables, so the resource waits for approval of its exact SQL, then stops the app, runs the Job,
brings the app back and checks it.
"""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client
from scenario import Shop, wait_for

from migration_rollback import api

pytestmark = pytest.mark.e2e
MIGRATION = "20251113000001_timeline_social_features"
HANDLED = f"{api.GROUP}/last-handled-configuration"  # kopf's diff base (controller.handlers)


def test_rollback_succeeds_end_to_end(shop: Shop) -> None:
    waiting = shop.undo_social("undo-social")
    sha = waiting["status"]["sqlSha256"]
    assert f"{api.APPROVAL_ANNOTATION}={sha}" in waiting["status"]["message"]
    assert shop.replicas() == 3, "nothing is touched before approval"
    assert shop.condition("undo-social", "Stalled")["status"] == "True"

    shop.annotate("undo-social", {api.APPROVAL_ANNOTATION: sha})
    done = shop.wait_phase("undo-social", "Succeeded", "Failed", timeout=180)
    status = done["status"]
    assert status["phase"] == "Succeeded", status.get("message")

    # The database: the migration's tables are archived, its history row is gone.
    assert not shop.table_exists("public.timeline_likes")
    assert not shop.table_exists("public.timeline_comments")
    archived = sorted(
        r[0]
        for r in shop.sql(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'migration_rollback_archive'"
        )
    )
    # Two dropped tables moved whole, and the dropped column copied out with its keys.
    assert len(archived) == 3, archived
    assert sum(name.startswith("timeline_likes__20251113000001") for name in archived) == 1
    assert sum(name.startswith("timeline_comments__20251113000001") for name in archived) == 1
    assert sum("like_count" in name for name in archived) == 1
    assert "20251113000001" not in shop.history()
    assert "20251105000001" in shop.history()

    # The application: back at exactly its replicas, maintenance on then off.
    assert shop.replicas() == 3
    wait_for("3 ready pods", lambda: shop.ready_replicas() == 3)
    assert status["originalReplicas"] == {"shop-web": 3}
    calls = shop.endpoints.maintenance_calls()
    assert calls == ['{"enabled":true}', '{"enabled":false}']
    assert shop.endpoints.headers[0]["Authorization"] == "Bearer s3cret-token"

    # What kubectl shows: conditions, steps, metrics, events.
    assert shop.condition("undo-social", "Ready")["status"] == "True"
    assert shop.condition("undo-social", "Succeeded")["status"] == "True"
    steps = {s["name"]: s["state"] for s in status["steps"]}
    for step in ("Validate", "Approve", "DryRun", "RecordReplicas", "MaintenanceOn", "ScaleDown",
                 "Rollback", "ScaleUp", "HealthCheck", "MaintenanceOff"):  # fmt: skip
        assert steps.get(step) == "Done", (step, steps)
    metrics = status["metrics"]
    assert metrics["downtimeSeconds"] > 0
    assert metrics["durationSeconds"] >= metrics["downtimeSeconds"]
    assert metrics["statements"] >= 10
    assert status["backup"]["verified"] is True
    shop.wait_events("undo-social", "ScaleDownDone", "RollbackSucceeded")
    assert status["observedGeneration"] == done["metadata"]["generation"]


def test_applying_a_finished_resource_again_does_nothing(shop: Shop) -> None:
    sql = f"-- ROLLBACK: {MIGRATION}\nDROP INDEX IF EXISTS public.idx_timeline_likes_event;\n"
    shop.rollback_config_map("one-index", sql)
    shop.mrb(
        "undo-index",
        migration=MIGRATION,
        rollback={"configMapRef": {"name": "one-index", "key": "rollback.sql"}},
    )
    first = shop.wait_phase("undo-index", "Succeeded", "Failed", timeout=180)
    assert first["status"]["phase"] == "Succeeded", first["status"].get("message")
    job = first["status"]["jobName"]
    # A metadata change (as a GitOps re-sync makes) must not start anything again.
    shop.annotate("undo-index", {"example.com/resynced": "yes"})
    # kopf stores each change it has handled (its diff base): once that holds the re-sync, the
    # operator has seen it and decided on it, whatever the time it took.
    again = wait_for("the operator to handle the re-sync", lambda: handled(shop, "undo-index"))
    assert again["status"]["finishedAt"] == first["status"]["finishedAt"]
    assert again["status"]["jobName"] == job
    jobs = client.BatchV1Api(shop.k8s).list_namespaced_job(shop.namespace).items
    assert len([j for j in jobs if "-rollback-" in j.metadata.name]) == 1


def handled(shop: Shop, name: str) -> dict[str, Any] | None:
    """The resource, once kopf's record of what it handled holds the re-sync annotation."""
    obj = shop.get(name)
    diff_base = obj["metadata"].get("annotations", {}).get(HANDLED, "")
    return obj if "example.com/resynced" in diff_base else None
