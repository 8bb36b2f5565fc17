"""coordination.k8s.io Leases: one rollback per database at a time, one active operator.

A Lease is held by an identity until released or until it expires without renewal, so a
crashed holder cannot block others forever, and a live one is never overtaken.
"""

from __future__ import annotations

import datetime as dt
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


def try_acquire(
    clients: Clients, namespace: str, name: str, identity: str, duration: int = 30
) -> str | None:
    """Take or renew the lease; return None when held, else the current holder."""
    now = _now()
    body: dict[str, Any] = {
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "holderIdentity": identity,
            "leaseDurationSeconds": duration,
            "acquireTime": now.isoformat(),
            "renewTime": now.isoformat(),
        },
    }
    try:
        lease = clients.coordination.read_namespaced_lease(name, namespace)
    except Exception as exc:
        if not is_not_found(exc):
            raise
        try:
            clients.coordination.create_namespaced_lease(namespace, body)
            return None
        except Exception as create_exc:
            if is_conflict(create_exc):
                return "another holder (just created)"
            raise
    holder = lease.spec.holder_identity if lease.spec else None
    if holder not in (identity, None, "") and not _expired(lease, now):
        return str(holder)
    if holder == identity and lease.spec.acquire_time:
        body["spec"]["acquireTime"] = lease.spec.acquire_time.isoformat()
    body["metadata"]["resourceVersion"] = lease.metadata.resource_version
    try:
        clients.coordination.replace_namespaced_lease(name, namespace, body)
    except Exception as exc:
        if is_conflict(exc):  # someone else renewed or took it in between
            return "another holder (raced)"
        raise
    return None


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


def release(clients: Clients, namespace: str, name: str, identity: str) -> None:
    """Give the lease up, only if we hold it."""
    try:
        lease = clients.coordination.read_namespaced_lease(name, namespace)
    except Exception as exc:
        if is_not_found(exc):
            return
        raise
    if lease.spec and lease.spec.holder_identity == identity:
        try:
            clients.coordination.delete_namespaced_lease(
                name,
                namespace,
                body={"preconditions": {"resourceVersion": lease.metadata.resource_version}},
            )
        except Exception as exc:
            if not (is_not_found(exc) or is_conflict(exc)):
                raise
