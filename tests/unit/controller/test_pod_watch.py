"""What the pod watches read from a pod (pure: no API server): when it has ended, how, with
which termination message, and whether it still counts as Ready; and which Jobs end with their
pod."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from migration_rollback.controller.interpreter import Interpreter
from migration_rollback.controller.podwatch import PodWatch, PodWatches, ended_pod, pod_state
from migration_rollback.kube import jobs
from migration_rollback.kube.client import Clients
from migration_rollback.redact import Redactor


def pod(containers: int = 1, deleting: bool = False, **status: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "p", "resourceVersion": "3"}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    spec = {"containers": [{"name": f"c{i}"} for i in range(containers)]}
    return {"metadata": meta, "spec": spec, "status": status}


def terminated(code: int, message: str = "", at: str = "2026-01-01T00:00:01Z") -> dict[str, Any]:
    end = {"exitCode": code, "message": message, "finishedAt": at, "containerID": "cri-o://9a"}
    return {"state": {"terminated": end}}


RUNNING = {"state": {"running": {}}}
# What the kubelet (1.27+) writes for a container that never started when its pod is deleted.
KUBELET_FINAL = {"state": {"terminated": {"exitCode": 137, "reason": "ContainerStatusUnknown"}}}


def test_a_pod_ends_when_every_container_has_terminated() -> None:
    half = pod_state(pod(2, containerStatuses=[terminated(0), RUNNING]))
    failed = pod_state(pod(containerStatuses=[terminated(3, "{}")]))
    done = pod_state(pod(containerStatuses=[terminated(0, '{"outcome": "OK"}')]))
    assert (half.ended, failed.ended, failed.succeeded) == (False, True, False)
    assert (done.succeeded, done.message, done.finished_at) == (
        True, '{"outcome": "OK"}', "2026-01-01T00:00:01Z",
    )  # fmt: skip
    assert ended_pod([half, done]) == done
    assert ended_pod([half]) is None
    assert (half.started, done.started) == (True, True)
    assert not pod_state(pod(phase="Pending")).started  # no container yet: no Secret read


def test_a_final_phase_ends_a_pod_without_container_states() -> None:
    assert pod_state(pod(phase="Failed")).ended
    assert pod_state(pod(phase="Succeeded")).succeeded


@pytest.mark.parametrize(
    ("obj", "ready"),
    [
        (pod(conditions=[{"type": "Ready", "status": "True"}]), True),
        (pod(conditions=[{"type": "Ready", "status": "False"}]), False),
        (pod(deleting=True, conditions=[{"type": "Ready", "status": "True"}]), False),
    ],
    ids=["ready", "not ready", "being deleted"],
)
def test_a_pod_being_deleted_is_not_ready(obj: dict[str, Any], ready: bool) -> None:
    state = pod_state(obj)
    assert state.ready is ready
    assert state.deleting is ("deletionTimestamp" in obj["metadata"])
    assert not state.ended  # being deleted, it may still write: it counts until it is gone


def job(**spec: Any) -> dict[str, Any]:
    base = {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never"}}}
    return {"spec": {**base, **spec}}


def test_only_a_job_that_cannot_start_another_pod_ends_with_its_pod() -> None:
    assert jobs.single_pod(job())
    assert not jobs.single_pod(job(backoffLimit=1))
    assert not jobs.single_pod(job(completions=2))
    assert not jobs.single_pod(job(podFailurePolicy={"rules": []}))
    assert not jobs.single_pod(job(template={"spec": {"restartPolicy": "OnFailure"}}))


class _Forbidden:
    """An API whose pod list is refused (RBAC without list/watch on pods), counting calls."""

    calls = 0

    def list_namespaced_pod(self, *_: Any, **__: Any) -> Any:
        self.calls += 1
        raise PermissionError("pods is forbidden")


def test_a_watch_that_cannot_start_is_not_retried_and_the_reader_falls_back() -> None:
    core = _Forbidden()
    clients = Clients(None, core, None, None, None, None, None)
    watches = PodWatches(clients, "shop", lambda: None)
    assert watches.view("app=web", listed=True) is None
    assert watches.view("app=web", listed=True) is None
    assert core.calls == 1  # not listed again on every decision
    watches.keep_only_used()
    watches.stop_all()


def test_a_pod_names_its_replica_set_by_its_template_hash() -> None:
    obj = pod()
    assert pod_state(obj).template_hash == ""
    obj["metadata"]["labels"] = {"app": "web", "pod-template-hash": "5d9c"}
    assert pod_state(obj).template_hash == "5d9c"


class _Events:
    """A watch that replays these events, then ends."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.events = events

    def stream(self, *_: Any, **__: Any) -> Any:
        return iter(self.events)


def test_only_a_change_a_decision_reads_wakes_the_flow() -> None:
    """A pod's status updates that move nothing the decision reads (its version, a timestamp)
    wake nothing: each wake is a decision, and twenty rollbacks' decisions share two cores."""
    bound = pod(phase="Pending")
    again = {**bound, "metadata": {**bound["metadata"], "resourceVersion": "4"}}
    events = [
        {"type": "ADDED", "object": bound},
        {"type": "MODIFIED", "object": again},
        {"type": "MODIFIED", "object": pod(deleting=True)},
        {"type": "DELETED", "object": pod(deleting=True)},
        {"type": "DELETED", "object": pod()},  # gone already
    ]
    woken: list[int] = []
    core = _Forbidden()  # never called: the events come from the fake watch
    clients = Clients(None, core, None, None, None, None, None)
    watch = PodWatch(clients, "shop", "app=web", lambda: woken.append(1), listed=False)
    watch._watch = _Events(events)  # type: ignore[assignment]
    watch._stream()
    assert watch._version == "3"
    assert len(woken) == 3  # added, being deleted, gone
    assert watch.pods() == ()


@pytest.mark.parametrize(
    ("last", "started"),
    [
        (pod(phase="Pending"), False),
        (pod(phase="Failed", containerStatuses=[KUBELET_FINAL]), False),
        (pod(containerStatuses=[RUNNING]), True),
        (pod(phase="Failed", containerStatuses=[terminated(137)]), True),
    ],
    ids=["gone-never-started", "kubelet-final-never-started", "started-then-gone", "ran-killed"],
)
def test_a_pod_that_started_is_remembered_after_it_is_gone(
    last: dict[str, Any], started: bool
) -> None:
    """A Job deleted for not starting: its pod may start and go between two looks; the watch
    saw it start, so the Job is not counted as never started."""
    clients = Clients(None, _Forbidden(), None, None, None, None, None)
    watch = PodWatch(clients, "shop", "j", lambda: None, listed=True)
    events = _Events(
        [
            {"type": "ADDED", "object": pod(phase="Pending")},
            {"type": "MODIFIED", "object": last},
            {"type": "DELETED", "object": last},
        ]
    )
    watch._watch = events  # type: ignore[assignment]
    watch._stream()
    assert watch.pods() == ()
    assert watch.ever_started is started


def test_a_watch_names_itself_only_while_unbroken() -> None:
    """`jobStopped.watch` is compared with it: a restart (another watch) or a broken one
    (None) is no evidence that nothing started."""
    clients = Clients(None, _Forbidden(), None, None, None, None, None)
    watches = PodWatches(clients, "shop", lambda: None)
    first = PodWatch(clients, "shop", "j", lambda: None, listed=False)
    first._synced = True
    watches._watches["j"] = first
    seen = watches.view("j", listed=False)
    assert seen is not None
    assert seen.watch == first.identity
    again = PodWatch(clients, "shop", "j", lambda: None, listed=False)
    assert again.identity != first.identity  # a restarted operator's watch
    first.stop()
    assert first.view().watch is None
    assert watches.view("j", listed=False) is None


@pytest.mark.parametrize(
    ("fields", "scrubbed"),
    [
        (
            {"jobStopped": {"job": "j", "cause": "bad s3cr3tpw", "at": "t"}},
            {"jobStopped": {"job": "j", "cause": "bad ***", "at": "t"}},
        ),
        (
            {"jobStopped": {"job": "s3cr3tpw-job", "watch": "s3cr3tpw"}},
            {"jobStopped": {"job": "s3cr3tpw-job", "watch": "s3cr3tpw"}},
        ),  # names stay whole
        ({"message": "s3cr3tpw"}, {"message": "***"}),
    ],
    ids=["cause-scrubbed", "names-kept", "message"],
)
def test_the_stopped_jobs_cause_is_scrubbed_on_write(
    fields: dict[str, Any], scrubbed: dict[str, Any]
) -> None:
    interpreter = Interpreter.__new__(Interpreter)
    interpreter.memory = SimpleNamespace(redactor=Redactor.of(["s3cr3tpw"]))  # type: ignore[assignment]
    assert interpreter.scrub(fields) == scrubbed
