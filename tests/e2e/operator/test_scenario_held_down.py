"""Something scales the app back up during the window (GitOps self-heal): it is held down."""

from __future__ import annotations

import pytest
from scenario import Shop, wait_for

pytestmark = pytest.mark.e2e

SLOW = """-- ROLLBACK: 20251113000001_timeline_social_features
SELECT pg_sleep(6);
DROP INDEX IF EXISTS public.idx_timeline_comments_event;
"""


def test_scale_up_during_the_window_is_held_down(shop: Shop) -> None:
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
    assert "HeldDown" in shop.events("undo-held")
    done = shop.wait_phase("undo-held", "Succeeded", "Failed", timeout=120)
    assert done["status"]["phase"] == "Succeeded", done["status"].get("message")
    assert shop.replicas() == 3
