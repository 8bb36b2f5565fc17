"""The watch cache keeps the newest state of each Job and workload, whichever of a watch event
and the answer to the controller's own write arrives first (pure: no API server)."""

from __future__ import annotations

from typing import Any

import pytest

from migration_rollback.controller.cache import WatchCache, workload_state


def deployment(version: str, replicas: int, ready: int = 0, **status: Any) -> dict[str, Any]:
    return {
        "metadata": {"namespace": "shop", "name": "web", "resourceVersion": version},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}}},
        "status": {"replicas": replicas, "readyReplicas": ready, **status},
    }


def test_a_stale_event_does_not_undo_the_controllers_own_scale() -> None:
    cache = WatchCache()
    cache.put_workload("Deployment", deployment("10", 3, 3))
    cache.scaled(
        "shop",
        "Deployment",
        "web",
        {"metadata": {"resourceVersion": "12"}, "spec": {"replicas": 0}},
    )
    cache.put_workload("Deployment", deployment("11", 3, 3))  # sent before our scale
    state = cache.workload("shop", "Deployment", "web")
    assert state is not None
    assert state.desired == 0
    cache.put_workload("Deployment", deployment("13", 0, 0))
    state = cache.workload("shop", "Deployment", "web")
    assert state is not None
    assert (state.desired, state.current_pods, state.resource_version) == (0, 0, "13")


def test_a_job_event_replaces_an_older_one_and_deletion_forgets_it() -> None:
    cache = WatchCache()
    job = {"metadata": {"namespace": "shop", "name": "undo-rollback-1", "resourceVersion": "5"}}
    done = {**job, "metadata": {**job["metadata"], "resourceVersion": "7"}, "status": {"x": 1}}
    cache.put_job(done)
    cache.put_job(job)
    assert cache.job("shop", "undo-rollback-1") == done
    cache.forget("Job", done)
    assert cache.job("shop", "undo-rollback-1") is None


@pytest.mark.parametrize(
    ("status", "terminating"),
    [({}, None), ({"terminatingReplicas": 2}, 2), ({"terminatingReplicas": 0}, 0)],
    ids=["not reported", "some terminating", "none terminating"],
)
def test_terminating_replicas_are_read_only_where_reported(
    status: dict[str, Any], terminating: int | None
) -> None:
    state = workload_state(deployment("1", 0, **status))
    assert state.terminating == terminating
    assert dict(state.match_labels) == {"app": "web"}


def test_a_workload_without_replicas_defaults_to_one() -> None:
    obj = deployment("1", 0)
    del obj["spec"]["replicas"]
    assert workload_state(obj).desired == 1


def test_a_finished_rollbacks_entries_are_dropped() -> None:
    cache = WatchCache()
    cache.put_workload("Deployment", deployment("1", 3))
    cache.put_job({"metadata": {"namespace": "shop", "name": "j", "resourceVersion": "1"}})
    cache.forget_rollback("shop", ["j"], [("shop", "Deployment", "web")])
    assert cache.workload("shop", "Deployment", "web") is None
    assert cache.job("shop", "j") is None


@pytest.mark.parametrize(
    ("generation", "observed", "settled"),
    [(3, 3, True), (3, 2, False), (3, None, False)],
    ids=["acted on", "not yet acted on", "never acted on"],
)
def test_a_workload_is_settled_once_its_controller_saw_its_spec(
    generation: int, observed: int | None, settled: bool
) -> None:
    obj = deployment("1", 0, **({"observedGeneration": observed} if observed else {}))
    obj["metadata"]["generation"] = generation
    assert workload_state(obj).settled is settled


def test_our_own_scale_is_not_settled_until_a_watch_event_says_so() -> None:
    cache = WatchCache()
    cache.put_workload("Deployment", deployment("5", 3))
    answer = {"metadata": {"resourceVersion": "6"}, "spec": {"replicas": 0}}
    cache.scaled("shop", "Deployment", "web", answer)
    state = cache.workload("shop", "Deployment", "web")
    assert state is not None
    assert (state.desired, state.settled) == (0, False)


def test_only_a_change_a_decision_reads_counts_as_one() -> None:
    """What wakes a flow: a Job new here or ending, a workload's counts or generation moving;
    not the Job's counters on the way nor a workload's version alone."""
    cache = WatchCache()
    meta = {"namespace": "shop", "name": "undo-rollback-1"}
    running = {"metadata": {**meta, "resourceVersion": "5"}, "status": {"active": 1}}
    ready = {"metadata": {**meta, "resourceVersion": "6"}, "status": {"active": 1, "ready": 1}}
    complete = {"type": "Complete", "status": "True", "lastTransitionTime": "t"}
    done = {"metadata": {**meta, "resourceVersion": "8"}, "status": {"conditions": [complete]}}
    assert cache.put_job(running)
    assert not cache.put_job(ready)
    assert not cache.put_job(running)  # stale
    assert cache.put_job(done)
    assert cache.put_workload("Deployment", deployment("10", 3, 3))
    assert not cache.put_workload("Deployment", deployment("11", 3, 3))
    assert cache.put_workload("Deployment", deployment("12", 3, 2))
    assert not cache.put_workload("Deployment", deployment("9", 0, 0))  # stale
