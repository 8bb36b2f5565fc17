"""Deleting the resource while the app is down brings the app back before it goes."""

from __future__ import annotations

import pytest
from kubernetes.client.exceptions import ApiException
from scenario import Shop, wait_for

pytestmark = pytest.mark.e2e

SLOW = """-- ROLLBACK: 20251113000001_timeline_social_features
SELECT pg_sleep(20);
DROP INDEX IF EXISTS public.idx_timeline_comments_event;
"""


def gone(shop: Shop, name: str) -> bool:
    try:
        shop.get(name)
    except ApiException as exc:
        return exc.status == 404
    return False


def test_delete_mid_flow_restores_the_app(shop: Shop) -> None:
    shop.mrb(
        "undo-slow", migration="20251113000001_timeline_social_features", rollback={"sql": SLOW},
        backup={"mode": "none"},
    )  # fmt: skip
    shop.wait_phase("undo-slow", "RollingBack", timeout=180)
    assert shop.replicas() == 0
    shop.delete("undo-slow")
    wait_for("the resource to be gone", lambda: gone(shop, "undo-slow"), timeout=60)
    assert shop.replicas() == 3
    assert shop.endpoints.maintenance_calls()[-1] == '{"enabled":false}'
