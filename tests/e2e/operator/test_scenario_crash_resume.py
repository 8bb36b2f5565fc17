"""The operator is killed (SIGKILL) in each phase and started again: the rollback still ends
right, the app comes back at exactly its replicas, and nothing runs twice."""

from __future__ import annotations

import pytest
from kubernetes import client
from scenario import OperatorProcess, Shop, wait_for

pytestmark = pytest.mark.e2e

# Slow enough (in the rehearsal and in the real run) for every phase to be caught.
SLOW = """-- ROLLBACK: 20251113000001_timeline_social_features
SELECT pg_sleep(2);
DROP INDEX IF EXISTS public.idx_timeline_comments_event;
"""
ORDER = ["Pending", "Validating", "Preparing", "ScalingDown", "RollingBack", "ScalingUp",
         "Verifying", "Succeeded", "Failed"]  # fmt: skip


@pytest.mark.parametrize(
    "kill_in", ["Validating", "Preparing", "ScalingDown", "RollingBack", "ScalingUp", "Verifying"]
)
def test_operator_killed_in_each_phase_resumes(
    shop: Shop, operator: OperatorProcess, kill_in: str
) -> None:
    name = f"crash-{kill_in.lower()}"
    shop.mrb(
        name, migration="20251113000001_timeline_social_features", rollback={"sql": SLOW},
        backup={"mode": "none"},
    )  # fmt: skip

    def reached() -> str | None:
        phase = shop.phase(name)
        return phase if phase and ORDER.index(phase) >= ORDER.index(kill_in) else None

    at_kill = wait_for(f"{name} to reach {kill_in}", reached, timeout=120)
    operator.kill()  # returns once the process is gone
    operator.start()

    done = shop.wait_phase(name, "Succeeded", "Failed", timeout=180)
    status = done["status"]
    downtime = status.get("metrics", {}).get("downtime")
    line = f"killed in {kill_in} (observed {at_kill}) -> {status['phase']}, downtime {downtime}"
    print(f"crash-resume: {line}, replicas {shop.replicas()}")
    assert status["phase"] == "Succeeded", status.get("message")
    assert shop.replicas() == 3
    wait_for("3 ready pods", lambda: shop.ready_replicas() == 3)
    assert not shop.sql("SELECT to_regclass('public.idx_timeline_comments_event')")[0][0]
    jobs = client.BatchV1Api(shop.k8s).list_namespaced_job(shop.namespace).items
    assert len([j for j in jobs if "-rollback-" in j.metadata.name]) == 1, "the Job ran once"
    calls = shop.endpoints.maintenance_calls()
    assert calls[-1] == '{"enabled":false}'
    assert calls.count('{"enabled":false}') >= 1
