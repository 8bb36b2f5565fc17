"""Maintenance mode: an HTTP call to the application's admin endpoint, or a ConfigMap flag."""

from __future__ import annotations

import json

import httpx
from kubernetes.client.exceptions import ApiException

from migration_rollback.kube.client import Clients
from migration_rollback.kube.sources import (
    Headers,
    InvalidHeaderError,
    SourceNotFoundError,
    header_values,
)
from migration_rollback.lifecycle.model import (
    ConfigMapMaintenance,
    HttpMaintenance,
    MaintenanceSpec,
)
from migration_rollback.redact_url import http_url_shown


class MaintenanceError(RuntimeError):
    pass


class HeadersSecretMissing(ValueError):
    """The headers Secret is gone: no call is sent without the headers it names. A
    ValueError, so the flow's error budget bounds its retries (controller.permanent)."""


HEADERS_FIELD = "spec.maintenance.http.headersSecretRef"


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
    read = _headers(clients, namespace, spec.headers_secret) if spec.headers_secret else None
    headers.update(read.values if read else {})
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
        raise MaintenanceError(  # the headers were checked: the URL (never quoted whole)
            f"spec.maintenance.http.url: {http_url_shown(url)} cannot be called: "
            f"{type(exc).__name__}"
        ) from None
    shown = http_url_shown(url)
    if response.status_code >= 300:
        raise MaintenanceError(f"maintenance call to {shown} answered {response.status_code}")
    done = f"{'enabled' if enabled else 'disabled'} via {shown} ({response.status_code})"
    return done + stripped_note(read)


def _headers(clients: Clients, namespace: str, name: str) -> Headers:
    """The headers Secret, checked (lifecycle never sees it: a token). Missing, it is
    `HeadersSecretMissing`, which the flow retries a bounded number of times (it may be
    being recreated); a value that cannot be sent is final, naming the Secret and key."""
    try:
        return header_values(clients, namespace, name, HEADERS_FIELD)
    except SourceNotFoundError as exc:
        raise HeadersSecretMissing(str(exc)) from None
    except InvalidHeaderError as exc:
        raise MaintenanceError(str(exc)) from None


def stripped_note(read: Headers | None) -> str:
    """What a call says of the trailing newlines it took off the headers' values."""
    if read is None or not read.stripped:
        return ""
    keys = ", ".join(repr(k) for k in read.stripped)
    return f" (a trailing newline was taken off the value of {keys} in the headers Secret)"


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
