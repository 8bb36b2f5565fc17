"""A Job's pod that cannot start: what the pod's status says (`podstart.block_of`, pure), and
what `decide` does with it, as a table over each cause x app touched x onFailure, with a fake
clock. The database was never touched, so the app comes back at once instead of staying at
zero until `spec.job.timeoutSeconds`."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from migration_rollback.controller.podwatch import blocked_pod, pod_state
from migration_rollback.lifecycle import actions as a
from migration_rollback.lifecycle import podstart
from migration_rollback.lifecycle.decide import decide
from migration_rollback.lifecycle.jobrun import job_name
from migration_rollback.lifecycle.model import RollbackSpec
from migration_rollback.lifecycle.observation import JobView, Observation, WorkloadView
from migration_rollback.lifecycle.phases import Reason
from migration_rollback.lifecycle.podstart import (
    GONE_SECONDS,
    GRACE_SECONDS,
    MESSAGE_LIMIT,
    Blocked,
    PodBlock,
    block_of,
)
from migration_rollback.lifecycle.record import iso
from migration_rollback.lifecycle.status import RollbackStatus
from migration_rollback.redact import Redactor

NOW = dt.datetime(2026, 12, 1, 12, 0, 0, tzinfo=dt.UTC)
CREATED = "2026-12-01T11:59:00Z"  # a minute before NOW
SHA = "a" * 64
DRY = job_name("undo", "dryrun", 1, SHA)
ROLLBACK = job_name("undo", "rollback", 1, SHA)
SQL = "-- ROLLBACK: 20250101000001_x\nDROP INDEX IF EXISTS public.idx_x;\n"
MISSING_KEY = "couldn't find key url in Secret shop/db"
WATCH = "1-5e1f"  # the operator's watch of the Job's pods, unbroken since the stop


def pod(*containers: dict[str, Any], **status: Any) -> dict[str, Any]:
    meta = {"name": "p", "resourceVersion": "1", "creationTimestamp": CREATED}
    statuses = [{"name": "c", "state": c} for c in containers]
    return {"metadata": meta, "spec": {"containers": [{"name": "c"}]},
            "status": {"containerStatuses": statuses, **status}}  # fmt: skip


def waiting(reason: str, message: str = "") -> dict[str, Any]:
    return {"waiting": {"reason": reason, "message": message}}


UNSCHEDULABLE = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                 "message": "0/3 nodes: Insufficient memory",
                 "lastTransitionTime": "2026-12-01T11:58:00Z"}  # fmt: skip
SINCE = dt.datetime(2026, 12, 1, 11, 59, tzinfo=dt.UTC)
CID = "containerd://1f2e"
CID_INIT = "containerd://0a0b"


BLOCKS = [
    (pod(waiting("CreateContainerConfigError", MISSING_KEY), phase="Pending"),
     Blocked.CONFIG_ERROR, MISSING_KEY, SINCE, "c"),
    (pod(waiting("InvalidImageName", 'invalid reference "Bad:Image"')),
     Blocked.INVALID_IMAGE, 'invalid reference "Bad:Image"', SINCE, "c"),
    (pod(waiting("ErrImagePull")), Blocked.IMAGE_PULL, "", SINCE, "c"),
    (pod(waiting("ImagePullBackOff"), startTime="2026-12-01T11:59:30Z"),
     Blocked.IMAGE_BACKOFF, "", SINCE + dt.timedelta(seconds=30), "c"),
    (pod(waiting("CreateContainerError")), Blocked.CREATE_ERROR, "", SINCE, "c"),
    (pod(waiting("RunContainerError")), Blocked.RUN_ERROR, "", SINCE, "c"),
    (pod(phase="Pending", conditions=[UNSCHEDULABLE]), Blocked.UNSCHEDULABLE,
     "0/3 nodes: Insufficient memory", SINCE - dt.timedelta(minutes=1), ""),
    (pod(waiting("ContainerCreating"), phase="Failed", reason="Evicted",
         message="low on memory"), Blocked.POD_FAILED, "Evicted: low on memory", SINCE, ""),
    (pod(phase="Failed"), Blocked.POD_FAILED, "Failed", SINCE, ""),
    (pod(waiting("ContainerCreating"), phase="Pending"), Blocked.NOT_STARTED,
     "ContainerCreating", SINCE, ""),
]  # fmt: skip


@pytest.mark.parametrize(
    ("obj", "reason", "message", "since", "container"), BLOCKS, ids=[str(b[1]) for b in BLOCKS]
)
def test_the_pods_status_says_why_it_has_not_started(
    obj: dict[str, Any], reason: Blocked, message: str, since: dt.datetime, container: str
) -> None:
    assert block_of(obj) == PodBlock(reason, message, since, container)
    assert pod_state(obj).block == block_of(obj)


def with_init(obj: dict[str, Any], *states: dict[str, Any]) -> dict[str, Any]:
    """`obj` with init containers `i0`, `i1`... in these states."""
    inits = [{"name": f"i{n}", "state": st} for n, st in enumerate(states)]
    obj["status"]["initContainerStatuses"] = inits
    return obj


INIT_WAITS = waiting("PodInitializing")  # the runner's container while init containers run
DONE = {"terminated": {"exitCode": 0, "reason": "Completed", "containerID": CID_INIT}}
# An init container (added by an admission webhook: a secrets agent, a mesh's setup) in
# trouble: the runner's container only says PodInitializing; the init container's own state
# says why, and the cause names it.
INIT_BLOCKS = {
    "init-image-backoff": (
        with_init(pod(INIT_WAITS), DONE, waiting("ImagePullBackOff", "Back-off pulling agent:9")),
        Blocked.IMAGE_BACKOFF, "Back-off pulling agent:9", "i1"),
    "init-config-error": (
        with_init(pod(INIT_WAITS), waiting("CreateContainerConfigError", MISSING_KEY)),
        Blocked.CONFIG_ERROR, MISSING_KEY, "i0"),
    "init-failed-pending": (  # the kubelet has not yet marked the pod Failed
        with_init(pod(INIT_WAITS), {"terminated": {"exitCode": 3, "reason": "Error",
                                                   "message": "vault: permission denied"}}),
        Blocked.POD_FAILED, "exited 3 (Error)", "i0"),  # its own message: see ..._inits.py
    "init-failed-pod-failed": (
        with_init(pod(INIT_WAITS, phase="Failed"), DONE, {"terminated": {"exitCode": 1}}),
        Blocked.POD_FAILED, "exited 1", "i1"),
    "init-crash-loop": (  # a native sidecar (restartPolicy Always) that keeps failing
        with_init(pod(INIT_WAITS), waiting("CrashLoopBackOff", "back-off 20s restarting")),
        Blocked.CRASH_LOOP, "back-off 20s restarting", "i0"),
    "init-running-forever": (
        with_init(pod(INIT_WAITS, phase="Pending"), DONE, {"running": {"startedAt": CREATED}}),
        Blocked.NOT_STARTED, "running, not finished", "i1"),
}  # fmt: skip


@pytest.mark.parametrize(("obj", "reason", "message", "name"), INIT_BLOCKS.values(),
                         ids=list(INIT_BLOCKS))  # fmt: skip
def test_an_init_container_in_trouble_is_read_and_named(
    obj: dict[str, Any], reason: Blocked, message: str, name: str
) -> None:
    found = block_of(obj)
    assert found == PodBlock(reason, message, SINCE, name, init=True)
    assert f"({reason} in init container {name}" in found.describe()
    assert not pod_state(obj).started  # an init container is not the runner


def test_init_containers_that_finished_leave_the_runners_container_to_say_why() -> None:
    obj = with_init(pod(waiting("CreateContainerConfigError", MISSING_KEY)), DONE, DONE)
    assert block_of(obj) == PodBlock(Blocked.CONFIG_ERROR, MISSING_KEY, SINCE, "c")
    assert block_of(with_init(pod(waiting("PodInitializing")), DONE)) == PodBlock(
        Blocked.NOT_STARTED, "PodInitializing", SINCE
    )


def test_the_cause_names_the_container() -> None:
    found = block_of(pod(waiting("CreateContainerConfigError", MISSING_KEY)))
    assert found is not None
    assert found.describe() == (
        f"its pod never started (CreateContainerConfigError in container c: {MISSING_KEY})"
    )


# A container that ran: running, or ended with the runtime's id or a start time (now or before).
STARTED = {
    "running": {"state": {"running": {}}},
    "terminated": {"state": {"terminated": {"exitCode": 1, "containerID": CID}}},
    "terminated-started-at": {"state": {"terminated": {"exitCode": 0, "startedAt": CREATED}}},
    "last-terminated": {"state": waiting("CrashLoopBackOff"),
                        "lastState": {"terminated": {"exitCode": 1, "containerID": CID}}},
}  # fmt: skip
# The kubelet's (1.27+) rewrite of a container that never started, once its pod is deleted or
# evicted: terminated, exit 137, no containerID, no startedAt. Not a start.
UNKNOWN = {"terminated": {"exitCode": 137, "reason": "ContainerStatusUnknown",
                          "message": "The container could not be located when the pod was "
                          "terminated", "finishedAt": None}}  # fmt: skip
NEVER_STARTED = {
    "kubelet-final-deleted": ({"state": UNKNOWN}, "Failed"),
    "kubelet-final-last-state": ({"state": waiting("ContainerCreating"), "lastState": UNKNOWN},
                                 "Pending"),
    "terminated-empty-id": ({"state": {"terminated": {"exitCode": 137, "containerID": ""}}},
                            "Failed"),
}  # fmt: skip


@pytest.mark.parametrize("status", STARTED.values(), ids=list(STARTED))
def test_a_pod_whose_container_ran_is_never_blocked(status: dict[str, Any]) -> None:
    """The runner may have touched the database: that Job is judged by its result."""
    for obj in (pod(), pod(phase="Failed", reason="Evicted")):
        obj["status"]["containerStatuses"] = [{"name": "c", **status}, {"name": "d",
                                              **waiting("CreateContainerConfigError")}]  # fmt: skip
        assert block_of(obj) is None
        assert pod_state(obj).started


@pytest.mark.parametrize(("status", "phase"), NEVER_STARTED.values(), ids=list(NEVER_STARTED))
def test_the_kubelets_final_status_of_a_container_that_never_ran_is_no_start(
    status: dict[str, Any], phase: str
) -> None:
    obj = pod(phase=phase)
    obj["status"]["containerStatuses"] = [{"name": "c", **status}]
    block = block_of(obj)
    assert block is not None
    assert not pod_state(obj).started
    assert block.reason == (Blocked.POD_FAILED if phase == "Failed" else Blocked.NOT_STARTED)


def test_a_job_is_blocked_only_when_none_of_its_pods_started() -> None:
    blocked = pod_state(pod(waiting("CreateContainerConfigError", MISSING_KEY)))
    ran = pod_state({**pod(STARTED["terminated"]["state"]), "metadata": {"name": "q"}})
    assert blocked_pod([blocked]) == blocked.block
    assert blocked_pod([blocked, ran]) is None
    assert blocked_pod([]) is None


def test_every_cause_has_a_grace() -> None:
    assert set(GRACE_SECONDS) == set(Blocked)
    assert str(Reason.JOB_NOT_STARTED) == "JobNotStarted"


# --- decide ------------------------------------------------------------------------------------


def spec(on_failure: str) -> RollbackSpec:
    return RollbackSpec.from_obj({"spec": {
        "migration": "20250101000001_x", "rollback": {"sql": SQL}, "onFailure": on_failure,
        "database": {"urlSecretRef": {"name": "db"}}, "workloads": [{"name": "web"}],
    }})  # fmt: skip


LOCKED = {"sqlSha256": SHA, "sqlConfigMap": "undo-sql-aaaaaaaa", "databaseLock": "mrb-db-x",
          "observedGeneration": 1}  # fmt: skip
# Preparing: the app is untouched. RollingBack: at zero, databaseChanged set before the Job.
STATUS = {
    "Preparing": RollbackStatus.from_obj({"phase": "Preparing", "jobName": DRY, **LOCKED}),
    "RollingBack": RollbackStatus.from_obj({
        "phase": "RollingBack", "jobName": ROLLBACK, "databaseChanged": True,
        "originalReplicas": {"web": 3}, "downtimeStartedAt": "2026-12-01T11:58:00Z", **LOCKED,
    }),
}  # fmt: skip
JOB = {"Preparing": DRY, "RollingBack": ROLLBACK}
# (phase, onFailure) -> the phase the failure leads to.
LEADS_TO = {
    ("Preparing", "restore"): "Failed",
    ("Preparing", "hold"): "Failed",
    ("RollingBack", "restore"): "Restoring",
    ("RollingBack", "hold"): "Failed",
}


def observed(phase: str, block: PodBlock, finished: bool = False) -> Observation:
    job = JobView(JOB[phase], finished=finished, pod_block=block, replaceable=False, watch=WATCH)
    down = phase == "RollingBack"
    workloads = (WorkloadView("web", 0, live_pods=0),) if down else ()
    return Observation(
        resource="undo", url_where="Secret db key url", lease_renewed_at=NOW,
        job=job, job_seen=True, workloads=workloads,
    )  # fmt: skip


def block(reason: Blocked, seconds_ago: float) -> PodBlock:
    return PodBlock(reason, f"{reason} details", NOW - dt.timedelta(seconds=seconds_ago))


CASES = [
    (reason, phase, on_failure)
    for reason in Blocked
    for phase in ("Preparing", "RollingBack")
    for on_failure in ("restore", "hold")
]


@pytest.mark.parametrize(("reason", "phase", "on_failure"), CASES)
def test_a_pod_past_its_grace_has_its_job_deleted_and_the_app_waits_for_it(
    reason: Blocked, phase: str, on_failure: str
) -> None:
    grace = GRACE_SECONDS[reason]
    decision = decide(spec(on_failure), STATUS[phase], observed(phase, block(reason, grace)), NOW)
    patch = decision.patch()
    assert decision.phase == phase, patch.get("message")  # nothing restored yet
    assert not decision.of(a.ScaleTo)
    assert decision.of(a.DeleteJob) == [a.DeleteJob(JOB[phase], foreground=True)]
    assert a.CreateJob not in {type(x) for x in decision.actions}  # no retry spent on it
    cause = f"its pod never started ({reason}: {reason} details)"
    stopped = {"job": JOB[phase], "cause": cause, "at": iso(NOW), "watch": WATCH}
    assert patch["jobStopped"] == stopped
    assert patch["reason"] == "JobNotStarted"
    assert "databaseChanged" not in patch  # not until its pods are gone
    kinds = [type(x) for x in decision.actions]  # recorded before the Job goes (a restart)
    assert kinds.index(a.PatchStatus) < kinds.index(a.DeleteJob)
    assert [e.reason for e in decision.of(a.RecordEvent)] == ["JobNotStarted"]
    assert decision.requeue_after == 10.0


def stopped(phase: str, seconds_ago: float = 5) -> RollbackStatus:
    """The status `stop` left, `seconds_ago` (the fake clock)."""
    at = (NOW - dt.timedelta(seconds=seconds_ago)).isoformat().replace("+00:00", "Z")
    cause = "its pod never started (CreateContainerConfigError: couldn't find key url)"
    obj = {**STATUS[phase].to_patch()["status"], "reason": "JobNotStarted",
           "jobStopped": {"job": JOB[phase], "cause": cause, "at": at, "watch": WATCH}}  # fmt: skip
    return RollbackStatus.from_obj(obj)


def after(phase: str, job: JobView | None) -> Observation:
    return dataclasses.replace(observed(phase, block(Blocked.CONFIG_ERROR, 5)), job=job)


def deleting(phase: str, pods: int, ran: bool = False) -> JobView:
    """The Job object still there (foreground deletion) with `pods` left."""
    blocked = block(Blocked.CONFIG_ERROR, 5) if pods and not ran else None
    return JobView(JOB[phase], pods=pods, pod_ran=ran, replaceable=False, pod_block=blocked,
                   deleting=True, watch=WATCH)  # fmt: skip


def undeleted(phase: str, pods: int) -> JobView:
    """The Job object still there with no deletionTimestamp: the delete never landed."""
    return dataclasses.replace(deleting(phase, pods), deleting=False)


@pytest.mark.parametrize("phase", ["Preparing", "RollingBack"])
@pytest.mark.parametrize("pods", [0, 1], ids=["no-pods", "pod-blocked"])
def test_a_stopped_job_the_delete_never_reached_is_deleted_again(phase: str, pods: int) -> None:
    """A failed DeleteJob or a restart between the record and the delete: sent again, and
    nothing is concluded while the Job could still start a pod."""
    decision = decide(spec("restore"), stopped(phase), after(phase, undeleted(phase, pods)), NOW)
    assert decision.of(a.DeleteJob) == [a.DeleteJob(JOB[phase], foreground=True)]
    assert decision.phase == phase
    assert "failure" not in decision.patch()
    assert not decision.of(a.ScaleTo)
    assert decision.requeue_after == 10.0


def gone(phase: str, pods: int = 0, ran: bool = False) -> JobView:
    return JobView(JOB[phase], gone=True, pods=pods, pod_ran=ran, watch=WATCH)


# (watch recorded at the stop, watch now) with the pods gone and no start seen: only the same
# unbroken watch rules a start out; anything else is no evidence, and nothing is restored.
UNWATCHED = {
    "operator-restarted": (WATCH, "7-0f0f"),
    "watch-broke": (WATCH, None),
    "stopped-without-a-watch": (None, WATCH),
    "neither": (None, None),
}


@pytest.mark.parametrize("phase", ["Preparing", "RollingBack"])
@pytest.mark.parametrize(("recorded", "now"), UNWATCHED.values(), ids=list(UNWATCHED))
def test_pods_gone_unwatched_may_have_run_and_the_app_is_held(
    recorded: str | None, now: str | None, phase: str
) -> None:
    record = {k: v for k, v in stopped(phase).job_stopped.items() if k != "watch"}
    record |= {"watch": recorded} if recorded else {}
    status = dataclasses.replace(stopped(phase), job_stopped=record)
    job = dataclasses.replace(gone(phase), watch=now)
    decision = decide(spec("restore"), status, after(phase, job), NOW)
    patch = decision.patch()
    assert patch["failure"]["reason"] == "JobFailed"
    assert "did not watch them without a break" in patch["failure"]["message"]
    assert "database may have changed" in patch["failure"]["message"]
    assert "databaseChanged" not in patch
    assert not decision.of(a.ScaleTo)
    assert decision.phase == "Failed", patch.get("message")


PHASES = [(p, f) for p in ("Preparing", "RollingBack") for f in ("restore", "hold")]


@pytest.mark.parametrize(("phase", "on_failure"), PHASES)
@pytest.mark.parametrize(
    "job",
    [lambda p: deleting(p, 0), lambda p: gone(p)],
    ids=["job-deleting-no-pods", "job-and-pods-gone"],
)
def test_once_its_pods_are_gone_and_none_started_the_app_is_restored(
    job: Any, phase: str, on_failure: str
) -> None:
    """Foreground deletion: the Job object goes after its pods; either way, none left."""
    decision = decide(spec(on_failure), stopped(phase), after(phase, job(phase)), NOW)
    patch = decision.patch()
    assert decision.phase == LEADS_TO[(phase, on_failure)], patch.get("message")
    assert patch["failure"]["reason"] == "JobNotStarted"
    assert "couldn't find key url" in patch["failure"]["message"]
    assert "nothing ran on the database" in patch["failure"]["message"]
    assert not decision.of(a.DeleteJob)
    assert not decision.of(a.CreateJob)
    if phase == "RollingBack":
        assert patch["databaseChanged"] is False
    if (phase, on_failure) == ("RollingBack", "hold"):
        assert "onFailure is hold" in patch["message"]


WAITS = [
    ("pod-still-blocked", lambda p: deleting(p, 1)),
    ("job-gone-orphan-pod-left", lambda p: gone(p, pods=1)),
    ("pods-not-yet-listed", lambda p: JobView(JOB[p], pods=None)),
]


@pytest.mark.parametrize("phase", ["Preparing", "RollingBack"])
@pytest.mark.parametrize(("case", "job"), WAITS, ids=[w[0] for w in WAITS])
def test_while_a_pod_of_the_deleted_job_exists_nothing_is_restored(
    case: str, job: Any, phase: str
) -> None:
    decision = decide(spec("restore"), stopped(phase), after(phase, job(phase)), NOW)
    assert decision.phase == phase, decision.patch().get("message")
    assert not decision.of(a.ScaleTo)
    assert not decision.of(a.RecordEvent)
    assert "failure" not in decision.patch()
    assert decision.requeue_after == 10.0


@pytest.mark.parametrize("phase", ["Preparing", "RollingBack"])
@pytest.mark.parametrize(
    "job",
    [lambda p: deleting(p, 1, ran=True), lambda p: gone(p, ran=True)],
    ids=["started-still-there", "started-and-gone"],
)
def test_a_pod_that_started_before_it_was_gone_is_a_job_that_may_have_run(
    job: Any, phase: str
) -> None:
    """The Secret came back first: the runner may have run, so it is not 'never started':
    the app (down in RollingBack) stays down for a person, as after a vanished Job."""
    decision = decide(spec("restore"), stopped(phase), after(phase, job(phase)), NOW)
    patch = decision.patch()
    assert patch["failure"]["reason"] == "JobFailed"
    assert "may have changed" in patch["failure"]["message"]
    assert decision.phase == "Failed"
    assert not decision.of(a.ScaleTo)
    assert "databaseChanged" not in patch or patch["databaseChanged"] is True


def test_a_pod_not_gone_past_the_bound_is_reported_once_and_the_app_stays_down() -> None:
    late = stopped("RollingBack", seconds_ago=GONE_SECONDS)
    decision = decide(spec("restore"), late, after("RollingBack", deleting("RollingBack", 1)), NOW)
    patch = decision.patch()
    assert decision.phase == "RollingBack"
    assert not decision.of(a.ScaleTo)
    assert patch["reason"] == "JobPodNotGone", patch
    assert "1 pod(s) of it are not gone after 120s" in patch["message"]
    assert [e.reason for e in decision.of(a.RecordEvent)] == ["JobPodNotGone"]
    again = RollbackStatus.from_obj({**late.to_patch()["status"], **patch})
    later = decide(spec("restore"), again, after("RollingBack", deleting("RollingBack", 1)), NOW)
    assert not later.of(a.RecordEvent)
    assert not later.of(a.ScaleTo)
    # ... and once it goes, the app comes back.
    done = decide(spec("restore"), again, after("RollingBack", gone("RollingBack")), NOW)
    assert done.phase == "Restoring"


def test_within_the_bound_it_is_looked_at_again_when_the_bound_ends() -> None:
    nearly = stopped("RollingBack", seconds_ago=GONE_SECONDS - 3)
    still = after("RollingBack", deleting("RollingBack", 1))
    decision = decide(spec("restore"), nearly, still, NOW)
    assert decision.requeue_after == 3.0


def test_a_job_ended_with_its_pod_never_started_is_stopped_whatever_the_grace() -> None:
    """Past its deadline (timeoutSeconds shorter than a grace): nothing ran, so nothing changed;
    its pod still goes first."""
    late = observed("RollingBack", block(Blocked.UNSCHEDULABLE, 1), finished=True)
    decision = decide(spec("restore"), STATUS["RollingBack"], late, NOW)
    assert decision.phase == "RollingBack"
    assert decision.of(a.DeleteJob) == [a.DeleteJob(ROLLBACK, foreground=True)]
    assert decision.patch()["jobStopped"]["job"] == ROLLBACK


def test_after_a_restart_a_job_ended_without_a_result_waits_for_its_pods_to_be_known() -> None:
    """Its pods not yet listed: a pod that never started would make it JobNotStarted; the
    decision waits for them instead of counting the database as changed for good."""
    ended = JobView(ROLLBACK, finished=True, replaceable=False, pods=None, message="deadline")
    obs = dataclasses.replace(observed("RollingBack", block(Blocked.CONFIG_ERROR, 0)), job=ended)
    decision = decide(spec("restore"), STATUS["RollingBack"], obs, NOW)
    assert decision.phase == "RollingBack"
    assert "failure" not in decision.patch()
    known = dataclasses.replace(obs, job=dataclasses.replace(ended, pods=0))
    decision = decide(spec("restore"), STATUS["RollingBack"], known, NOW)
    assert decision.patch()["failure"]["reason"] == "JobFailed"  # gone: cannot tell, held


def test_a_block_without_a_time_waits_out_only_the_zero_grace_causes() -> None:
    timeless = PodBlock(Blocked.IMAGE_PULL, "", None)
    assert not timeless.overdue(NOW)
    assert timeless.seconds_left(NOW) == GRACE_SECONDS[Blocked.IMAGE_PULL]
    assert PodBlock(Blocked.CONFIG_ERROR, MISSING_KEY, None).overdue(NOW)


SYNC = "failed to sync secret cache: timed out waiting for the condition"
DEADLINE = "context deadline exceeded"
# (cause, the kubelet's or runtime's message) -> its grace: a passing trouble gets a few of
# the kubelet's retries; a message naming what only a person can fix gets none.
GRACES = [
    (Blocked.CONFIG_ERROR, SYNC, 30),
    (Blocked.CONFIG_ERROR, 'secret "shop-db" not found', 0),
    (Blocked.CONFIG_ERROR, 'configmap "cfg" not found', 0),
    (Blocked.CONFIG_ERROR, MISSING_KEY, 0),
    (Blocked.CONFIG_ERROR, "container has runAsNonRoot and image will run as root", 0),
    (Blocked.CONFIG_ERROR, "image has non-numeric user (app), cannot verify user is non-root",
     0),
    (Blocked.CONFIG_ERROR, "", 30),
    (Blocked.CREATE_ERROR, DEADLINE, 30),
    (Blocked.CREATE_ERROR, 'exec: "runner": executable file not found in $PATH', 0),
    (Blocked.RUN_ERROR, DEADLINE, 30),
    (Blocked.RUN_ERROR, "OCI runtime create failed: exec: not found", 0),
    (Blocked.INVALID_IMAGE, 'invalid reference "Bad:Image"', 0),
    (Blocked.IMAGE_PULL, "not found", 60),  # a registry's 404 may be a mirror's hiccup
]  # fmt: skip


@pytest.mark.parametrize(("reason", "message", "grace"), GRACES)
def test_a_container_error_gets_a_grace_unless_its_message_is_permanent(
    reason: Blocked, message: str, grace: float
) -> None:
    pending = PodBlock(reason, message, NOW - dt.timedelta(seconds=10))
    assert pending.grace() == grace
    assert pending.overdue(NOW) is (grace <= 10)
    assert pending.seconds_left(NOW) == (grace - 10 if grace else 0)


def test_a_job_one_of_whose_pods_ran_is_not_stopped_as_never_started() -> None:
    """A first pod that ran and went, a second one blocked: judged by the Job's end."""
    obs = observed("RollingBack", block(Blocked.CONFIG_ERROR, 60))
    ran = dataclasses.replace(obs, job=dataclasses.replace(obs.job, pod_ran=True))
    decision = decide(spec("restore"), STATUS["RollingBack"], ran, NOW)
    assert not decision.of(a.DeleteJob)
    assert not decision.of(a.RecordEvent)
    assert "jobStopped" not in decision.patch()


SECRET = "s3cr3t-pa55w0rd"


@pytest.mark.parametrize("at", [MESSAGE_LIMIT - 20, MESSAGE_LIMIT - 5, MESSAGE_LIMIT + 10])
def test_a_long_message_is_scrubbed_whole_then_cut(at: int) -> None:
    """A secret across the cut would escape the redactor were the message cut first."""
    said = "x" * at + SECRET + " tail"
    found = block_of(pod(waiting("CreateContainerConfigError", said)))
    assert found is not None
    assert found.message == said
    scrubbed = dataclasses.replace(found, message=Redactor.of([SECRET]).scrub(found.message))
    cause = scrubbed.describe()
    assert SECRET[:5] not in cause
    bare = "its pod never started (CreateContainerConfigError in container c: )"
    assert len(cause) <= len(bare) + MESSAGE_LIMIT


@pytest.mark.parametrize("seconds", [30, 61], ids=["within-the-pull-grace", "past-it"])
def test_an_init_containers_pull_is_bounded_by_the_pull_grace_not_the_pods(
    seconds: float,
) -> None:
    """The runner's container said only PodInitializing: that was 300 s (NOT_STARTED) of the
    app at zero, and a cause naming no container. Read from the init container: 60 s, named;
    and within them nothing is done (a pull that resolves lets the Job run)."""
    obj = with_init(pod(INIT_WAITS), waiting("ImagePullBackOff", "Back-off pulling agent:9"))
    obj["status"]["startTime"] = iso(NOW - dt.timedelta(seconds=seconds))
    found = blocked_pod([pod_state(obj)])
    assert found is not None
    decision = decide(spec("restore"), STATUS["RollingBack"], observed("RollingBack", found), NOW)
    if seconds < GRACE_SECONDS[Blocked.IMAGE_BACKOFF]:
        assert not decision.of(a.DeleteJob)
        assert decision.requeue_after is not None
        assert decision.requeue_after <= GRACE_SECONDS[Blocked.IMAGE_BACKOFF] - 30
        return
    assert decision.of(a.DeleteJob) == [a.DeleteJob(ROLLBACK, foreground=True)]
    assert decision.patch()["jobStopped"]["cause"] == (
        "its pod never started (ImagePullBackOff in init container i0: Back-off pulling agent:9)"
    )


QUOTA = (
    'Error creating: pods "p" is forbidden: exceeded quota: pods, requested: pods=1, used: pods=5'
)
DENIED = (
    "Error creating: pods \"p\" is forbidden: ValidatingAdmissionPolicy 'no-runs' with binding "
    "'no-runs' denied request: no rollback pods here"
)
PODSECURITY = 'Error creating: pods "p" is forbidden: violates PodSecurity "restricted:latest"'


@pytest.mark.parametrize(
    ("said", "grace"), [(QUOTA, 60), (DENIED, 0), (PODSECURITY, 0)], ids=["quota", "denied", "pss"]
)
def test_a_job_whose_pod_is_refused_is_stopped_once_its_grace_is_out(
    said: str, grace: float
) -> None:
    """No pod at all (the Job controller's FailedCreate): a quota may free up, an admission
    refusal will not; either way the app does not wait out the Job's deadline at zero."""
    refused = podstart.refused(said, NOW - dt.timedelta(seconds=30))
    assert refused.grace() == grace
    job = JobView(ROLLBACK, pod_block=refused, pods=0, replaceable=False, watch=WATCH)
    obs = dataclasses.replace(observed("RollingBack", refused), job=job)
    decision = decide(spec("restore"), STATUS["RollingBack"], obs, NOW)
    if grace > 30:
        assert not decision.of(a.DeleteJob)
        return
    assert decision.of(a.DeleteJob) == [a.DeleteJob(ROLLBACK, foreground=True)]
    cause = decision.patch()["jobStopped"]["cause"]
    assert cause == f"its pod never started (FailedCreate: {said})"
    # Its pods (none) gone, under the same watch: failed before the database, the app restored.
    after_it = decide(spec("restore"), stopped_for(cause), after("RollingBack", gone_job()), NOW)
    assert after_it.phase == "Restoring"
    assert after_it.patch()["databaseChanged"] is False


def stopped_for(cause: str) -> RollbackStatus:
    status = stopped("RollingBack")
    return dataclasses.replace(status, job_stopped={**status.job_stopped, "cause": cause})


def gone_job() -> JobView:
    return gone("RollingBack")
