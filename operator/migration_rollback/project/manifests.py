"""Ready-to-apply MigrationRollback manifests, as the emergency plan and docs print them."""

from __future__ import annotations

import re
from typing import Any

import yaml

from migration_rollback import api


def resource_name(migration: str) -> str:
    """A DNS-1123 name for the resource: `undo-<version>-<title>`, at most 63 characters."""
    slug = re.sub(r"[^a-z0-9-]+", "-", migration.lower()).strip("-")
    return f"undo-{slug}"[:63].rstrip("-")


def rollback_manifest(
    migration: str,
    sha256: str | None,
    *,
    namespace: str = "default",
    config_map: str = "app-migrations",
    db_secret: str = "app-db",  # noqa: S107 (a Secret name, not a password)
    allow_data_loss: bool = False,
) -> dict[str, Any]:
    rollback: dict[str, Any] = {
        "configMapRef": {"name": config_map, "key": f"{migration}_rollback.sql"}
    }
    if sha256:
        rollback["sha256"] = sha256
    return {
        "apiVersion": api.API_VERSION,
        "kind": api.KIND,
        "metadata": {"name": resource_name(migration), "namespace": namespace},
        "spec": {
            "migration": migration,
            "database": {
                "urlSecretRef": {"name": db_secret, "key": "url"},
                "historyTable": api.DEFAULT_HISTORY_TABLE,
            },
            "rollback": rollback,
            "allowDataLoss": allow_data_loss,
            "workloads": [{"kind": "Deployment", "name": "app"}],
            "backup": {"mode": "pgDump"},
            "healthChecks": [{"name": "app", "url": "http://app/healthz", "expectStatus": 200}],
        },
    }


# libyaml's emitter when the wheel has it: the pure-Python one dominates `generate` run time.
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def to_yaml(manifest: dict[str, Any]) -> str:
    return str(yaml.dump(manifest, Dumper=_DUMPER, sort_keys=False, default_flow_style=False))
