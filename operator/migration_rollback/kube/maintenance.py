"""Maintenance mode: an HTTP call to the application's admin endpoint, or a ConfigMap flag."""

from __future__ import annotations

import json

import httpx
from kubernetes.client.exceptions import ApiException

from migration_rollback.kube.client import Clients
from migration_rollback.kube.sources import secret_values
from migration_rollback.lifecycle.model import (
    ConfigMapMaintenance,
    HttpMaintenance,
    MaintenanceSpec,
)
from migration_rollback.redact import http_url_shown


class MaintenanceError(RuntimeError):
    pass


# The ConfigMap's patch refused for what it says (a bad key, an immutable ConfigMap): the same
# on every retry. A 404 stays an ApiException: deleting a resource treats it as done.
REFUSED = frozenset({400, 422})


def _why(exc: ApiException) -> str:
    try:
        said = json.loads(exc.body or "{}").get("message")
    except ValueError:
        said = None
    return f": {str(said)[:300]}" if said else ""


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
        raise MaintenanceError(
            f"maintenance call to {http_url_shown(url)} failed: {type(exc).__name__}"
        ) from None
    except (httpx.InvalidURL, ValueError) as exc:  # a URL the CRD's rule did not catch
        raise MaintenanceError(  # the error's text may quote the URL, or a header's value
            f"spec.maintenance.http.url: {http_url_shown(url)} cannot be called, or a header "
            f"from its Secret cannot be sent: {type(exc).__name__}"
        ) from None
    shown = http_url_shown(url)
    if response.status_code >= 300:
        raise MaintenanceError(f"maintenance call to {shown} answered {response.status_code}")
    return f"{'enabled' if enabled else 'disabled'} via {shown} ({response.status_code})"


def _config_map(clients: Clients, namespace: str, spec: ConfigMapMaintenance, enabled: bool) -> str:
    value = spec.enabled_value if enabled else spec.disabled_value
    try:
        clients.core.patch_namespaced_config_map(spec.name, namespace, {"data": {spec.key: value}})
    except ApiException as exc:
        if exc.status not in REFUSED:
            raise  # the API server's state (restarting, a conflict): kopf retries
        raise MaintenanceError(
            f"spec.maintenance.configMap: setting {spec.name} key {spec.key!r} was refused "
            f"({exc.status} {exc.reason}){_why(exc)}"
        ) from None
    return f"set ConfigMap {spec.name} {spec.key}={value}"
