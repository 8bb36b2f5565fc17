"""Something scales the app back up during the window (GitOps self-heal): it is held down."""

from __future__ import annotations

import pytest
from scenario import OperatorProcess, Shop, wait_for

pytestmark = pytest.mark.e2e

SLOW = """-- ROLLBACK: 20251113000001_timeline_social_features
SELECT pg_sleep(6);
DROP INDEX IF EXISTS public.idx_timeline_comments_event;
"""


def test_scale_up_during_the_window_is_held_down(shop: Shop, operator: OperatorProcess) -> None:
    shop.mrb(
        "undo-held", migration="20251113000001_timeline_social_features", rollback={"sql": SLOW},
        backup={"mode": "none"},
    )  # fmt: skip
    shop.wait_phase("undo-held", "RollingBack", timeout=180)
    shop.apps.patch_namespaced_deployment_scale(
        "shop-web", shop.namespace, {"spec": {"replicas": 3}}
    )
    wait_for(
        "the operator to hold it down",
        lambda: (shop.get("undo-held")["status"].get("heldDown") or 0) >= 1,
    )
    shop.wait_events("undo-held", "HeldDown")
    # The alerting gauges see the app down and the rollback sitting in its phase.
    assert operator.metric("migration_rollback_app_down_seconds") > 0
    assert operator.metric("migration_rollback_resources", 'phase="RollingBack"') >= 1
    assert operator.metric("migration_rollback_phase_seconds", 'phase="RollingBack"') > 0
    done = shop.wait_phase("undo-held", "Succeeded", "Failed", timeout=120)
    assert done["status"]["phase"] == "Succeeded", done["status"].get("message")
    assert shop.replicas() == 3
    assert done["status"]["phaseTransitionTime"] >= done["status"]["startedAt"]
    wait_for(
        "the app-down gauge to clear once the app is back",
        lambda: operator.metric("migration_rollback_app_down_seconds") == 0 or None,
        timeout=30,
    )
