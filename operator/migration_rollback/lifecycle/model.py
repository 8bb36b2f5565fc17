"""The MigrationRollback API as typed objects (pure): spec and status, read once, defaults here.

`RollbackSpec.from_obj(obj)` reads what the API server stored (it has already applied the CRD's
defaults, but an object written before a default existed, or a test's hand-made one, may lack
them: every default is a dataclass field default below, and a unit test keeps them equal to the
CRD's). `RollbackStatus.from_obj` reads status the same way; `to_patch()` writes either back in
the API's camelCase.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

from migration_rollback.api import DEFAULT_HISTORY_TABLE
from migration_rollback.lifecycle.health import CheckSpec


def _map(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _present(raw: Mapping[str, Any], keys: Mapping[str, str]) -> dict[str, Any]:
    """The API keys present in `raw`, renamed to attributes: absent ones take the field default."""
    return {attr: raw[key] for key, attr in keys.items() if raw.get(key) is not None}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


@dataclass(frozen=True)
class SecretKeyRef:
    name: str
    key: str = "url"

    @classmethod
    def from_obj(cls, raw: object) -> SecretKeyRef:
        r = _map(raw)
        return cls(
            name=str(r.get("name", "")),
            **{k: str(v) for k, v in _present(r, {"key": "key"}).items()},
        )


@dataclass(frozen=True)
class DatabaseSpec:
    url_secret_ref: SecretKeyRef
    history_table: str = DEFAULT_HISTORY_TABLE

    @classmethod
    def from_obj(cls, raw: object) -> DatabaseSpec:
        r = _map(raw)
        extra = {k: str(v) for k, v in _present(r, {"historyTable": "history_table"}).items()}
        return cls(url_secret_ref=SecretKeyRef.from_obj(r.get("urlSecretRef")), **extra)


@dataclass(frozen=True)
class ConfigMapKeyRef:
    name: str
    key: str

    @classmethod
    def from_obj(cls, raw: object) -> ConfigMapKeyRef:
        r = _map(raw)
        return cls(name=str(r.get("name", "")), key=str(r.get("key", "")))


@dataclass(frozen=True)
class RollbackSource:
    """Exactly one of sql, config_map, generate_from or migrations_from (the CRD's CEL rule
    says so); migrations_from, the ConfigMap of a whole migrations directory, goes with
    spec.targetVersion and only with it."""

    sql: str | None = None
    config_map: ConfigMapKeyRef | None = None
    generate_from: ConfigMapKeyRef | None = None
    migrations_from: str | None = None
    sha256: str | None = None

    @classmethod
    def from_obj(cls, raw: object) -> RollbackSource:
        r = _map(raw)
        generate = _map(r.get("generateFrom")).get("configMapRef")
        directory = _map(_map(r.get("migrationsFrom")).get("configMapRef")).get("name")
        return cls(
            sql=str(r["sql"]) if r.get("sql") is not None else None,
            config_map=ConfigMapKeyRef.from_obj(r["configMapRef"])
            if r.get("configMapRef")
            else None,
            generate_from=ConfigMapKeyRef.from_obj(generate) if generate else None,
            migrations_from=str(directory) if directory else None,
            sha256=str(r["sha256"]) if r.get("sha256") else None,
        )


@dataclass(frozen=True)
class WorkloadRef:
    kind: str = "Deployment"
    name: str | None = None
    match_labels: Mapping[str, str] | None = None
    revision: str = "current"  # current | previous | a revision number

    @classmethod
    def from_obj(cls, raw: object) -> WorkloadRef:
        r = _map(raw)
        labels = _map(r.get("selector")).get("matchLabels")
        keys = {"kind": "kind", "name": "name", "revision": "revision"}
        return cls(
            **{k: str(v) for k, v in _present(r, keys).items()},
            match_labels={str(k): str(v) for k, v in _map(labels).items()} if labels else None,
        )


@dataclass(frozen=True)
class HttpMaintenance:
    url: str
    method: str = "POST"
    enable_body: str = '{"enabled":true}'
    disable_body: str = '{"enabled":false}'
    headers_secret: str | None = None
    timeout_seconds: int = 5

    @classmethod
    def from_obj(cls, raw: object) -> HttpMaintenance:
        r = _map(raw)
        kw = _present(
            r,
            {
                "method": "method",
                "enableBody": "enable_body",
                "disableBody": "disable_body",
                "timeoutSeconds": "timeout_seconds",
            },
        )
        if "timeout_seconds" in kw:
            kw["timeout_seconds"] = int(kw["timeout_seconds"])
        ref = _map(r.get("headersSecretRef")).get("name")
        return cls(url=str(r.get("url", "")), headers_secret=str(ref) if ref else None, **kw)


@dataclass(frozen=True)
class ConfigMapMaintenance:
    name: str
    key: str
    enabled_value: str = "true"
    disabled_value: str = "false"

    @classmethod
    def from_obj(cls, raw: object) -> ConfigMapMaintenance:
        r = _map(raw)
        kw = {
            k: str(v)
            for k, v in _present(
                r, {"enabledValue": "enabled_value", "disabledValue": "disabled_value"}
            ).items()
        }
        return cls(name=str(r.get("name", "")), key=str(r.get("key", "")), **kw)


@dataclass(frozen=True)
class MaintenanceSpec:
    http: HttpMaintenance | None = None
    config_map: ConfigMapMaintenance | None = None

    @classmethod
    def from_obj(cls, raw: object) -> MaintenanceSpec | None:
        r = _map(raw)
        if not r.get("http") and not r.get("configMap"):
            return None
        return cls(
            http=HttpMaintenance.from_obj(r["http"]) if r.get("http") else None,
            config_map=ConfigMapMaintenance.from_obj(r["configMap"])
            if r.get("configMap")
            else None,
        )


@dataclass(frozen=True)
class BackupSpec:
    mode: str = "pgDump"
    persistent_volume_claim: str | None = None
    max_age: str = "1h"

    @classmethod
    def from_obj(cls, raw: object) -> BackupSpec:
        r = _map(raw)
        return cls(
            **{
                k: str(v)
                for k, v in _present(
                    r,
                    {
                        "mode": "mode",
                        "persistentVolumeClaim": "persistent_volume_claim",
                        "maxAge": "max_age",
                    },
                ).items()
            }
        )


@dataclass(frozen=True)
class JobSpec:
    image: str | None = None
    timeout_seconds: int = 900
    lock_timeout: str = "500ms"
    statement_timeout: str = "10m"
    service_account_name: str | None = None
    retries: int = 3

    @classmethod
    def from_obj(cls, raw: object) -> JobSpec:
        r = _map(raw)
        kw = _present(
            r,
            {
                "image": "image",
                "timeoutSeconds": "timeout_seconds",
                "lockTimeout": "lock_timeout",
                "statementTimeout": "statement_timeout",
                "serviceAccountName": "service_account_name",
                "retries": "retries",
            },
        )
        converted: dict[str, Any] = {
            k: int(v) if k in ("timeout_seconds", "retries") else str(v) for k, v in kw.items()
        }
        return cls(**converted)


def _check(raw: object) -> CheckSpec:
    """A health check; its defaults are CheckSpec's own (health.py)."""
    return CheckSpec.from_spec(dict(_map(raw)))


@dataclass(frozen=True)
class RollbackSpec:
    database: DatabaseSpec
    rollback: RollbackSource
    migration: str | None = None
    target_version: str | None = None
    dry_run: bool = False
    allow_data_loss: bool = False
    purge: bool = False
    workloads: tuple[WorkloadRef, ...] = ()
    maintenance: MaintenanceSpec | None = None
    backup: BackupSpec = field(default_factory=BackupSpec)
    health_checks: tuple[CheckSpec, ...] = ()
    job: JobSpec = field(default_factory=JobSpec)
    on_failure: str = "restore"
    scale_down_timeout_seconds: int = 300

    @classmethod
    def from_obj(cls, obj: Mapping[str, Any]) -> RollbackSpec:
        """From the whole resource (or a bare spec: one without a `spec` key)."""
        s = _map(obj.get("spec")) if "spec" in obj else obj
        kw: dict[str, Any] = {}
        for key, attr in (
            ("dryRun", "dry_run"),
            ("allowDataLoss", "allow_data_loss"),
            ("purge", "purge"),
        ):
            if s.get(key) is not None:
                kw[attr] = bool(s[key])
        if s.get("onFailure"):
            kw["on_failure"] = str(s["onFailure"])
        if s.get("scaleDownTimeoutSeconds") is not None:
            kw["scale_down_timeout_seconds"] = int(s["scaleDownTimeoutSeconds"])
        return cls(
            database=DatabaseSpec.from_obj(s.get("database")),
            rollback=RollbackSource.from_obj(s.get("rollback")),
            migration=str(s["migration"]) if s.get("migration") else None,
            target_version=str(s["targetVersion"]) if s.get("targetVersion") else None,
            workloads=tuple(WorkloadRef.from_obj(w) for w in s.get("workloads") or ()),
            maintenance=MaintenanceSpec.from_obj(s.get("maintenance")),
            backup=BackupSpec.from_obj(s.get("backup")),
            health_checks=tuple(_check(c) for c in s.get("healthChecks") or ()),
            job=JobSpec.from_obj(s.get("job")),
            **kw,
        )

    @property
    def restore_on_failure(self) -> bool:
        return self.on_failure == "restore"

    def to_patch(self) -> dict[str, Any]:
        """The spec as the API writes it, every default spelled out."""
        return {"spec": _to_api(self)}


def _to_api(value: object) -> Any:
    """A model as API JSON: camelCase keys, None left out, the CRD's nesting restored."""
    if isinstance(value, CheckSpec):
        return {
            _camel(f.name): getattr(value, f.name)
            for f in fields(value)
            if getattr(value, f.name) is not None
        }
    if isinstance(value, WorkloadRef):
        out: dict[str, Any] = {"kind": value.kind, "revision": value.revision}
        if value.name is not None:
            out["name"] = value.name
        if value.match_labels is not None:
            out["selector"] = {"matchLabels": dict(value.match_labels)}
        return out
    if isinstance(value, RollbackSource):
        src: dict[str, Any] = {}
        if value.sql is not None:
            src["sql"] = value.sql
        if value.config_map is not None:
            src["configMapRef"] = _to_api(value.config_map)
        if value.generate_from is not None:
            src["generateFrom"] = {"configMapRef": _to_api(value.generate_from)}
        if value.migrations_from is not None:
            src["migrationsFrom"] = {"configMapRef": {"name": value.migrations_from}}
        if value.sha256 is not None:
            src["sha256"] = value.sha256
        return src
    if isinstance(value, HttpMaintenance):
        http = {
            _camel(f.name): getattr(value, f.name)
            for f in fields(value)
            if f.name != "headers_secret" and getattr(value, f.name) is not None
        }
        if value.headers_secret is not None:
            http["headersSecretRef"] = {"name": value.headers_secret}
        return http
    if isinstance(value, tuple):
        return [_to_api(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {
            _camel(f.name): _to_api(getattr(value, f.name))
            for f in fields(value)  # type: ignore[arg-type]
            if getattr(value, f.name) is not None
        }
    return value


# --- status -------------------------------------------------------------------------------

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
    "databaseLock": "database_lock",
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
    database_lock: str | None = None
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

    @classmethod
    def from_obj(cls, obj: Mapping[str, Any]) -> RollbackStatus:
        """From the whole resource (its `status`), or a bare status mapping."""
        s = _map(obj.get("status")) if "metadata" in obj or "spec" in obj else obj
        kw = _present(s, STATUS_KEYS)
        for attr in ("observed_generation", "held_down"):
            if attr in kw:
                kw[attr] = int(kw[attr])
        for attr in ("maintenance_enabled",):
            if attr in kw:
                kw[attr] = bool(kw[attr])
        for attr in ("original_replicas", "hpa_min_replicas", "attempts"):
            if attr in kw:
                kw[attr] = {str(k): int(v) for k, v in _map(kw[attr]).items()}
        if "failure" in kw:
            f = _map(kw["failure"])
            kw["failure"] = Failure(
                str(f.get("reason", "JobFailed")), str(f.get("message", "failed"))
            )
        for attr in ("steps", "conditions", "blocking_sessions", "migrations", "health_checks"):
            if attr in kw:
                kw[attr] = tuple(dict(_map(item)) for item in kw[attr] or ())
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
            if attr != "phase" and (value is None or value == _field_default(default)):
                continue
            if isinstance(value, Failure):
                value = {"reason": value.reason, "message": value.message}
            elif isinstance(value, tuple):
                value = [dict(v) for v in value]
            elif isinstance(value, Mapping):
                value = dict(value)
            out[key] = value
        return {"status": out}


def _field_default(f: Any) -> Any:
    return f.default_factory() if f.default_factory is not MISSING else f.default
