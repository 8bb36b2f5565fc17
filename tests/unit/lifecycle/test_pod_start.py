"""A Job's pod that cannot start: what the pod's status says (`podstart.block_of`, pure), and
what `decide` does with it, as a table over each cause x app touched x onFailure, with a fake
clock. The database was never touched, so the app comes back at once instead of staying at
zero until `spec.job.timeoutSeconds`."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from migration_rollback.controller.podwatch import blocked_pod, pod_state
from migration_rollback.lifecycle import actions as a
from migration_rollback.lifecycle.decide import decide
from migration_rollback.lifecycle.jobrun import job_name
from migration_rollback.lifecycle.model import RollbackSpec
from migration_rollback.lifecycle.observation import JobView, Observation, WorkloadView
from migration_rollback.lifecycle.phases import Reason
from migration_rollback.lifecycle.podstart import GRACE_SECONDS, Blocked, PodBlock, block_of
from migration_rollback.lifecycle.status import RollbackStatus

NOW = dt.datetime(2026, 12, 1, 12, 0, 0, tzinfo=dt.UTC)
CREATED = "2026-12-01T11:59:00Z"  # a minute before NOW
SHA = "a" * 64
DRY = job_name("undo", "dryrun", 1, SHA)
ROLLBACK = job_name("undo", "rollback", 1, SHA)
SQL = "-- ROLLBACK: 20250101000001_x\nDROP INDEX IF EXISTS public.idx_x;\n"
MISSING_KEY = "couldn't find key url in Secret shop/db"


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


BLOCKS = [
    (pod(waiting("CreateContainerConfigError", MISSING_KEY), phase="Pending"),
     Blocked.CONFIG_ERROR, MISSING_KEY, SINCE),
    (pod(waiting("InvalidImageName", 'invalid reference "Bad:Image"')),
     Blocked.INVALID_IMAGE, 'invalid reference "Bad:Image"', SINCE),
    (pod(waiting("ErrImagePull")), Blocked.IMAGE_PULL, "", SINCE),
    (pod(waiting("ImagePullBackOff"), startTime="2026-12-01T11:59:30Z"),
     Blocked.IMAGE_BACKOFF, "", SINCE + dt.timedelta(seconds=30)),
    (pod(waiting("CreateContainerError")), Blocked.CREATE_ERROR, "", SINCE),
    (pod(waiting("RunContainerError")), Blocked.RUN_ERROR, "", SINCE),
    (pod(phase="Pending", conditions=[UNSCHEDULABLE]), Blocked.UNSCHEDULABLE,
     "0/3 nodes: Insufficient memory", SINCE - dt.timedelta(minutes=1)),
    (pod(waiting("ContainerCreating"), phase="Failed", reason="Evicted",
         message="low on memory"), Blocked.POD_FAILED, "Evicted: low on memory", SINCE),
    (pod(phase="Failed"), Blocked.POD_FAILED, "Failed", SINCE),
    (pod(waiting("ContainerCreating"), phase="Pending"), Blocked.NOT_STARTED,
     "ContainerCreating", SINCE),
]  # fmt: skip


@pytest.mark.parametrize(
    ("obj", "reason", "message", "since"), BLOCKS, ids=[str(b[1]) for b in BLOCKS]
)
def test_the_pods_status_says_why_it_has_not_started(
    obj: dict[str, Any], reason: Blocked, message: str, since: dt.datetime
) -> None:
    assert block_of(obj) == PodBlock(reason, message, since)
    assert pod_state(obj).block == block_of(obj)


@pytest.mark.parametrize(
    "state", [{"running": {}}, {"terminated": {"exitCode": 1}}], ids=["running", "terminated"]
)
def test_a_pod_whose_container_ran_is_never_blocked(state: dict[str, Any]) -> None:
    """The runner may have touched the database: that Job is judged by its result."""
    assert block_of(pod(state, waiting("CreateContainerConfigError"))) is None
    assert block_of(pod(state, phase="Failed", reason="Evicted")) is None


def test_a_job_is_blocked_only_when_none_of_its_pods_started() -> None:
    blocked = pod_state(pod(waiting("CreateContainerConfigError", MISSING_KEY)))
    ran = pod_state({**pod({"terminated": {"exitCode": 1}}), "metadata": {"name": "q"}})
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
    job = JobView(JOB[phase], finished=finished, pod_block=block, replaceable=False)
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
def test_a_pod_past_its_grace_fails_the_job_before_the_database(
    reason: Blocked, phase: str, on_failure: str
) -> None:
    grace = GRACE_SECONDS[reason]
    decision = decide(spec(on_failure), STATUS[phase], observed(phase, block(reason, grace)), NOW)
    patch = decision.patch()
    assert decision.phase == LEADS_TO[(phase, on_failure)], patch.get("message")
    assert decision.of(a.DeleteJob) == [a.DeleteJob(JOB[phase])]
    assert a.CreateJob not in {type(x) for x in decision.actions}  # no retry spent on it
    assert patch["failure"]["reason"] == "JobNotStarted"
    assert f"never started ({reason}: {reason} details)" in patch["failure"]["message"]
    if phase == "RollingBack":
        assert patch["databaseChanged"] is False
        # The Job goes before anything is restored: its pod cannot start behind the app.
        kinds = [type(x) for x in decision.actions]
        assert kinds.index(a.DeleteJob) < kinds.index(a.PatchStatus)
    if (phase, on_failure) == ("RollingBack", "hold"):
        assert "onFailure is hold" in patch["message"]
    events = decision.of(a.RecordEvent)
    assert any(e.reason == "JobNotStarted" or "never started" in e.message for e in events)


@pytest.mark.parametrize(
    "reason", [r for r in Blocked if GRACE_SECONDS[r] > 0], ids=lambda r: str(r)
)
@pytest.mark.parametrize("phase", ["Preparing", "RollingBack"])
def test_a_pod_within_its_grace_is_waited_for(reason: Blocked, phase: str) -> None:
    almost = GRACE_SECONDS[reason] - 1
    decision = decide(spec("restore"), STATUS[phase], observed(phase, block(reason, almost)), NOW)
    assert decision.phase == phase
    assert not decision.of(a.DeleteJob)
    assert decision.requeue_after == 1.0  # looked at again when its grace ends


def test_a_job_ended_with_its_pod_never_started_restores_whatever_the_grace() -> None:
    """Past its deadline (timeoutSeconds shorter than a grace): nothing ran, so nothing changed."""
    late = observed("RollingBack", block(Blocked.UNSCHEDULABLE, 1), finished=True)
    decision = decide(spec("restore"), STATUS["RollingBack"], late, NOW)
    assert decision.phase == "Restoring"
    assert decision.patch()["failure"]["reason"] == "JobNotStarted"


def test_a_block_without_a_time_waits_out_only_the_zero_grace_causes() -> None:
    timeless = PodBlock(Blocked.IMAGE_PULL, "", None)
    assert not timeless.overdue(NOW)
    assert timeless.seconds_left(NOW) == GRACE_SECONDS[Blocked.IMAGE_PULL]
    assert PodBlock(Blocked.CONFIG_ERROR, "", None).overdue(NOW)
