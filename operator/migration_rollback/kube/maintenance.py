"""Maintenance mode: an HTTP call to the application's admin endpoint, or a ConfigMap flag."""

from __future__ import annotations

import httpx

from migration_rollback.kube.client import Clients
from migration_rollback.kube.sources import secret_values
from migration_rollback.lifecycle.model import (
    ConfigMapMaintenance,
    HttpMaintenance,
    MaintenanceSpec,
)


class MaintenanceError(RuntimeError):
    pass


def set_maintenance(clients: Clients, namespace: str, spec: MaintenanceSpec, enabled: bool) -> str:
    """Turn maintenance on or off; idempotent (the same call twice leaves the same state)."""
    if spec.http is not None:
        return _http(clients, namespace, spec.http, enabled)
    if spec.config_map is not None:
        return _config_map(clients, namespace, spec.config_map, enabled)
    return "no maintenance configured"


def _http(clients: Clients, namespace: str, spec: HttpMaintenance, enabled: bool) -> str:
    headers = {"Content-Type": "application/json"}
    if spec.headers_secret:
        headers.update(
            secret_values(
                clients, namespace, spec.headers_secret, "spec.maintenance.http.headersSecretRef"
            )
        )
    body = spec.enable_body if enabled else spec.disable_body
    url = spec.url
    try:
        response = httpx.request(
            spec.method, url, content=body, headers=headers, timeout=float(spec.timeout_seconds)
        )
    except httpx.HTTPError as exc:
        # The exception text may include the URL but never the headers (where tokens live).
        raise MaintenanceError(f"maintenance call to {url} failed: {type(exc).__name__}") from None
    if response.status_code >= 300:
        raise MaintenanceError(f"maintenance call to {url} answered {response.status_code}")
    return f"{'enabled' if enabled else 'disabled'} via {url} ({response.status_code})"


def _config_map(clients: Clients, namespace: str, spec: ConfigMapMaintenance, enabled: bool) -> str:
    value = spec.enabled_value if enabled else spec.disabled_value
    clients.core.patch_namespaced_config_map(spec.name, namespace, {"data": {spec.key: value}})
    return f"set ConfigMap {spec.name} {spec.key}={value}"
