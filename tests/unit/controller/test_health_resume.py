"""An operator restarted while Verifying goes on counting each health check from what status
holds (status.healthChecks), instead of starting over (the observer, with a fake probe: no
HTTP, no API server)."""

from __future__ import annotations

from typing import Any

from migration_rollback.controller.cache import WatchCache
from migration_rollback.controller.observe import Memory, Observer
from migration_rollback.controller.podwatch import PodWatches
from migration_rollback.kube.client import Clients
from migration_rollback.lifecycle import health
from migration_rollback.lifecycle.model import RollbackSpec
from migration_rollback.lifecycle.observation import Observation
from migration_rollback.lifecycle.status import RollbackStatus

CHECK = {"name": "api", "url": "http://web/health", "successThreshold": 2, "failureThreshold": 4}


def observer(answer: health.Probe) -> Observer:
    nothing = Clients(*([None] * 7))  # the health reader makes no API request
    return Observer(
        nothing, WatchCache(), Memory(), "shop", ("system", "shop/undo"),
        PodWatches(nothing, "shop", lambda: None), probe=lambda url, timeout: answer,
    )  # fmt: skip


def verify(answer: health.Probe, recorded: list[dict[str, Any]]) -> Observation:
    spec = RollbackSpec.from_obj({"spec": {"healthChecks": [CHECK]}})
    status = RollbackStatus.from_obj({"phase": "Verifying", "healthChecks": recorded})
    return observer(answer).health(Observation(), spec, status)


def test_passes_in_a_row_go_on_from_status() -> None:
    seen = verify(health.Probe(200), [{"name": "api", "successes": 1, "failures": 3}])
    (check,) = seen.health
    assert (check.verdict, check.successes, check.failures) == (health.Verdict.HEALTHY, 2, 3)


def test_failures_in_all_go_on_from_status() -> None:
    seen = verify(health.Probe(503), [{"name": "api", "successes": 1, "failures": 3}])
    (check,) = seen.health
    assert (check.verdict, check.successes, check.failures) == (health.Verdict.UNHEALTHY, 0, 4)


def test_without_counts_in_status_a_check_starts_from_zero() -> None:
    (check,) = verify(health.Probe(200), []).health
    assert (check.verdict, check.successes, check.failures) == (health.Verdict.PENDING, 1, 0)
    assert check.to_status() == {"name": "api", "successes": 1, "failures": 0,
                                 "message": "status 200"}  # fmt: skip
