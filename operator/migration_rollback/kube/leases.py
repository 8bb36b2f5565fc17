"""coordination.k8s.io Leases: one rollback per database at a time, one active operator.

A Lease is held by an identity until released or until it expires without renewal, so a
crashed holder cannot block others forever, and a live one is never overtaken.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from migration_rollback.kube.client import Clients, is_conflict, is_not_found


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _expired(lease: Any, now: dt.datetime) -> bool:
    spec = lease.spec
    if not spec or not spec.holder_identity:
        return True
    renewed = spec.renew_time or spec.acquire_time
    if renewed is None:
        return True
    expiry = renewed + dt.timedelta(seconds=int(spec.lease_duration_seconds or 15))
    return bool(now > expiry)


@dataclass(frozen=True)
class Attempt:
    """One try at a Lease: `holder` another identity that has it (None: ours now); once ours,
    its resourceVersion and acquireTime, so the next renewal or the release needs no read."""

    holder: str | None
    version: str = ""
    acquired: str = ""


def try_acquire(
    clients: Clients,
    namespace: str,
    name: str,
    identity: str,
    duration: int = 30,
    held: Attempt | None = None,
) -> Attempt:
    """Take or renew the lease. `held`: our last attempt. Ours: the renewal goes by its
    version (a conflict means it changed since: read, and judged as any other). Another's
    (a standby polling): read first, as a create would only meet it again."""
    now = _now().isoformat()
    acquired = held.acquired if held is not None and held.holder is None else ""
    body: dict[str, Any] = {
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "holderIdentity": identity,
            "leaseDurationSeconds": duration,
            "acquireTime": acquired or now,
            "renewTime": now,
        },
    }
    if held is not None and held.holder is not None:
        return _take(clients, namespace, name, identity, body)
    if held is not None and held.holder is None and held.version:
        body["metadata"]["resourceVersion"] = held.version
        written = _write(clients, namespace, name, body, replace=True)
    else:  # created at once where it does not exist (the usual case: no read before)
        written = _write(clients, namespace, name, body, replace=False)
    return written or _take(clients, namespace, name, identity, body)


def _write(
    clients: Clients, namespace: str, name: str, body: dict[str, Any], replace: bool
) -> Attempt | None:
    """Create, or replace at the body's version; None when it exists or changed since."""
    try:
        if replace:
            lease = clients.coordination.replace_namespaced_lease(name, namespace, body)
        else:
            lease = clients.coordination.create_namespaced_lease(namespace, body)
    except Exception as exc:
        if is_conflict(exc) or (replace and is_not_found(exc)):
            return None
        raise
    return _ours(lease)


def _ours(lease: Any) -> Attempt:
    acquired = lease.spec.acquire_time.isoformat() if lease.spec.acquire_time else ""
    return Attempt(None, str(lease.metadata.resource_version or ""), acquired)


def _take(
    clients: Clients, namespace: str, name: str, identity: str, body: dict[str, Any]
) -> Attempt:
    """The Lease as it is now: ours to renew, free or expired to take, or another's."""
    try:
        lease = clients.coordination.read_namespaced_lease(name, namespace)
    except Exception as exc:
        if not is_not_found(exc):
            raise
        body["metadata"].pop("resourceVersion", None)
        return _write(clients, namespace, name, body, False) or Attempt("another (just created)")
    now = _now()
    holder = lease.spec.holder_identity if lease.spec else None
    if holder not in (identity, None, "") and not _expired(lease, now):
        return Attempt(str(holder))
    spec = body["spec"]
    spec["acquireTime"] = now.isoformat()
    if holder == identity and lease.spec.acquire_time:
        spec["acquireTime"] = lease.spec.acquire_time.isoformat()
    body["metadata"]["resourceVersion"] = lease.metadata.resource_version
    # Someone else renewed or took it in between.
    return _write(clients, namespace, name, body, replace=True) or Attempt("another (raced)")


def holder(clients: Clients, namespace: str, name: str) -> str | None:
    """Who holds the lease now; None when nobody does (absent, released or expired)."""
    try:
        lease = clients.coordination.read_namespaced_lease(name, namespace)
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise
    if _expired(lease, _now()):
        return None
    return str(lease.spec.holder_identity)


def release(clients: Clients, namespace: str, name: str, identity: str, version: str = "") -> None:
    """Give the lease up, only if we hold it: at `version` (ours, as last written) without a
    read; else, or if it changed since, read and deleted only if still ours."""
    if version and _delete(clients, namespace, name, version):
        return
    try:
        lease = clients.coordination.read_namespaced_lease(name, namespace)
    except Exception as exc:
        if is_not_found(exc):
            return
        raise
    if lease.spec and lease.spec.holder_identity == identity:
        _delete(clients, namespace, name, str(lease.metadata.resource_version))


def _delete(clients: Clients, namespace: str, name: str, version: str) -> bool:
    """False when the Lease changed since `version` (someone else's now, or renewed)."""
    try:
        clients.coordination.delete_namespaced_lease(
            name, namespace, body={"preconditions": {"resourceVersion": version}}
        )
    except Exception as exc:
        if is_not_found(exc):
            return True
        if is_conflict(exc):
            return False
        raise
    return True
