"""The MigrationRollback status as a typed object (pure): `RollbackStatus.from_obj` reads it
the way `model` reads the spec, `to_patch()` writes back only what differs from the defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from migration_rollback.lifecycle.apijson import as_map, field_default, present

# status.<key> -> attribute, for the fields the flow reads; the rest ride along in `extra`.
STATUS_KEYS = {
    "phase": "phase",
    "reason": "reason",
    "message": "message",
    "observedGeneration": "observed_generation",
    "startedAt": "started_at",
    "finishedAt": "finished_at",
    "downtimeStartedAt": "downtime_started_at",
    "sqlSha256": "sql_sha256",
    "sqlConfigMap": "sql_config_map",
    "approved": "approved",
    "jobName": "job_name",
    "jobCreated": "job_created",
    "jobStopped": "job_stopped",
    "databaseLock": "database_lock",
    "databaseIdentity": "database_identity",
    "maintenanceEnabled": "maintenance_enabled",
    "databaseChanged": "database_changed",
    "heldDown": "held_down",
    "attempts": "attempts",
    "revisions": "revisions",
    "originalReplicas": "original_replicas",
    "hpaMinReplicas": "hpa_min_replicas",
    "failure": "failure",
    "plan": "plan",
    "metrics": "metrics",
    "steps": "steps",
    "conditions": "conditions",
    "phaseTransitionTime": "phase_transition_time",
    "blockingSessions": "blocking_sessions",
    "migrations": "migrations",
    "healthChecks": "health_checks",
    "errorRetries": "error_retries",
}


@dataclass(frozen=True)
class Failure:
    reason: str
    message: str


@dataclass(frozen=True)
class RollbackStatus:
    phase: str = "Pending"
    reason: str | None = None
    message: str | None = None
    observed_generation: int = 0
    started_at: str | None = None
    finished_at: str | None = None
    downtime_started_at: str | None = None
    sql_sha256: str | None = None
    sql_config_map: str | None = None
    approved: bool | None = None
    job_name: str | None = None
    # The Job whose create was accepted: one gone after it vanished, and is not created again.
    job_created: str | None = None
    # A Job deleted because its pod never started: {job, cause, at}. The app waits for its pods
    # to be gone (lifecycle.jobrun.after_stop), across a restart too.
    job_stopped: Mapping[str, str] = field(default_factory=dict)
    database_lock: str | None = None
    # The database the rehearsal ran on (runner.identity): the rollback Job is pinned to it.
    database_identity: str | None = None
    maintenance_enabled: bool = False
    database_changed: bool | None = None
    held_down: int = 0
    original_replicas: Mapping[str, int] = field(default_factory=dict)
    hpa_min_replicas: Mapping[str, int] = field(default_factory=dict)
    attempts: Mapping[str, int] = field(default_factory=dict)
    revisions: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    failure: Failure | None = None
    plan: Mapping[str, Any] = field(default_factory=dict)
    metrics: Mapping[str, Any] = field(default_factory=dict)
    steps: tuple[Mapping[str, Any], ...] = ()
    conditions: tuple[Mapping[str, Any], ...] = ()
    phase_transition_time: str | None = None
    blocking_sessions: tuple[Mapping[str, Any], ...] = ()
    # spec.targetVersion: one entry per migration of the set (lifecycle.target), newest first.
    migrations: tuple[Mapping[str, Any], ...] = ()
    # Each health check's counts so far (CheckView.to_status), so a restart does not reset them.
    health_checks: tuple[Mapping[str, Any], ...] = ()
    # Consecutive turns failed on an error no retry seems to fix: {tries, since}
    # (lifecycle.errorbudget). Here, not in memory, so a restarted operator counts on.
    error_retries: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_obj(cls, obj: Mapping[str, Any]) -> RollbackStatus:
        """From the whole resource (its `status`), or a bare status mapping."""
        s = as_map(obj.get("status")) if "metadata" in obj or "spec" in obj else obj
        kw = present(s, STATUS_KEYS)
        for attr in ("observed_generation", "held_down"):
            if attr in kw:
                kw[attr] = int(kw[attr])
        for attr in ("maintenance_enabled",):
            if attr in kw:
                kw[attr] = bool(kw[attr])
        if "error_retries" in kw:
            kw["error_retries"] = dict(as_map(kw["error_retries"]))
        if "job_stopped" in kw:
            kw["job_stopped"] = {str(k): str(v) for k, v in as_map(kw["job_stopped"]).items()}
        for attr in ("original_replicas", "hpa_min_replicas", "attempts"):
            if attr in kw:
                kw[attr] = {str(k): int(v) for k, v in as_map(kw[attr]).items()}
        if "failure" in kw:
            f = as_map(kw["failure"])
            kw["failure"] = Failure(
                str(f.get("reason", "JobFailed")), str(f.get("message", "failed"))
            )
        for attr in ("steps", "conditions", "blocking_sessions", "migrations", "health_checks"):
            if attr in kw:
                kw[attr] = tuple(dict(as_map(item)) for item in kw[attr] or ())
        return cls(**kw)

    def step_state(self, name: str) -> str | None:
        for s in self.steps:
            if s.get("name") == name:
                return str(s.get("state"))
        return None

    @property
    def app_touched(self) -> bool:
        """Something was done to the application that a restore must undo."""
        return bool(self.original_replicas) or self.maintenance_enabled

    def to_patch(self) -> dict[str, Any]:
        """The status as the API writes it (fields at their default left out, except phase)."""
        out: dict[str, Any] = {}
        for key, attr in STATUS_KEYS.items():
            value = getattr(self, attr)
            default = RollbackStatus.__dataclass_fields__[attr]
            if attr != "phase" and (value is None or value == field_default(default)):
                continue
            if isinstance(value, Failure):
                value = {"reason": value.reason, "message": value.message}
            elif isinstance(value, tuple):
                value = [dict(v) for v in value]
            elif isinstance(value, Mapping):
                value = dict(value)
            out[key] = value
        return {"status": out}
