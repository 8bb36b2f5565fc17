"""The MigrationRollback spec as typed objects (pure): read once, defaults here.

`RollbackSpec.from_obj(obj)` reads what the API server stored (it has already applied the CRD's
defaults, but an object written before a default existed, or a test's hand-made one, may lack
them: every default is a dataclass field default below, and a unit test keeps them equal to the
CRD's). `to_patch()` writes it back in the API's camelCase; `status` holds the status.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from migration_rollback.api import DEFAULT_HISTORY_TABLE
from migration_rollback.lifecycle.apijson import as_map, camel, present
from migration_rollback.lifecycle.health import CheckSpec
from migration_rollback.lifecycle.spec_keys import unknown_keys


@dataclass(frozen=True)
class SecretKeyRef:
    name: str
    key: str = "url"

    @classmethod
    def from_obj(cls, raw: object) -> SecretKeyRef:
        r = as_map(raw)
        return cls(
            name=str(r.get("name", "")),
            **{k: str(v) for k, v in present(r, {"key": "key"}).items()},
        )


@dataclass(frozen=True)
class DatabaseSpec:
    url_secret_ref: SecretKeyRef
    history_table: str = DEFAULT_HISTORY_TABLE

    @classmethod
    def from_obj(cls, raw: object) -> DatabaseSpec:
        r = as_map(raw)
        extra = {k: str(v) for k, v in present(r, {"historyTable": "history_table"}).items()}
        return cls(url_secret_ref=SecretKeyRef.from_obj(r.get("urlSecretRef")), **extra)


@dataclass(frozen=True)
class ConfigMapKeyRef:
    name: str
    key: str

    @classmethod
    def from_obj(cls, raw: object) -> ConfigMapKeyRef:
        r = as_map(raw)
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
        r = as_map(raw)
        generate = as_map(r.get("generateFrom")).get("configMapRef")
        directory = as_map(as_map(r.get("migrationsFrom")).get("configMapRef")).get("name")
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
        r = as_map(raw)
        labels = as_map(r.get("selector")).get("matchLabels")
        keys = {"kind": "kind", "name": "name", "revision": "revision"}
        return cls(
            **{k: str(v) for k, v in present(r, keys).items()},
            match_labels={str(k): str(v) for k, v in as_map(labels).items()} if labels else None,
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
        r = as_map(raw)
        kw = present(
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
        ref = as_map(r.get("headersSecretRef")).get("name")
        return cls(url=str(r.get("url", "")), headers_secret=str(ref) if ref else None, **kw)


@dataclass(frozen=True)
class ConfigMapMaintenance:
    name: str
    key: str
    enabled_value: str = "true"
    disabled_value: str = "false"

    @classmethod
    def from_obj(cls, raw: object) -> ConfigMapMaintenance:
        r = as_map(raw)
        kw = {
            k: str(v)
            for k, v in present(
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
        r = as_map(raw)
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
        r = as_map(raw)
        return cls(
            **{
                k: str(v)
                for k, v in present(
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
        r = as_map(raw)
        kw = present(
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
    return CheckSpec.from_spec(dict(as_map(raw)))


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
    # Keys the CRD does not define, kept by it to be refused (lifecycle.spec_keys): paths.
    unknown: tuple[str, ...] = ()

    @classmethod
    def from_obj(cls, obj: Mapping[str, Any]) -> RollbackSpec:
        """From the whole resource (or a bare spec: one without a `spec` key)."""
        s = as_map(obj.get("spec")) if "spec" in obj else obj
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
            unknown=unknown_keys(s),
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
            camel(f.name): getattr(value, f.name)
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
            camel(f.name): getattr(value, f.name)
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
            camel(f.name): _to_api(getattr(value, f.name))
            for f in fields(value)  # type: ignore[arg-type]
            if getattr(value, f.name) is not None and f.name not in _NOT_API
        }
    return value


# Model fields that are not the API's (what the operator found in it).
_NOT_API = frozenset({"unknown"})
