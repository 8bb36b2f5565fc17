"""A never-started pod's init containers, beyond the plain cases in test_pod_start.py: native
sidecars (restartPolicy Always, restarted by the kubelet whatever the pod's policy), the clock
of a cause that follows a slow init container, and the words of containers that are not ours
(a webhook's: only their name, exit code and reason, and the kubelet's own words)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from migration_rollback.lifecycle.podstart import (
    GRACE_SECONDS,
    RUNNER_CONTAINER,
    Blocked,
    PodBlock,
    block_of,
)

START = "2026-12-01T11:59:00Z"
SINCE = dt.datetime(2026, 12, 1, 11, 59, tzinfo=dt.UTC)
SIDECAR = {"name": "istio-proxy", "restartPolicy": "Always"}
LOG_TAIL = "token=hvs.CAESIJ1 written to /vault/secrets"  # a log tail under FallbackToLogsOnError


def pod(inits: list[dict[str, Any]], main: dict[str, Any], specs: list[dict[str, Any]],
        name: str = RUNNER_CONTAINER) -> dict[str, Any]:  # fmt: skip
    return {
        "metadata": {"creationTimestamp": START},
        "spec": {"initContainers": specs, "containers": [{"name": name}]},
        "status": {"phase": "Pending", "startTime": START, "initContainerStatuses": inits,
                   "containerStatuses": [{"name": name, "state": main}]},
    }  # fmt: skip


def status(name: str, **state: Any) -> dict[str, Any]:
    return {"name": name, "state": state}


INITIALIZING = {"waiting": {"reason": "PodInitializing"}}
EXITED = {"exitCode": 1, "reason": "Error", "containerID": "c://x"}


def test_a_native_sidecar_between_an_exit_and_its_restart_is_a_crash_loop() -> None:
    found = block_of(pod([status("istio-proxy", terminated=EXITED)], INITIALIZING, [SIDECAR]))
    assert found == PodBlock(Blocked.CRASH_LOOP, "exited 1 (Error)", SINCE, "istio-proxy", True)
    assert found.grace() == GRACE_SECONDS[Blocked.CRASH_LOOP] > 0


def test_a_run_to_completion_init_container_that_exited_fails_the_pod() -> None:
    found = block_of(pod([status("setup", terminated=EXITED)], INITIALIZING, [{"name": "setup"}]))
    assert found is not None
    assert (found.reason, found.grace()) == (Blocked.POD_FAILED, 0)


def test_a_running_sidecar_is_not_an_init_container_that_never_ends() -> None:
    running = status("istio-proxy", running={"startedAt": "2026-12-01T11:59:20Z"})
    found = block_of(pod([running], {"waiting": {"reason": "ContainerCreating"}}, [SIDECAR]))
    # The runner's container is being created: that is the cause, counted from the sidecar's
    # start (the runner's container could not begin before it).
    assert found == PodBlock(
        Blocked.NOT_STARTED, "ContainerCreating", SINCE + dt.timedelta(seconds=20)
    )


INIT_DONE = status("vault-agent-init", terminated={
    "exitCode": 0, "containerID": "c://1", "finishedAt": "2026-12-01T12:00:50Z"})  # fmt: skip
AFTER_INIT = dt.datetime(2026, 12, 1, 12, 0, 50, tzinfo=dt.UTC)


def test_a_cause_after_a_slow_init_container_counts_from_its_end() -> None:
    backoff = {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling r:1"}}
    found = block_of(pod([INIT_DONE], backoff, [{"name": "vault-agent-init"}]))
    assert found is not None
    assert found.since == AFTER_INIT
    ten_after = AFTER_INIT + dt.timedelta(seconds=10)
    assert found.seconds_left(ten_after) == GRACE_SECONDS[Blocked.IMAGE_BACKOFF] - 10


def test_an_init_container_counts_from_the_end_of_those_before_it_only() -> None:
    stuck = status("agent", waiting={"reason": "ErrImagePull", "message": "pulling agent:9"})
    later = status("later", waiting={"reason": "PodInitializing"})
    specs = [{"name": "vault-agent-init"}, {"name": "agent"}, {"name": "later"}]
    found = block_of(pod([INIT_DONE, stuck, later], INITIALIZING, specs))
    assert found == PodBlock(Blocked.IMAGE_PULL, "pulling agent:9", AFTER_INIT, "agent", True)
    first = block_of(pod([stuck], INITIALIZING, specs[1:2]))
    assert first is not None
    assert first.since == SINCE


def test_another_containers_termination_message_is_never_copied() -> None:
    said = {**EXITED, "message": LOG_TAIL}
    found = block_of(pod([status("vault-agent-init", terminated=said)], INITIALIZING,
                         [{"name": "vault-agent-init"}]))  # fmt: skip
    assert found is not None
    assert found.describe() == (
        "its pod never started (PodFailed in init container vault-agent-init: exited 1 (Error))"
    )
    assert "hvs" not in repr(found)


RUNTIME_SAYS = f'exec: "agent --token {LOG_TAIL}": executable file not found in $PATH'


@pytest.mark.parametrize(
    ("name", "shown"), [("sidecar", False), (RUNNER_CONTAINER, True)], ids=["theirs", "ours"]
)
def test_a_runtime_message_is_shown_for_our_container_only(name: str, shown: bool) -> None:
    found = block_of(pod([], {"waiting": {"reason": "RunContainerError", "message": RUNTIME_SAYS}},
                         [], name=name))  # fmt: skip
    assert found is not None
    assert (LOG_TAIL in found.describe()) is shown
    assert found.grace() == 0  # "not found": permanent, judged before the words were dropped


@pytest.mark.parametrize("reason", ["ImagePullBackOff", "InvalidImageName", "ErrImagePull"])
def test_an_image_the_kubelet_names_is_shown_for_any_container(reason: str) -> None:
    said = 'Back-off pulling image "registry.example/agent:9"'
    found = block_of(pod([status("agent", waiting={"reason": reason, "message": said})],
                         INITIALIZING, [{"name": "agent"}]))  # fmt: skip
    assert found is not None
    assert said in found.describe()


def test_a_sidecars_restart_does_not_restart_the_clock_of_the_cause_after_it() -> None:
    restarted = {
        "name": "istio-proxy",
        "state": {"running": {"startedAt": "2026-12-01T12:00:40Z"}},
        "lastState": {"terminated": {"exitCode": 1, "startedAt": "2026-12-01T11:59:20Z"}},
    }
    backoff = {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling r:1"}}
    found = block_of(pod([restarted], backoff, [SIDECAR]))
    assert found is not None
    assert found.since == SINCE + dt.timedelta(seconds=20)  # its first start, not its restart
