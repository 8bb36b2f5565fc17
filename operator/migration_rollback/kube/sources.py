"""Read what the resource points at: ConfigMap keys (SQL) and Secret keys (the database URL,
the maintenance call's headers).

The database URL itself is only read to check it parses, to tell databases apart and to know
what to scrub from what the operator writes (never logged or stored); the Job gets it by
environment.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass
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


class InvalidHeaderError(ValueError):
    """A headers Secret's key or value that cannot be sent as an HTTP header: says which
    Secret and key and why, never the value (a token)."""


# A header's name (RFC 9110 token) and value (visible ASCII, spaces and tabs between).
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_VALUE = re.compile(r"[\x21-\x7e]([\x20-\x7e\t]*[\x21-\x7e])?")


@dataclass(frozen=True)
class Headers:
    """A headers Secret's keys and values, checked; `stripped`: keys whose value ended in one
    newline that was taken off (what `kubectl create secret --from-file` leaves)."""

    values: dict[str, str]
    stripped: tuple[str, ...] = ()


def header_values(clients: Clients, namespace: str, name: str, field: str) -> Headers:
    """Every key of a Secret as an HTTP header (never logged). SourceNotFoundError when the
    Secret is missing; InvalidHeaderError naming the Secret, the key and the cause when one
    cannot be sent (httpx would say only LocalProtocolError, or quote the token's character)."""
    secret = _read(clients.core.read_namespaced_secret, namespace, name, "Secret", field)
    values, stripped = {}, []
    for key, encoded in sorted((secret.data or {}).items()):
        where = f"{field}: Secret {namespace}/{name} key {key!r}"
        raw = base64.b64decode(encoded)
        if raw.endswith(b"\n"):  # one trailing line end, as a file holding the token has
            raw = raw.removesuffix(b"\n").removesuffix(b"\r")
            stripped.append(key)
        values[key] = header_value(raw, key, where)
    return Headers(values, tuple(stripped))


def header_value(raw: bytes, key: str, where: str) -> str:
    """The value as a header may carry it, or InvalidHeaderError saying why (no value)."""
    if not _HEADER_NAME.fullmatch(key):
        raise InvalidHeaderError(f"{where}: the key is not a valid HTTP header name")
    if b"\r" in raw or b"\n" in raw:
        raise InvalidHeaderError(
            f"{where}: the value holds a line break (CR/LF) inside it, which a header cannot carry"
        )
    if any(b > 0x7E for b in raw):
        raise InvalidHeaderError(
            f"{where}: the value is not ASCII (an HTTP header value must be printable ASCII)"
        )
    text = raw.decode("ascii")
    if not _HEADER_VALUE.fullmatch(text):
        raise InvalidHeaderError(
            f"{where}: the value is empty, has a control character, or starts or ends with a "
            "space (a header value cannot)"
        )
    return text


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
