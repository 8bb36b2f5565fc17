"""Ready-to-apply MigrationRollback manifests, as the emergency plan and docs print them."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import yaml

from migration_rollback import api

# spec.migration in crds/ (a test keeps them equal); it is also the ConfigMap key's stem.
MIGRATION_PATTERN = re.compile(r"^[0-9]+_[A-Za-z0-9_.-]+$")  # the CRD's; read with fullmatch
MIGRATION_MAX_LENGTH = 200
DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def resource_name(migration: str) -> str:
    """A DNS-1123 label for the resource: `undo-<version>-<title>`, at most 63 characters.

    A name cut to fit, or changed to fit, ends in a hash of the original so two migrations
    never share a resource.
    """
    slug = re.sub(r"[^a-z0-9-]+", "-", migration.lower()).strip("-")
    name = f"undo-{slug}".rstrip("-")
    if len(name) <= 63 and slug == migration.replace("_", "-").lower():
        return name
    digest = hashlib.sha256(migration.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return f"{name[:54].rstrip('-')}-{digest}"


def manifest_problem(migration: str) -> str | None:
    """Why no MigrationRollback can name this migration (the CRD's rule), or None."""
    if len(migration) > MIGRATION_MAX_LENGTH:
        return f"the migration name is longer than {MIGRATION_MAX_LENGTH} characters"
    if not MIGRATION_PATTERN.fullmatch(migration):
        return (
            "the migration name has characters a MigrationRollback (and a ConfigMap key) does "
            "not allow: only letters, digits, '_', '.' and '-' after the version; rename the file"
        )
    return None


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
