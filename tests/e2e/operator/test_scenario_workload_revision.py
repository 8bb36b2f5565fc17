"""`spec.workloads[].revision: previous`: the app shipped with the migration comes back on the
version that ran before it (as `kubectl rollout undo` picks it), recorded before scale-down."""

from __future__ import annotations

from typing import Any

import pytest
from scenario import SOCIAL, Shop, wait_for

pytestmark = pytest.mark.e2e

QUICK = f"-- ROLLBACK: {SOCIAL}\nDROP INDEX IF EXISTS public.idx_timeline_comments_event;\n"


def deployment(shop: Shop) -> Any:
    return shop.apps.read_namespaced_deployment("shop-web", shop.namespace)


def rolled_out(shop: Shop, revision: str) -> bool:
    d = deployment(shop)
    return (
        (d.metadata.annotations or {}).get("deployment.kubernetes.io/revision") == revision
        and d.status.observed_generation == d.metadata.generation
        and (d.status.updated_replicas or 0) == 3
        and (d.status.ready_replicas or 0) == 3
    )


def image(shop: Shop) -> str:
    return str(deployment(shop).spec.template.spec.containers[0].image)


def test_previous_revision_comes_back_after_the_rollback(shop: Shop) -> None:
    # The migration shipped with a new version of the app: revision 2.
    shop.apps.patch_namespaced_deployment(
        "shop-web",
        shop.namespace,
        {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "shop/web:2"}]}}}},
    )
    wait_for("shop-web revision 2 to roll out", lambda: rolled_out(shop, "2"), timeout=90)

    shop.mrb(
        "undo-with-app",
        migration=SOCIAL,
        rollback={"sql": QUICK},
        backup={"mode": "none"},
        workloads=[{"kind": "Deployment", "name": "shop-web", "revision": "previous"}],
    )
    done = shop.wait_phase("undo-with-app", "Succeeded", "Failed", timeout=180)["status"]
    assert done["phase"] == "Succeeded", done.get("message")
    recorded = done["revisions"]["shop-web"]
    assert (recorded["current"], recorded["target"]) == (2, 1)
    assert image(shop) == "shop/web:1"
    assert shop.replicas() == 3
    shop.wait_events("undo-with-app", "RevisionRestored")
    assert not shop.table_exists("public.idx_timeline_comments_event")


def test_a_revision_that_does_not_exist_fails_before_anything_stops(shop: Shop) -> None:
    shop.mrb(
        "undo-no-such-revision",
        migration=SOCIAL,
        rollback={"sql": QUICK},
        backup={"mode": "none"},
        workloads=[{"kind": "Deployment", "name": "shop-web", "revision": "previous"}],
    )
    done = shop.wait_phase("undo-no-such-revision", "Succeeded", "Failed", timeout=180)["status"]
    assert done["phase"] == "Failed"
    assert done["reason"] == "InvalidSpec"
    assert "no revision previous" in done["message"]
    assert shop.replicas() == 3
    assert image(shop) == "shop/web:1"
    assert shop.table_exists("public.idx_timeline_comments_event")
