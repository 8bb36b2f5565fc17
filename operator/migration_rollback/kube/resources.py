"""Read and patch MigrationRollback resources and post events about them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from migration_rollback import api
from migration_rollback.kube.client import Clients


def patch_status(
    clients: Clients, namespace: str, name: str, status: dict[str, Any]
) -> dict[str, Any]:
    """Merge-patch the status subresource (progress is recorded before each action); the
    status as stored (a CRD older than the operator prunes the fields it does not know)."""
    stored = clients.custom.patch_namespaced_custom_object_status(
        api.GROUP, api.VERSION, namespace, api.PLURAL, name, {"status": status}
    )
    found = stored.get("status") if isinstance(stored, dict) else None
    return dict(found) if isinstance(found, dict) else {}


def owner_reference(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj["metadata"]
    return {
        "apiVersion": api.API_VERSION,
        "kind": api.KIND,
        "name": meta["name"],
        "uid": meta["uid"],
    }


def post_event(
    clients: Clients,
    meta: Mapping[str, Any],
    reason: str,
    message: str,
    warning: bool = False,
    at: dt.datetime | None = None,
    timeout: float | None = None,
) -> None:
    """A core/v1 Event on the resource (`meta` is its metadata), as `kubectl describe` shows
    it; `at`: when it happened (default now); `timeout`: the request's, in seconds."""
    now = at or dt.datetime.now(dt.UTC)
    body = {
        "metadata": {"generateName": f"{meta['name']}.", "namespace": meta["namespace"]},
        "involvedObject": {
            "apiVersion": api.API_VERSION,
            "kind": api.KIND,
            "name": meta["name"],
            "namespace": meta["namespace"],
            "uid": meta["uid"],
        },
        "reason": reason,
        "message": message[:1024],
        "type": "Warning" if warning else "Normal",
        "source": {"component": "migration-rollback"},
        "firstTimestamp": now.isoformat(),
        "lastTimestamp": now.isoformat(),
        "count": 1,
    }
    clients.core.create_namespaced_event(meta["namespace"], body, _request_timeout=timeout)
