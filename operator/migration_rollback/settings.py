"""Operator settings, from environment variables (the Helm chart sets them).

A value the operator cannot use stops it at start with one line naming the variable and what
it accepts, never a traceback and never a silent default: `LEADER_ELECTION=flase` must not
quietly run two leaders, nor `JOB_POD_OVERRIDES` replace the rollback container the operator
verified.
"""

from __future__ import annotations

import json
import os
import re
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from migration_rollback.errors import ConfigurationError

T = TypeVar("T")

# Pod spec fields that place or schedule the rollback Job's pod: what an override may set.
# Everything else either is the Job's own work (containers, volumes, restartPolicy, security
# context: what runs must be what was verified) or is no pod spec field at all.
POD_OVERRIDE_FIELDS = frozenset(
    {
        "affinity",
        "dnsConfig",
        "dnsPolicy",
        "hostAliases",
        "imagePullSecrets",
        "nodeName",
        "nodeSelector",
        "preemptionPolicy",
        "priority",
        "priorityClassName",
        "runtimeClassName",
        "schedulerName",
        "tolerations",
        "topologySpreadConstraints",
    }
)
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
_NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
MAX_WORKERS_LIMIT = 1024


def _integer(name: str, text: str, low: int, high: int) -> int:
    value = text.strip()
    if not re.fullmatch(r"[+]?\d+", value) or not low <= int(value) <= high:
        raise ConfigurationError(f"{name}: {text!r} is not a whole number from {low} to {high}")
    return int(value)


def _port(name: str, text: str) -> int:
    return _integer(name, text, 1, 65535)


def _workers(name: str, text: str) -> int:
    return _integer(name, text, 1, MAX_WORKERS_LIMIT)


def _boolean(name: str, text: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE | _FALSE:
        return value in _TRUE
    raise ConfigurationError(f"{name}: {text!r} is not a boolean (true or false)")


def _word(name: str, text: str) -> str:
    """A value that may be left unset but not set blank (a template that rendered nothing)."""
    if not text.strip():
        raise ConfigurationError(f"{name} is set but empty: unset it or give a value")
    return text.strip()


def _namespaces(name: str, text: str) -> tuple[str, ...]:
    found = tuple(n.strip() for n in text.split(",") if n.strip())
    for namespace in found:
        if not _NAMESPACE.fullmatch(namespace):
            raise ConfigurationError(
                f"{name}: {namespace!r} is not a namespace name (lower-case letters, digits and "
                "'-', at most 63 characters; separate several with ',')"
            )
    return found


def pod_overrides(name: str, text: str) -> dict[str, Any]:
    """A JSON object of pod spec fields that place the Job's pod, and nothing else."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(
            f"{name}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    if not isinstance(value, dict):
        raise ConfigurationError(
            f"{name}: a JSON object of pod spec fields is needed, not {type(value).__name__}"
        )
    refused = sorted(set(value) - POD_OVERRIDE_FIELDS)
    if refused:
        paths = ", ".join(f"{name}.{key}" for key in refused)
        raise ConfigurationError(
            f"{paths}: not a field an override may set (the operator builds the Job's "
            "containers, volumes and security context itself); allowed: "
            f"{', '.join(sorted(POD_OVERRIDE_FIELDS))}"
        )
    return value


def _read(env: Mapping[str, str], name: str, parse: Callable[[str, str], T], default: T) -> T:
    return parse(name, env[name]) if name in env else default


@dataclass(frozen=True)
class Settings:
    image: str = "migration-rollback:latest"
    namespace: str = "migration-rollback-system"
    identity: str = field(default_factory=socket.gethostname)
    watch_namespaces: tuple[str, ...] = ()
    job_service_account: str | None = None
    job_pod_overrides: dict[str, Any] = field(default_factory=dict)
    metrics_port: int = 8080
    health_port: int = 8081
    leader_election: bool = True
    max_workers: int = 128

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings the environment gives; ConfigurationError naming a bad variable."""
        e = os.environ if env is None else env
        settings = cls(
            image=_read(e, "JOB_IMAGE", _word, cls.image),
            namespace=_read(e, "OPERATOR_NAMESPACE", _word, cls.namespace),
            identity=e.get("POD_NAME") or socket.gethostname(),
            watch_namespaces=_read(e, "WATCH_NAMESPACES", _namespaces, ()),
            job_service_account=e.get("JOB_SERVICE_ACCOUNT", "").strip() or None,
            job_pod_overrides=_read(e, "JOB_POD_OVERRIDES", _overrides_or_none, {}),
            metrics_port=_read(e, "METRICS_PORT", _port, cls.metrics_port),
            health_port=_read(e, "HEALTH_PORT", _port, cls.health_port),
            leader_election=_read(e, "LEADER_ELECTION", _boolean, cls.leader_election),
            max_workers=_read(e, "MAX_CONCURRENT_ROLLBACKS", _workers, cls.max_workers),
        )
        if settings.metrics_port == settings.health_port:
            raise ConfigurationError(
                f"METRICS_PORT and HEALTH_PORT are both {settings.health_port}: give each its own"
            )
        return settings


def _overrides_or_none(name: str, text: str) -> dict[str, Any]:
    # The chart leaves the variable out when there are no overrides; blank means the same.
    return pod_overrides(name, text) if text.strip() else {}
