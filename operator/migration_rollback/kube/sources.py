"""Read what the resource points at: ConfigMap keys (SQL) and whether a Secret key exists.

The database URL itself is never read by the operator: only the Job gets it, by environment.
"""

from __future__ import annotations

from migration_rollback.kube.client import Clients, is_not_found


class SourceNotFoundError(LookupError):
    pass


def config_map_value(clients: Clients, namespace: str, name: str, key: str, field: str) -> str:
    try:
        cm = clients.core.read_namespaced_config_map(name, namespace)
    except Exception as exc:
        if is_not_found(exc):
            raise SourceNotFoundError(f"{field}: ConfigMap {namespace}/{name} not found") from None
        raise
    data = cm.data or {}
    if key not in data:
        keys = ", ".join(sorted(data)[:10]) or "none"
        raise SourceNotFoundError(f"{field}: key {key!r} not in ConfigMap {name} (keys: {keys})")
    return str(data[key])


def secret_has_key(clients: Clients, namespace: str, name: str, key: str, field: str) -> None:
    """Check the Secret and key exist without keeping its value anywhere."""
    try:
        secret = clients.core.read_namespaced_secret(name, namespace)
    except Exception as exc:
        if is_not_found(exc):
            raise SourceNotFoundError(f"{field}: Secret {namespace}/{name} not found") from None
        raise
    if key not in (secret.data or {}):
        raise SourceNotFoundError(f"{field}: key {key!r} not in Secret {name}")


def secret_values(clients: Clients, namespace: str, name: str, field: str) -> dict[str, str]:
    """All keys of a Secret, decoded (for maintenance-call headers; never logged)."""
    import base64

    try:
        secret = clients.core.read_namespaced_secret(name, namespace)
    except Exception as exc:
        if is_not_found(exc):
            raise SourceNotFoundError(f"{field}: Secret {namespace}/{name} not found") from None
        raise
    return {k: base64.b64decode(v).decode() for k, v in (secret.data or {}).items()}
