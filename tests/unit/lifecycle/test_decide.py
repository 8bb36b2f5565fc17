"""`decide(spec, status, observation, now)` as a table: every phase against the observations
it meets, and every failure path, with a fake clock (plain datetimes) and no I/O."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from migration_rollback.api import APPROVAL_ANNOTATION
from migration_rollback.exitcodes import ExitCode
from migration_rollback.jobresult import BlockingSession, JobResult, MigrationState
from migration_rollback.lifecycle import actions as a
from migration_rollback.lifecycle.decide import LEASE_RENEW_SECONDS, decide, failed_action
from migration_rollback.lifecycle.health import Verdict
from migration_rollback.lifecycle.jobrun import job_name
from migration_rollback.lifecycle.model import RollbackSpec
from migration_rollback.lifecycle.observation import (
    CheckView,
    JobView,
    LeaseView,
    Observation,
    PodEnd,
    PodGroup,
    RevisionView,
    WorkloadView,
)
from migration_rollback.lifecycle.phases import Reason, StepName
from migration_rollback.lifecycle.podstart import Blocked, PodBlock
from migration_rollback.lifecycle.record import Failure
from migration_rollback.lifecycle.status import RollbackStatus

NOW = dt.datetime(2026, 12, 1, 12, 0, 0, tzinfo=dt.UTC)
EARLIER = "2026-12-01T11:59:50.000Z"  # ten seconds before NOW
LONG_AGO = "2026-12-01T11:00:00.000Z"  # an hour before NOW: past every timeout
SHA = "a" * 64
QUICK = "-- ROLLBACK: 20250101000001_x\nDROP INDEX IF EXISTS public.idx_x;\n"
DESTROYS = "-- ROLLBACK: 20250101000001_x\nDROP TABLE public.x;\n"
DRY = job_name("undo", "dryrun", 1, SHA)
IDENTITY = "7714676338064080190/app(oid 16384)@0123456789abcdef"  # runner.identity's shape
ROLLBACK = job_name("undo", "rollback", 1, SHA)
MAINTENANCE = {"configMap": {"name": "flags", "key": "maintenance"}}
MAINTENANCE_ON = "maintenance goes on recorded as begun, done after the call, before the scale"
HEALTH = [{"name": "api", "url": "http://web/health", "periodSeconds": 3}]
# spec.targetVersion: a migrations directory as its ConfigMap holds it; the target is the
# first migration, so the set is the two newer ones, newest first.
TARGET, OLDER, NEWER = "20250101000001", "20250102000001_b", "20250103000001_c"
FILES = {
    "20250101000001_a.sql": "CREATE TABLE a ();",
    f"{OLDER}.sql": "CREATE TABLE b ();",
    f"{OLDER}_rollback.sql": DESTROYS.replace("public.x", "public.b"),
    f"{NEWER}.sql": "CREATE INDEX idx_x ON a (id);",
    f"{NEWER}_rollback.sql": QUICK,
}


def entry(name: str, state: str = "Pending") -> dict[str, str]:
    text = FILES[f"{name}_rollback.sql"]
    sha = hashlib.sha256(text.encode()).hexdigest()
    return {"version": name[:14], "name": name, "sha256": sha, "state": state}


SET = [entry(NEWER), entry(OLDER)]


def to_target(version: str = TARGET, **fields: Any) -> RollbackSpec:
    fields.setdefault("rollback", {"migrationsFrom": {"configMapRef": {"name": "dir"}}})
    return spec(migration=None, targetVersion=version, **fields)


def spec(**fields: Any) -> RollbackSpec:
    base = {
        "migration": "20250101000001_x",
        "rollback": {"sql": QUICK},
        "database": {"urlSecretRef": {"name": "db"}},
        "workloads": [{"name": "web"}],
    }
    return RollbackSpec.from_obj({"spec": {**base, **fields}})


def status(phase: str, **fields: Any) -> RollbackStatus:
    return RollbackStatus.from_obj({"phase": phase, "observedGeneration": 1, **fields})


LOCKED = {"sqlSha256": SHA, "sqlConfigMap": "undo-sql-aaaaaaaa", "databaseLock": "mrb-db-x",
          "databaseIdentity": IDENTITY}  # fmt: skip
DOWN = {**LOCKED, "originalReplicas": {"web": 3}, "downtimeStartedAt": EARLIER}


def step(name: StepName, state: str = "Running") -> dict[str, Any]:
    return {"name": str(name), "state": state, "startedAt": EARLIER}


def obs(**fields: Any) -> Observation:
    fields.setdefault("lease_renewed_at", NOW)
    return Observation(resource="undo", url_where="Secret db key url", **fields)


def finished(
    name: str,
    code: ExitCode,
    committed: bool = False,
    at: dt.datetime = NOW,
    migration_states: Mapping[str, str] | None = None,
    identity: str | None = IDENTITY,
) -> JobView:
    result = JobResult(
        exit_code=code,
        outcome=code.name,
        committed=committed,
        statements=1,
        migration_states={v: MigrationState(s) for v, s in (migration_states or {}).items()},
        database_identity=identity,
    )
    return JobView(name, True, code is ExitCode.OK, result, code.name, at)


def pod_ended(name: str, code: ExitCode, replaceable: bool = False, result: bool = True) -> JobView:
    """The Job's pod ended with `code` (leaving the runner's result, or none); the Job's own
    status does not say so yet."""
    view = finished(name, code)
    return dataclasses.replace(
        view, finished=False, succeeded=False, finished_at=None,
        pod_end=PodEnd(code is ExitCode.OK, NOW), replaceable=replaceable,
        result=view.result if result else None,
    )  # fmt: skip


def web(
    desired: int,
    ready: int = 0,
    pods: int = 0,
    live: int | None = None,
    settled: bool = True,
    undeleted: int = 0,
    kind: str = "Deployment",
    groups: tuple[PodGroup, ...] | None = None,
) -> tuple[WorkloadView, ...]:
    """One ReplicaSet's pods ("h1") unless `groups` says otherwise."""
    if groups is None:
        groups = (PodGroup("h1", undeleted, (live or 0) - undeleted),) if live else ()
    return (
        WorkloadView(
            "web", desired, ready, pods, live_pods=live, settled=settled,
            pod_groups=groups, kind=kind,
        ),
    )  # fmt: skip


@dataclass(frozen=True)
class Case:
    spec: RollbackSpec
    status: RollbackStatus
    obs: Observation
    phase: str
    actions: tuple[type, ...]  # the action types, in order
    requeue: float | None = None
    patch: Mapping[str, Any] = field(default_factory=dict)  # a subset of the status patch


P, E = a.PatchStatus, a.RecordEvent
CASES: dict[str, Case] = {
    # --- before the downtime --------------------------------------------------------------
    "pending starts validating": Case(
        spec(), status("Pending"), obs(), "Validating", (P,), 0, {"reason": "Validating"}
    ),
    "valid SQL needing no approval goes on to prepare": Case(
        spec(), status("Validating"), obs(sql_text=QUICK), "Preparing",
        (a.EnsureSqlConfigMap, P, E), 0, {"plan": {"statements": 1, "manualItems": 0,
        "destroysData": False, "nonTransactional": 0, "strongestLock": "ACCESS EXCLUSIVE"}},
    ),
    "SQL that destroys data waits for approval": Case(
        spec(rollback={"sql": DESTROYS}), status("Validating"), obs(sql_text=DESTROYS),
        "AwaitingApproval", (a.EnsureSqlConfigMap, P, E), None, {"approved": False},
    ),
    "a missing source is waited for, visibly": Case(
        spec(), status("Validating"), obs(missing="ConfigMap x not found"), "Validating",
        (P,), 5.0, {"reason": "SourceNotFound", "message": "waiting: ConfigMap x not found"},
    ),
    "a missing source already reported patches nothing": Case(
        spec(), status("Validating", message="waiting: gone"), obs(missing="gone"),
        "Validating", (), 5.0,
    ),
    "a URL that does not parse fails validation": Case(
        spec(), status("Validating"), obs(url_error="Secret db key url: bad port"), "Failed",
        (P, E, E), None, {"reason": "InvalidDatabaseURL", "failure": {
            "reason": "InvalidDatabaseURL", "message": "Secret db key url: bad port"}},
    ),
    "SQL that does not parse fails": Case(
        spec(), status("Validating"), obs(sql_text="DROP TABLEX x;"), "Failed", (P, E, E),
        None, {"reason": "InvalidRollbackSQL"},
    ),
    "a pinned sha256 that differs fails": Case(
        spec(rollback={"sql": QUICK, "sha256": "b" * 64}), status("Validating"),
        obs(sql_text=QUICK), "Failed", (P, E, E), None, {"reason": "Sha256Mismatch"},
    ),
    "targetVersion: the newer migrations, one set, await approval": Case(
        to_target(), status("Validating"), obs(migration_files=FILES), "AwaitingApproval",
        (a.EnsureSqlConfigMap, P, E), None, {"approved": False, "migrations": SET,
        "plan": {"statements": 2, "manualItems": 0, "destroysData": True,
        "nonTransactional": 0, "strongestLock": "ACCESS EXCLUSIVE"}},
    ),
    "targetVersion: a missing migrations ConfigMap is waited for": Case(
        to_target(), status("Validating"), obs(missing="ConfigMap dir not found"),
        "Validating", (P,), 5.0, {"reason": "SourceNotFound"},
    ),
    "targetVersion that is no migration there fails": Case(
        to_target("20250101000002"), status("Validating"), obs(migration_files=FILES),
        "Failed", (P, E, E), None, {"reason": "UnknownTargetVersion"},
    ),
    "targetVersion that is the newest fails: nothing to roll back": Case(
        to_target(NEWER[:14]), status("Validating"), obs(migration_files=FILES), "Failed",
        (P, E, E), None, {"reason": "NothingToRollBack"},
    ),
    "targetVersion over a migration without its rollback fails": Case(
        to_target(), status("Validating"), obs(migration_files={
        k: v for k, v in FILES.items() if k != f"{OLDER}_rollback.sql"}), "Failed",
        (P, E, E), None, {"reason": "RollbackMissing"},
    ),
    "targetVersion with a pinned sha256 that differs fails": Case(
        to_target(rollback={"migrationsFrom": {"configMapRef": {"name": "dir"}},
        "sha256": "b" * 64}), status("Validating"), obs(migration_files=FILES), "Failed",
        (P, E, E), None, {"reason": "Sha256Mismatch"},
    ),
    "a spec changed while awaiting approval is validated again": Case(
        spec(), status("AwaitingApproval", **LOCKED), obs(generation=2), "Validating", (P,), 0,
    ),
    "the approval annotation naming the SQL lets it prepare": Case(
        spec(allowDataLoss=True), status("AwaitingApproval", sqlSha256=SHA,
        plan={"statements": 1, "destroysData": True}),
        obs(annotations={APPROVAL_ANNOTATION: SHA}), "Preparing", (P, E), 0,
        {"approved": True},
    ),
    "still unapproved: nothing to do until the resource changes": Case(
        spec(allowDataLoss=True), status("AwaitingApproval", sqlSha256=SHA,
        plan={"statements": 1, "destroysData": True}, message="it destroys data: annotate "
        f"with {APPROVAL_ANNOTATION}={SHA}"), obs(), "AwaitingApproval", (), None,
    ),
    "a free database Lease is taken": Case(
        spec(backup={"mode": "none"}), status("Preparing", sqlSha256=SHA),
        obs(lease=LeaseView("mrb-db-x", None, False)), "Preparing", (a.AcquireLease, P), 0,
        {"databaseLock": "mrb-db-x"},
    ),
    "pgDump without a volume warns the backup is not kept": Case(
        spec(), status("Preparing", sqlSha256=SHA), obs(lease=LeaseView("mrb-db-x", None, False)),
        "Preparing", (a.AcquireLease, P, E), 0,
    ),
    "a database another rollback holds is waited for": Case(
        spec(), status("Preparing", sqlSha256=SHA), obs(lease=LeaseView("mrb-db-x", "ns/other",
        False)), "Preparing", (P, E), 2.0, {"reason": "WaitingForDatabase"},
    ),
    "already waiting for the database: nothing new": Case(
        spec(), status("Preparing", sqlSha256=SHA, reason="WaitingForDatabase"),
        obs(lease=LeaseView("mrb-db-x", "ns/other", False)), "Preparing", (), 2.0,
    ),
    "the rehearsal Job is created, its name recorded first, its create after it": Case(
        spec(), status("Preparing", **LOCKED), obs(), "Preparing", (P, a.CreateJob, P), 0,
        {"jobName": DRY, "jobCreated": DRY},
    ),
    "a running rehearsal is waited for": Case(
        spec(), status("Preparing", **LOCKED, jobName=DRY, jobCreated=DRY),
        obs(job=JobView(DRY), job_seen=True), "Preparing", (), 10.0,
    ),
    "a running Job whose create's record was lost to a restart: recorded": Case(
        spec(), status("Preparing", **LOCKED, jobName=DRY), obs(job=JobView(DRY),
        job_seen=True), "Preparing", (P,), 10.0, {"jobCreated": DRY},
    ),
    "a created Job gone after a restart vanished: never created again": Case(
        spec(), status("RollingBack", **DOWN, jobName=ROLLBACK, jobCreated=ROLLBACK,
        databaseChanged=True), obs(workloads=web(0), job_seen=True), "Failed",
        (a.ReleaseLease, P, E, E, E), None, {"reason": "JobFailed"},
    ),
    "a passed rehearsal stops the application next": Case(
        spec(), status("Preparing", **LOCKED, jobName=DRY, steps=[step(StepName.DRY_RUN)]),
        obs(job=finished(DRY, ExitCode.OK), job_seen=True), "ScalingDown", (P, E), 0,
        {"databaseIdentity": IDENTITY},
    ),
    "a rehearsal that does not say which database it ran on pins nothing: it fails": Case(
        spec(), status("Preparing", **LOCKED, jobName=DRY, steps=[step(StepName.DRY_RUN)]),
        obs(job=finished(DRY, ExitCode.OK, identity=None), job_seen=True), "Failed",
        (a.ReleaseLease, P, E, E), None, {"reason": "PreconditionFailed"},
    ),
    "a passed dry run ends Succeeded and frees the database": Case(
        spec(dryRun=True), status("Preparing", **LOCKED, jobName=DRY),
        obs(job=finished(DRY, ExitCode.OK), job_seen=True), "Succeeded",
        (a.ReleaseLease, P, E, E), None, {"reason": "DryRunSucceeded", "databaseLock": None},
    ),
    "a lock timeout is retried after its backoff": Case(
        spec(), status("Preparing", **LOCKED, jobName=DRY), obs(job=finished(DRY,
        ExitCode.LOCK_TIMEOUT, at=NOW - dt.timedelta(seconds=0.5)), job_seen=True),
        "Preparing", (P, E), 1.5, {"reason": "TransientError"},
    ),
    "a failure first seen after its backoff is announced as the next attempt begins": Case(
        spec(), status("Preparing", **LOCKED, jobName=DRY), obs(job=finished(DRY,
        ExitCode.LOCK_TIMEOUT, at=NOW - dt.timedelta(seconds=3)), job_seen=True),
        "Preparing", (P, E), 0, {"attempts": {"dryrun": 2}, "reason": "TransientError"},
    ),
    "the next attempt's Job has its own name and a longer lock timeout": Case(
        spec(), status("Preparing", **LOCKED, jobName=DRY, attempts={"dryrun": 2}),
        obs(), "Preparing", (P, a.CreateJob, P), 0,
        {"jobName": job_name("undo", "dryrun", 2, SHA)},
    ),
    "no retries left: the rehearsal fails, the app never touched": Case(
        spec(job={"retries": 0}), status("Preparing", **LOCKED, jobName=DRY),
        obs(job=finished(DRY, ExitCode.LOCK_TIMEOUT), job_seen=True), "Failed",
        (a.ReleaseLease, P, E, E), None, {"reason": "LockTimeout"},
    ),
    "a Job that vanishes fails": Case(
        spec(), status("Preparing", **LOCKED, jobName=DRY), obs(job_seen=True), "Failed",
        (a.ReleaseLease, P, E, E), None, {"reason": "JobFailed"},
    ),
    # --- the downtime window ---------------------------------------------------------------
    "a Secret leading to another database than the locked one stops before the downtime": Case(
        spec(), status("ScalingDown", **LOCKED), obs(workloads=web(3), database="mrb-db-y"),
        "Failed", (a.ReleaseLease, P, E, E), None, {"reason": "PreconditionFailed"},
    ),
    "a CRD older than the operator pruned the pin: refused before the downtime": Case(
        spec(), status("ScalingDown", **{**LOCKED, "databaseIdentity": None}),
        obs(workloads=web(3), database="mrb-db-x"), "Failed", (a.ReleaseLease, P, E, E), None,
        {"reason": "PreconditionFailed", "originalReplicas": None},
    ),
    "the Secret still leading to the locked database: the first look goes on": Case(
        spec(), status("ScalingDown", **LOCKED), obs(workloads=web(3), database="mrb-db-x"),
        "ScalingDown", (P, E), 0, {"originalReplicas": {"web": 3}},
    ),
    "the first look records the replicas in a decision of its own, before any scale": Case(
        spec(), status("ScalingDown", **LOCKED), obs(workloads=web(3)), "ScalingDown",
        (P, E), 0, {"originalReplicas": {"web": 3}, "downtimeStartedAt": None},
    ),
    "replicas recorded: the scale goes first, its record and the downtime's start after": Case(
        spec(), status("ScalingDown", **LOCKED, originalReplicas={"web": 3}),
        obs(workloads=web(3)), "ScalingDown", (a.ScaleTo, P), 5.0,
        {"downtimeStartedAt": "2026-12-01T12:00:00.000Z", "originalReplicas": None},
    ),
    "scaled back up with its pods being deleted: scaled to 0 again, none deleted (the "
    "ReplicaSet not at 0 again yet would replace them)": Case(
        spec(), status("ScalingDown", **DOWN, steps=[step(StepName.SCALE_DOWN)],
        phaseTransitionTime=EARLIER, heldDown=1), obs(workloads=web(2, live=3, undeleted=2)),
        "ScalingDown", (a.ScaleTo, P, E), 5.0, {"heldDown": 2},
    ),
    "replicas changed since they were recorded: the new count is recorded first": Case(
        spec(), status("ScalingDown", **LOCKED, originalReplicas={"web": 3}),
        obs(workloads=web(4)), "ScalingDown", (P, a.ScaleTo, P), 5.0,
        {"originalReplicas": {"web": 4}},
    ),
    "restarted between the scale and its record: scaled again, the recorded count kept": Case(
        spec(), status("ScalingDown", **LOCKED, originalReplicas={"web": 3}),
        obs(workloads=web(0)), "ScalingDown", (a.ScaleTo, P), 5.0,
        {"originalReplicas": None},
    ),
    MAINTENANCE_ON: Case(
        spec(maintenance=MAINTENANCE), status("ScalingDown", **LOCKED,
        originalReplicas={"web": 2}), obs(workloads=web(2)), "ScalingDown",
        (P, a.SetMaintenance, a.ScaleTo, P, E), 5.0,
        {"maintenanceEnabled": True, "downtimeStartedAt": "2026-12-01T12:00:00.000Z"},
    ),
    "restarted after maintenance was recorded as begun: it is turned on again": Case(
        spec(maintenance=MAINTENANCE), status("ScalingDown", **LOCKED,
        originalReplicas={"web": 2}, maintenanceEnabled=True, downtimeStartedAt=LONG_AGO,
        steps=[step(StepName.MAINTENANCE_ON)]), obs(workloads=web(2)), "ScalingDown",
        (P, a.SetMaintenance, a.ScaleTo, P, E), 5.0, {"downtimeStartedAt": LONG_AGO},
    ),
    "a downtime already started (maintenance on, then a restart): its start is kept": Case(
        spec(), status("ScalingDown", **DOWN), obs(workloads=web(3)), "ScalingDown",
        (a.ScaleTo, P), 5.0, {"downtimeStartedAt": None},
    ),
    "a workload that is not there fails before anything is touched": Case(
        spec(), status("ScalingDown", **LOCKED), obs(workload_error="no Deployment web"),
        "Failed", (a.ReleaseLease, P, E), None, {"reason": "WorkloadNotFound"},
    ),
    "revision previous records the revision to come back on": Case(
        spec(workloads=[{"name": "web", "revision": "previous"}]), status("ScalingDown",
        **LOCKED), obs(workloads=web(3), revisions=(RevisionView("web", "Deployment",
        "previous", 4, {3: "h3", 4: "h4"}),)), "ScalingDown", (P, E), 0,
        {"revisions": {"web": {"current": 4, "target": 3, "podTemplateHash": "h3"}}},
    ),
    "a revision that is gone is an invalid spec": Case(
        spec(), status("ScalingDown", **LOCKED), obs(workloads=web(3), revisions=(
        RevisionView("web", "Deployment", "2", 4, {3: "h3", 4: "h4"}),)), "Failed",
        (a.ReleaseLease, P, E), None, {"reason": "InvalidSpec"},
    ),
    "a revision of a StatefulSet is an invalid spec": Case(
        spec(), status("ScalingDown", **LOCKED), obs(workloads=web(3), revisions=(
        RevisionView("StatefulSet/db", "StatefulSet", "previous"),)), "Failed",
        (a.ReleaseLease, P, E), None, {"reason": "InvalidSpec"},
    ),
    "pods not counted yet: wait for the watch events": Case(
        spec(), status("ScalingDown", **DOWN, steps=[step(StepName.SCALE_DOWN)],
        phaseTransitionTime=EARLIER), obs(workloads=web(0, pods=2)), "ScalingDown", (), 5.0,
    ),
    "pods not gone yet: wait for the pod watch": Case(
        spec(), status("ScalingDown", **DOWN, steps=[step(StepName.SCALE_DOWN)],
        phaseTransitionTime=EARLIER), obs(workloads=web(0, live=1)), "ScalingDown", (), 5.0,
    ),
    "the scale not yet acted on by the workload's controller: a new pod may come": Case(
        spec(), status("ScalingDown", **DOWN, steps=[step(StepName.SCALE_DOWN)],
        phaseTransitionTime=EARLIER), obs(workloads=web(0, live=0, settled=False)),
        "ScalingDown", (), 5.0,
    ),
    "its ReplicaSet's controller began deleting: the pods it has not reached go now": Case(
        spec(), status("ScalingDown", **DOWN, steps=[step(StepName.SCALE_DOWN)],
        phaseTransitionTime=EARLIER), obs(workloads=web(0, live=3, undeleted=2)),
        "ScalingDown", (a.DeletePods,), 5.0,
    ),
    "mid-rollout, one ReplicaSet deleting: only its pods go, the other's controller may "
    "not have seen the zero": Case(
        spec(), status("ScalingDown", **DOWN, steps=[step(StepName.SCALE_DOWN)],
        phaseTransitionTime=EARLIER), obs(workloads=web(0, live=4, groups=(
            PodGroup("old", undeleted=1, deleting=1), PodGroup("new", undeleted=2)))),
        "ScalingDown", (a.DeletePods,), 5.0,
    ),
    "none deleted yet: its ReplicaSet may not have seen the zero, and would replace them": Case(
        spec(), status("ScalingDown", **DOWN, steps=[step(StepName.SCALE_DOWN)],
        phaseTransitionTime=EARLIER), obs(workloads=web(0, live=2, undeleted=2)),
        "ScalingDown", (), 5.0,
    ),
    "every pod already being deleted: nothing to hurry": Case(
        spec(), status("ScalingDown", **DOWN, steps=[step(StepName.SCALE_DOWN)],
        phaseTransitionTime=EARLIER), obs(workloads=web(0, live=2, undeleted=0)),
        "ScalingDown", (), 5.0,
    ),
    "the scale not acted on yet: no pod is deleted by the operator": Case(
        spec(), status("ScalingDown", **DOWN, steps=[step(StepName.SCALE_DOWN)],
        phaseTransitionTime=EARLIER), obs(workloads=web(0, live=3, undeleted=2,
        settled=False)), "ScalingDown", (), 5.0,
    ),
    "a StatefulSet's pods stop in its own order: never deleted by the operator": Case(
        spec(), status("ScalingDown", **DOWN, steps=[step(StepName.SCALE_DOWN)],
        phaseTransitionTime=EARLIER), obs(workloads=web(0, live=3, undeleted=2,
        kind="StatefulSet")), "ScalingDown", (), 5.0,
    ),
    "no pod left: the rollback Job starts in the same decision, recorded first": Case(
        spec(), status("ScalingDown", **DOWN, steps=[step(StepName.SCALE_DOWN)]),
        obs(workloads=web(0, live=0)), "RollingBack", (P, a.CreateJob, P, E), 0,
        {"databaseChanged": True, "jobName": ROLLBACK, "jobCreated": ROLLBACK},
    ),
    "the pods are gone while the workload's status still shows them: the Job starts": Case(
        spec(), status("ScalingDown", **DOWN, steps=[step(StepName.SCALE_DOWN)]),
        obs(workloads=web(0, pods=3, live=0)), "RollingBack", (P, a.CreateJob, P, E), 0,
    ),
    "scaled back up during the window: held down": Case(
        spec(), status("ScalingDown", **DOWN, steps=[step(StepName.SCALE_DOWN)], heldDown=1,
        phaseTransitionTime=EARLIER), obs(workloads=web(3, pods=3)), "ScalingDown",
        (a.ScaleTo, P, E), 5.0, {"heldDown": 2},
    ),
    "pods that never go away: timeout, the app restored": Case(
        spec(), status("ScalingDown", **DOWN, steps=[step(StepName.SCALE_DOWN)],
        phaseTransitionTime=LONG_AGO), obs(workloads=web(0, live=2)), "Restoring",
        (P, E), 0, {"failure": {"reason": "ScaleTimeout",
        "message": "2 pod(s) still running after the scale-down timeout"}},
    ),
    "the rollback Job starts with the database marked possibly changed": Case(
        spec(), status("RollingBack", **DOWN), obs(workloads=web(0)), "RollingBack",
        (P, a.CreateJob, P), 0, {"databaseChanged": True, "jobName": ROLLBACK},
    ),
    # --- a recorded Job the API server does not have (lifecycle.jobabsence) -----------------
    "recorded, create never accepted, no pod of it (died before the create): created": Case(
        spec(), status("RollingBack", **DOWN, jobName=ROLLBACK, databaseChanged=True),
        obs(workloads=web(0), job=JobView(ROLLBACK, gone=True, pods=0)), "RollingBack",
        (P, a.CreateJob, P), 0, {"jobCreated": ROLLBACK},
    ),
    "create accepted, deleted, a pod of it still running: waited for, not created": Case(
        spec(), status("RollingBack", **DOWN, jobName=ROLLBACK, jobCreated=ROLLBACK,
        databaseChanged=True), obs(workloads=web(0), job=JobView(ROLLBACK, gone=True,
        pods=1, running=1), job_seen=True), "RollingBack", (P, E), 10.0,
        {"reason": "JobPodNotGone"},
    ),
    "create not recorded but a pod of it left: it was created, gone, never again": Case(
        spec(), status("RollingBack", **DOWN, jobName=ROLLBACK, databaseChanged=True),
        obs(workloads=web(0), job=JobView(ROLLBACK, gone=True, pods=1)), "Failed",
        (a.ReleaseLease, P, E, E, E), None, {"reason": "JobFailed"},
    ),
    "no pin (upgraded past ScalingDown): no unpinned Job, the app restored": Case(
        spec(), status("RollingBack", **{**DOWN, "databaseIdentity": None}),
        obs(workloads=web(0)), "Restoring", (P, E), 0,
        {"databaseChanged": False, "reason": "RestoringApplication"},
    ),
    "no pin when the pods are gone: no unpinned Job starts, the app restored": Case(
        spec(), status("ScalingDown", **{**DOWN, "databaseIdentity": None},
        steps=[step(StepName.SCALE_DOWN)]), obs(workloads=web(0, live=0)), "Restoring",
        (P, E, E), 0, {"databaseChanged": False, "phase": "Restoring"},
    ),
    "scaled up while the Job runs: held down": Case(
        spec(), status("RollingBack", **DOWN, jobName=ROLLBACK, databaseChanged=True),
        obs(workloads=web(2), job=JobView(ROLLBACK), job_seen=True), "RollingBack",
        (a.ScaleTo, P, E), 10.0, {"heldDown": 1},
    ),
    "the rollback committed: the app is scaled back in the same decision": Case(
        spec(), status("RollingBack", **DOWN, jobName=ROLLBACK, databaseChanged=True),
        obs(workloads=web(0), job=finished(ROLLBACK, ExitCode.OK, committed=True),
        job_seen=True), "ScalingUp", (a.ScaleTo, P, E), 5.0, {"databaseChanged": True,
        "metrics": {"statements": 1}},
    ),
    "targetVersion: the committed set's states land in status.migrations": Case(
        to_target(), status("RollingBack", **DOWN, jobName=ROLLBACK, databaseChanged=True,
        migrations=SET), obs(workloads=web(0), job=finished(ROLLBACK, ExitCode.OK,
        committed=True, migration_states={NEWER[:14]: "RolledBack", OLDER[:14]: "RolledBack"}),
        job_seen=True), "ScalingUp", (a.ScaleTo, P, E), 5.0,
        {"migrations": [entry(NEWER, "RolledBack"), entry(OLDER, "RolledBack")]},
    ),
    "targetVersion: a failed set says which member failed, which were skipped": Case(
        to_target(job={"retries": 0}), status("RollingBack", **DOWN, jobName=ROLLBACK,
        databaseChanged=True, migrations=SET), obs(workloads=web(0), job=finished(ROLLBACK,
        ExitCode.SQL_ERROR, migration_states={NEWER[:14]: "Failed", OLDER[:14]: "Skipped"}),
        job_seen=True), "Restoring", (P, E), 0,
        {"migrations": [entry(NEWER, "Failed"), entry(OLDER, "Skipped")]},
    ),
    "the pod ended with its result, the Job's status not yet: judged now": Case(
        spec(), status("RollingBack", **DOWN, jobName=ROLLBACK, databaseChanged=True),
        obs(workloads=web(0), job=pod_ended(ROLLBACK, ExitCode.OK), job_seen=True),
        "ScalingUp", (a.ScaleTo, P, E), 5.0, {"metrics": {"statements": 1}},
    ),
    "the pod failed with its result: the failure policy at once": Case(
        spec(job={"retries": 0}), status("RollingBack", **DOWN, jobName=ROLLBACK,
        databaseChanged=True), obs(workloads=web(0), job=pod_ended(ROLLBACK,
        ExitCode.SQL_ERROR), job_seen=True), "Restoring", (P, E), 0,
        {"failure": {"reason": "SQLError", "message": "SQL_ERROR: SQL_ERROR"}},
    ),
    "the pod ended but the Job may start another: wait for the Job": Case(
        spec(), status("RollingBack", **DOWN, jobName=ROLLBACK, jobCreated=ROLLBACK,
        databaseChanged=True),
        obs(workloads=web(0), job=pod_ended(ROLLBACK, ExitCode.SQL_ERROR, replaceable=True),
        job_seen=True), "RollingBack", (), 10.0,
    ),
    "the pod ended without a result (killed): the Job's reason is waited for": Case(
        spec(), status("RollingBack", **DOWN, jobName=ROLLBACK, jobCreated=ROLLBACK,
        databaseChanged=True),
        obs(workloads=web(0), job=pod_ended(ROLLBACK, ExitCode.OK, result=False),
        job_seen=True), "RollingBack", (), 10.0,
    ),
    "the Job's own status wins over its pod's": Case(
        spec(job={"retries": 0}), status("RollingBack", **DOWN, jobName=ROLLBACK,
        databaseChanged=True), obs(workloads=web(0), job=dataclasses.replace(
        finished(ROLLBACK, ExitCode.SQL_ERROR), pod_end=PodEnd(True), replaceable=False),
        job_seen=True), "Restoring", (P, E), 0, {"failure": {"reason": "SQLError",
        "message": "SQL_ERROR: SQL_ERROR"}},
    ),
    "the rehearsal's pod ended with its result: the scale-down starts now": Case(
        spec(), status("Preparing", **LOCKED, jobName=DRY, steps=[step(StepName.DRY_RUN)]),
        obs(job=pod_ended(DRY, ExitCode.OK), job_seen=True), "ScalingDown", (P, E), 0,
    ),
    "scaling up re-applies a scale the operator died before applying": Case(
        spec(), status("ScalingUp", **DOWN, steps=[step(StepName.SCALE_UP)],
        phaseTransitionTime=EARLIER), obs(workloads=web(0)), "ScalingUp", (a.ScaleTo,), 5.0,
    ),
    "an SQL error with nothing committed: the app restored": Case(
        spec(job={"retries": 0}), status("RollingBack", **DOWN, jobName=ROLLBACK,
        databaseChanged=True), obs(workloads=web(0), job=finished(ROLLBACK,
        ExitCode.SQL_ERROR), job_seen=True), "Restoring", (P, E), 0,
        {"databaseChanged": False, "failure": {"reason": "SQLError", "message": "SQL_ERROR: "
        "SQL_ERROR"}},
    ),
    "a Job without a result may have changed the database: held for a human": Case(
        spec(), status("RollingBack", **DOWN, jobName=ROLLBACK, databaseChanged=True),
        obs(workloads=web(0), job=JobView(ROLLBACK, True, False, None, "DeadlineExceeded"),
        job_seen=True), "Failed", (a.ReleaseLease, P, E, E, E), None, {"reason": "JobFailed",
        "databaseChanged": True},
    ),
    "onFailure hold leaves the app down": Case(
        spec(onFailure="hold", job={"retries": 0}), status("RollingBack", **DOWN,
        jobName=ROLLBACK, databaseChanged=True), obs(workloads=web(0),
        job=finished(ROLLBACK, ExitCode.SQL_ERROR), job_seen=True), "Failed",
        (a.ReleaseLease, P, E, E, E), None, {"reason": "SQLError"},
    ),
    "scaling up restores the recorded revision first": Case(
        spec(), status("ScalingUp", **DOWN, revisions={"web": {"current": 4, "target": 3,
        "podTemplateHash": "h3"}}), obs(workloads=web(0)), "ScalingUp",
        (a.RestoreRevision, a.ScaleTo, P, E), 5.0,
    ),
    "pods not Ready yet: wait for the workloads' events": Case(
        spec(), status("ScalingUp", **DOWN, steps=[step(StepName.SCALE_UP)],
        phaseTransitionTime=EARLIER), obs(workloads=web(3, ready=1)), "ScalingUp", (), 5.0,
    ),
    "all Ready: the downtime is measured and health checked": Case(
        spec(), status("ScalingUp", **DOWN, steps=[step(StepName.SCALE_UP)]),
        obs(workloads=web(3, ready=3)), "Verifying", (P, E), 0,
        {"metrics": {"downtimeSeconds": 10.0, "downtime": "10.0s"}},
    ),
    "not Ready in time after the commit: scaled back, held for a human": Case(
        spec(), status("ScalingUp", **DOWN, steps=[step(StepName.SCALE_UP)],
        phaseTransitionTime=LONG_AGO), obs(workloads=web(3, ready=1)), "Failed",
        (a.ReleaseLease, P, E, E, E), None, {"reason": "ScaleTimeout"},
    ),
    "no health checks: succeeded, the database freed before the phase": Case(
        spec(), status("Verifying", **DOWN, metrics={"statements": 1, "downtime": "3.0s"}),
        obs(), "Succeeded", (a.ReleaseLease, P, E), None,
        {"message": "rolled back, 1 statements, downtime 3.0s", "databaseLock": None},
    ),
    "health checks pending: probed again after their period, the counts kept in status": Case(
        spec(healthChecks=HEALTH), status("Verifying", **DOWN), obs(health=(CheckView("api",
        Verdict.PENDING, "status 503", 3, successes=0, failures=2),)), "Verifying", (P,), 3.0,
        {"healthChecks": [{"name": "api", "successes": 0, "failures": 2,
        "message": "status 503"}]},
    ),
    "healthy, maintenance on: the checks are recorded first": Case(
        spec(healthChecks=HEALTH, maintenance=MAINTENANCE), status("Verifying", **DOWN,
        maintenanceEnabled=True, steps=[step(StepName.HEALTH_CHECK)]), obs(health=(
        CheckView("api", Verdict.HEALTHY, "status 200", 3),)), "Verifying", (P, E), 0,
    ),
    "checks recorded, maintenance on: it goes off, then succeeded": Case(
        spec(healthChecks=HEALTH, maintenance=MAINTENANCE), status("Verifying", **DOWN,
        maintenanceEnabled=True, steps=[step(StepName.HEALTH_CHECK, "Done")]), obs(),
        "Succeeded", (a.SetMaintenance, a.ReleaseLease, P, E, E), None,
        {"maintenanceEnabled": False},
    ),
    "unhealthy after the commit: held for a human": Case(
        spec(healthChecks=HEALTH), status("Verifying", **DOWN), obs(health=(CheckView("api",
        Verdict.UNHEALTHY, "status 500", 3),)), "Failed", (a.ReleaseLease, P, E, E, E), None,
        {"reason": "HealthCheckFailed"},
    ),
    "restoring scales the app back to its recorded replicas": Case(
        spec(), status("Restoring", **DOWN, failure={"reason": "SQLError", "message": "boom"}),
        obs(workloads=web(0)), "Restoring", (a.ScaleTo, P), 5.0,
    ),
    "restored with maintenance on: the app's return is recorded first": Case(
        spec(maintenance=MAINTENANCE), status("Restoring", **DOWN, maintenanceEnabled=True,
        steps=[step(StepName.RESTORE)], failure={"reason": "SQLError", "message": "boom"}),
        obs(workloads=web(3, ready=3)), "Restoring", (P, E), 0,
        {"metrics": {"downtimeSeconds": 10.0, "downtime": "10.0s"}},
    ),
    "restored: maintenance off, failed with the first failure's reason": Case(
        spec(maintenance=MAINTENANCE), status("Restoring", **DOWN, maintenanceEnabled=True,
        steps=[step(StepName.RESTORE, "Done")], failure={"reason": "SQLError",
        "message": "boom"}), obs(), "Failed", (a.SetMaintenance, a.ReleaseLease, P, E, E),
        None, {"reason": "SQLError", "maintenanceEnabled": False,
        "message": "boom; the application was restored and the database is unchanged"},
    ),
    "restoring that times out: held, the first failure stays the reason": Case(
        spec(), status("Restoring", **DOWN, steps=[step(StepName.RESTORE)],
        phaseTransitionTime=LONG_AGO, failure={"reason": "SQLError", "message": "boom"}),
        obs(workloads=web(3, ready=0)), "Failed", (a.ReleaseLease, P, E, E, E), None,
        {"reason": "SQLError"},
    ),
    "a finished resource decides nothing": Case(
        spec(), status("Succeeded", **LOCKED), obs(lease_renewed_at=None), "Succeeded", (),
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_decide(case: Case) -> None:
    decision = decide(case.spec, case.status, case.obs, NOW)
    assert decision.phase == case.phase, decision.patch().get("message")
    assert tuple(type(x) for x in decision.actions) == case.actions, decision.actions
    assert decision.requeue_after == case.requeue
    patch = decision.patch()
    for key, value in case.patch.items():
        assert patch.get(key) == value, (key, patch.get(key))
    if case.phase != case.status.phase and decision.actions:
        assert patch["phase"] == case.phase
        assert patch["observedGeneration"] == case.obs.generation


def test_the_early_delete_names_only_the_replica_sets_that_began() -> None:
    groups = (PodGroup("old", undeleted=1, deleting=1), PodGroup("new", undeleted=2))
    status_ = status("ScalingDown", **DOWN, steps=[step(StepName.SCALE_DOWN)])
    decision = decide(spec(), status_, obs(workloads=web(0, live=4, groups=groups)), NOW)
    assert decision.of(a.DeletePods) == [a.DeletePods("web", ("old",))]


def test_a_decision_patches_at_most_once_before_its_actions_and_once_after() -> None:
    for case in CASES.values():
        kinds = [type(x) for x in decide(case.spec, case.status, case.obs, NOW).actions]
        inner = [k for k in kinds[1:-1] if k is not a.RecordEvent]
        assert a.PatchStatus not in inner[:-1], kinds
        assert kinds.count(a.PatchStatus) <= 2, kinds


def test_maintenance_is_done_only_in_the_patch_after_the_call() -> None:
    case = CASES[MAINTENANCE_ON]
    actions = decide(case.spec, case.status, case.obs, NOW).actions
    before, after = (x for x in actions if isinstance(x, a.PatchStatus))
    assert actions.index(before) < actions.index(a.SetMaintenance(True)) < actions.index(after)
    states = [{s["name"]: s["state"] for s in p.fields["steps"]} for p in (before, after)]
    assert states[0][str(StepName.MAINTENANCE_ON)] == "Running"
    assert states[1][str(StepName.MAINTENANCE_ON)] == "Done"
    assert before.fields["maintenanceEnabled"] is True


@pytest.mark.parametrize(
    ("renewed", "renews"),
    [(None, True), (NOW - dt.timedelta(seconds=LEASE_RENEW_SECONDS), True), (NOW, False)],
    ids=["after a restart", "when due", "not yet"],
)
def test_a_held_lease_is_renewed_by_an_action(renewed: dt.datetime | None, renews: bool) -> None:
    decision = decide(
        spec(),
        status("Preparing", **LOCKED, jobName=DRY),
        obs(job=JobView(DRY), job_seen=True, lease_renewed_at=renewed),
        NOW,
    )
    assert (decision.actions[:1] == (a.RenewLease("mrb-db-x"),)) is renews


def test_a_lease_being_released_is_not_renewed() -> None:
    decision = decide(
        spec(dryRun=True),
        status("Preparing", **LOCKED, jobName=DRY),
        obs(job=finished(DRY, ExitCode.OK), job_seen=True, lease_renewed_at=None),
        NOW,
    )
    assert not decision.of(a.RenewLease)
    assert decision.of(a.ReleaseLease) == [a.ReleaseLease("mrb-db-x")]


def test_the_rehearsal_names_the_sessions_in_the_way() -> None:
    blocker = BlockingSession(pid=42, state="idle in transaction", seconds=3, application="bi")
    result = JobResult(
        exit_code=ExitCode.OK, blocking_sessions=(blocker,), database_identity=IDENTITY
    )
    job = JobView(DRY, True, True, result, "ok", NOW)
    decision = decide(
        spec(), status("Preparing", **LOCKED, jobName=DRY), obs(job=job, job_seen=True), NOW
    )
    events = {e.reason: e.message for e in decision.of(a.RecordEvent)}
    assert "pid 42 (bi) idle in transaction" in events["BlockingSessions"]
    assert decision.patch()["blockingSessions"][0]["pid"] == 42


def test_a_retried_failure_is_announced_once() -> None:
    job = finished(DRY, ExitCode.LOCK_TIMEOUT, at=NOW)
    first = decide(
        spec(), status("Preparing", **LOCKED, jobName=DRY), obs(job=job, job_seen=True), NOW
    )
    message = first.patch()["message"]
    assert "attempt 1 of 4" in message
    assert "trying again in 2s" in message
    again = decide(
        spec(),
        status("Preparing", **LOCKED, jobName=DRY, message=message, reason="TransientError"),
        obs(job=job, job_seen=True),
        NOW,
    )
    assert not again.of(a.RecordEvent)
    # Its backoff over, the next attempt begins without a second announcement.
    later = decide(
        spec(),
        status("Preparing", **LOCKED, jobName=DRY, message=message, reason="TransientError"),
        obs(job=job, job_seen=True),
        NOW + dt.timedelta(seconds=3),
    )
    assert not later.of(a.RecordEvent)
    assert later.patch()["attempts"] == {"dryrun": 2}
    assert "message" not in later.patch()


@pytest.mark.parametrize(
    ("phase", "enabled", "outcome"),
    [("ScalingDown", True, "Restoring"), ("Verifying", False, "Failed")],
    ids=["maintenance on fails: restore", "maintenance off fails after the commit: held"],
)
def test_a_failed_action_meets_the_same_policy(phase: str, enabled: bool, outcome: str) -> None:
    step_name = StepName.MAINTENANCE_ON if enabled else StepName.MAINTENANCE_OFF
    failure = Failure(Reason.MAINTENANCE_FAILED, "HTTP 500 from the flag service", step_name)
    current = status(phase, **DOWN, maintenanceEnabled=True)
    decision = failed_action(spec(maintenance=MAINTENANCE), current, obs(), NOW, failure)
    assert decision.phase == outcome
    steps = {s["name"]: s["state"] for s in decision.patch()["steps"]}
    assert steps[str(step_name)] == "Failed"


def test_restoring_scales_exactly_what_deletion_restores() -> None:
    from migration_rollback.lifecycle import policy

    current = status("Restoring", **{**DOWN, "originalReplicas": {"web": 3, "StatefulSet/q": 1}})
    decision = decide(spec(), current, obs(workloads=web(0)), NOW)
    on_delete = policy.restore_actions(spec(), current, deleting=True)
    assert decision.of(a.ScaleTo) == [x for x in on_delete if isinstance(x, a.ScaleTo)]


def test_every_phase_that_is_not_terminal_has_a_decision() -> None:
    from migration_rollback.lifecycle.decide import PHASES
    from migration_rollback.lifecycle.phases import Phase

    assert set(PHASES) == {p for p in Phase if not p.terminal}
    covered = {c.status.phase for c in CASES.values()}
    assert covered >= {str(p) for p in Phase if not p.terminal}


def test_a_result_without_states_leaves_the_set_as_it_was() -> None:
    """A rehearsal commits nothing, and a COMMIT of unknown outcome reports no states: the
    members stay Pending rather than being guessed."""
    current = status("Preparing", **LOCKED, jobName=DRY, migrations=SET)
    job = finished(DRY, ExitCode.OK)
    decision = decide(to_target(), current, obs(job=job, job_seen=True), NOW)
    assert decision.phase == "ScalingDown"
    assert "migrations" not in decision.patch()


def test_the_rehearsals_pin_is_sent_before_the_scale_downs_first_look() -> None:
    """That look refuses a pin the API server did not keep: it must judge what is stored."""
    case = CASES["a passed rehearsal stops the application next"]
    assert decide(case.spec, case.status, case.obs, NOW).send
    later = CASES["the first look records the replicas in a decision of its own, before any scale"]
    assert not decide(later.spec, later.status, later.obs, NOW).send


def test_a_failure_after_failed_turns_clears_their_count() -> None:
    """Restoring (or the end) counts its own failed turns, not the ones before the failure."""
    failing = status(
        "ScalingUp",
        **DOWN,
        steps=[step(StepName.SCALE_UP)],
        phaseTransitionTime=LONG_AGO,
        errorRetries={"tries": 3, "since": EARLIER},
    )
    decision = decide(spec(), failing, obs(workloads=web(3, ready=0)), NOW)
    patch = decision.patch()
    assert decision.phase == "Failed"
    assert "errorRetries" in patch
    assert patch["errorRetries"] is None


def test_the_job_is_recorded_only_after_the_hold_down_before_it_is_sent() -> None:
    """A workload scaled back up as the rollback Job is about to start: the scale back to 0
    goes first, and the Job's name (with databaseChanged) is recorded only after it, just
    before the create: a refused scale leaves no name of a Job never sent (its fate is then
    "never created", not "may still commit")."""
    decision = decide(spec(), status("RollingBack", **DOWN), obs(workloads=web(3, pods=3)), NOW)
    kinds = [type(x) for x in decision.actions if not isinstance(x, a.RecordEvent)]
    assert kinds[:3] == [a.ScaleTo, a.PatchStatus, a.CreateJob], kinds
    recorded = decision.actions[kinds.index(a.PatchStatus)]
    assert isinstance(recorded, a.PatchStatus)
    assert recorded.fields["jobName"] == ROLLBACK
    assert recorded.fields["databaseChanged"] is True
    assert "jobCreated" not in recorded.fields
    assert decision.patch()["heldDown"] == 1
    after = [
        x for x in decision.actions[kinds.index(a.CreateJob) :] if isinstance(x, a.PatchStatus)
    ]
    assert after[0].fields["jobCreated"] == ROLLBACK  # recorded once the create went through


def test_a_stopped_job_is_recorded_only_after_the_hold_down_before_its_delete() -> None:
    blocked = PodBlock(Blocked.INVALID_IMAGE, 'invalid reference "Bad:Image"', NOW)
    job = JobView(ROLLBACK, False, pod_block=blocked, pods=1)
    status_ = status("RollingBack", **DOWN, jobName=ROLLBACK, databaseChanged=True)
    decision = decide(spec(), status_, obs(workloads=web(3, pods=3), job=job), NOW)
    kinds = [type(x) for x in decision.actions if not isinstance(x, a.RecordEvent)]
    assert kinds[:3] == [a.ScaleTo, a.PatchStatus, a.DeleteJob], kinds
    recorded = decision.actions[kinds.index(a.PatchStatus)]
    assert isinstance(recorded, a.PatchStatus)
    assert recorded.fields["jobStopped"]["job"] == ROLLBACK
