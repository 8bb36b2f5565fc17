"""Maintenance mode: an HTTP call to the application's admin endpoint, or a ConfigMap flag."""

from __future__ import annotations

from typing import Any

import httpx

from migration_rollback.kube.client import Clients
from migration_rollback.kube.sources import secret_values


class MaintenanceError(RuntimeError):
    pass


def set_maintenance(clients: Clients, namespace: str, spec: dict[str, Any], enabled: bool) -> str:
    """Turn maintenance on or off; idempotent (the same call twice leaves the same state)."""
    if "http" in spec:
        return _http(clients, namespace, spec["http"], enabled)
    if "configMap" in spec:
        return _config_map(clients, namespace, spec["configMap"], enabled)
    return "no maintenance configured"


def _http(clients: Clients, namespace: str, spec: dict[str, Any], enabled: bool) -> str:
    headers = {"Content-Type": "application/json"}
    ref = spec.get("headersSecretRef")
    if ref:
        headers.update(
            secret_values(clients, namespace, ref["name"], "spec.maintenance.http.headersSecretRef")
        )
    body = spec.get("enableBody" if enabled else "disableBody") or (
        '{"enabled":true}' if enabled else '{"enabled":false}'
    )
    url = str(spec["url"])
    try:
        response = httpx.request(
            spec.get("method", "POST"),
            url,
            content=body,
            headers=headers,
            timeout=float(spec.get("timeoutSeconds", 5)),
        )
    except httpx.HTTPError as exc:
        # The exception text may include the URL but never the headers (where tokens live).
        raise MaintenanceError(f"maintenance call to {url} failed: {type(exc).__name__}") from None
    if response.status_code >= 300:
        raise MaintenanceError(f"maintenance call to {url} answered {response.status_code}")
    return f"{'enabled' if enabled else 'disabled'} via {url} ({response.status_code})"


def _config_map(clients: Clients, namespace: str, spec: dict[str, Any], enabled: bool) -> str:
    value = spec.get("enabledValue", "true") if enabled else spec.get("disabledValue", "false")
    clients.core.patch_namespaced_config_map(
        spec["name"], namespace, {"data": {spec["key"]: str(value)}}
    )
    return f"set ConfigMap {spec['name']} {spec['key']}={value}"
