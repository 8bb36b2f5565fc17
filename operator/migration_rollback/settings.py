"""Operator settings, from environment variables (the Helm chart sets them)."""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass, field
from typing import Any


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
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        e = os.environ if env is None else env
        namespaces = tuple(n.strip() for n in e.get("WATCH_NAMESPACES", "").split(",") if n.strip())
        overrides = json.loads(e["JOB_POD_OVERRIDES"]) if e.get("JOB_POD_OVERRIDES") else {}
        if not isinstance(overrides, dict):
            raise ValueError("JOB_POD_OVERRIDES must be a JSON object (nodeSelector, tolerations)")
        return cls(
            image=e.get("JOB_IMAGE", cls.image),
            namespace=e.get("OPERATOR_NAMESPACE", cls.namespace),
            identity=e.get("POD_NAME") or socket.gethostname(),
            watch_namespaces=namespaces,
            job_service_account=e.get("JOB_SERVICE_ACCOUNT") or None,
            job_pod_overrides=overrides,
            metrics_port=int(e.get("METRICS_PORT", cls.metrics_port)),
            health_port=int(e.get("HEALTH_PORT", cls.health_port)),
            leader_election=e.get("LEADER_ELECTION", "true").lower() != "false",
            max_workers=int(e.get("MAX_CONCURRENT_ROLLBACKS", cls.max_workers)),
        )
