"""Something scales the app back up during the window (GitOps self-heal): it is held down."""

from __future__ import annotations

import pytest
from scenario import GATED, SOCIAL, OperatorProcess, Shop, wait_for

pytestmark = pytest.mark.e2e

# The alerting gauges, as they must read while the rollback runs with the app down.
APP_DOWN = ("migration_rollback_app_down_seconds", "")
IN_PHASE = ("migration_rollback_resources", 'phase="RollingBack"')
PHASE_SECONDS = ("migration_rollback_phase_seconds", 'phase="RollingBack"')


def test_scale_up_during_the_window_is_held_down(shop: Shop, operator: OperatorProcess) -> None:
    # The rollback stays in RollingBack until the gate opens: the scale-up and the gauges are
    # checked inside the window, not within a guess at how long it lasts.
    shop.close_gate()
    shop.mrb("undo-held", migration=SOCIAL, rollback={"sql": GATED}, backup={"mode": "none"})
    try:
        shop.wait_phase("undo-held", "RollingBack", timeout=180)
        shop.apps.patch_namespaced_deployment_scale(
            "shop-web", shop.namespace, {"spec": {"replicas": 3}}
        )
        wait_for(
            "the operator to hold it down",
            lambda: (shop.get("undo-held")["status"].get("heldDown") or 0) >= 1,
        )
        shop.wait_events("undo-held", "HeldDown")
        # The gauges follow kopf's watch of the status, a moment behind the phase.
        operator.wait_metrics(
            "the gauges to see the app down in RollingBack",
            [APP_DOWN, IN_PHASE, PHASE_SECONDS],
            lambda now: now[APP_DOWN] > 0 and now[IN_PHASE] >= 1 and now[PHASE_SECONDS] > 0,
        )
        assert shop.phase("undo-held") == "RollingBack"
    finally:
        shop.open_gate()
    done = shop.wait_phase("undo-held", "Succeeded", "Failed", timeout=120)
    assert done["status"]["phase"] == "Succeeded", done["status"].get("message")
    assert shop.replicas() == 3
    assert done["status"]["phaseTransitionTime"] >= done["status"]["startedAt"]
    operator.wait_metrics(
        "the app-down gauge to clear once the app is back",
        [APP_DOWN],
        lambda now: not now[APP_DOWN],
    )
