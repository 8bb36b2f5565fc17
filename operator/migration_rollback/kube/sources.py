"""Read what the resource points at: ConfigMap keys (SQL) and Secret keys (the database URL).

The database URL itself is only read to check it parses, to tell databases apart and to know
what to scrub from what the operator writes (never logged or stored); the Job gets it by
environment.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from migration_rollback.kube.client import Clients, is_not_found


class SourceNotFoundError(LookupError):
    pass


def _read(read: Callable[[str, str], Any], namespace: str, name: str, what: str, field: str) -> Any:
    try:
        return read(name, namespace)
    except Exception as exc:
        if is_not_found(exc):
            raise SourceNotFoundError(f"{field}: {what} {namespace}/{name} not found") from None
        raise


def config_map_value(clients: Clients, namespace: str, name: str, key: str, field: str) -> str:
    cm = _read(clients.core.read_namespaced_config_map, namespace, name, "ConfigMap", field)
    data = cm.data or {}
    if key not in data:
        keys = ", ".join(sorted(data)[:10]) or "none"
        raise SourceNotFoundError(f"{field}: key {key!r} not in ConfigMap {name} (keys: {keys})")
    return str(data[key])


def config_map_data(clients: Clients, namespace: str, name: str, field: str) -> dict[str, str]:
    """Every key of a ConfigMap (a migrations directory); SourceNotFoundError when it is missing."""
    cm = _read(clients.core.read_namespaced_config_map, namespace, name, "ConfigMap", field)
    return {str(k): str(v) for k, v in (cm.data or {}).items()}


def secret_values(clients: Clients, namespace: str, name: str, field: str) -> dict[str, str]:
    """All keys of a Secret, decoded (never logged). Bytes that are not UTF-8 become U+FFFD
    rather than an exception: a bad value must end in a clear failure, not a retry loop."""
    secret = _read(clients.core.read_namespaced_secret, namespace, name, "Secret", field)
    return {k: base64.b64decode(v).decode(errors="replace") for k, v in (secret.data or {}).items()}


def secret_value(clients: Clients, namespace: str, name: str, key: str, field: str) -> str:
    """One key of a Secret (never logged); SourceNotFoundError when it is missing. Bytes that
    are not UTF-8 are kept as Python keeps them in an environment variable (lone surrogates),
    which is how the Job will see them: the URL's parser then refuses them by name, where a
    U+FFFD stand-in would have passed and failed only in the Job."""
    secret = _read(clients.core.read_namespaced_secret, namespace, name, "Secret", field)
    data = secret.data or {}
    if key not in data:
        raise SourceNotFoundError(f"{field}: key {key!r} not in Secret {name}")
    return base64.b64decode(data[key]).decode(errors="surrogateescape")
