"""Validating a `spec.targetVersion` resource: read the migrations ConfigMap, freeze the set.

The decisions are lifecycle.target's (which migrations, their digest, their status entries);
this module does the two API calls around them, so the flow only calls `validate` from its
Validating phase and `states_patch` when a Job's result comes back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from migration_rollback.errors import SqlSyntaxError
from migration_rollback.jobresult import JobResult
from migration_rollback.kube import jobs, resources, sources
from migration_rollback.kube.client import Clients
from migration_rollback.lifecycle import analysis, target
from migration_rollback.lifecycle.model import RollbackSpec
from migration_rollback.lifecycle.phases import Reason


@dataclass(frozen=True)
class Validated:
    status: dict[str, Any]  # sqlSha256, sqlConfigMap, plan, migrations
    summary: str  # the Validate step's message


def validate(clients: Clients, obj: Mapping[str, Any]) -> Validated:
    """The set for the resource's spec.targetVersion, analysed and frozen in a ConfigMap it owns.
    Raises SourceNotFoundError while the ConfigMap is missing (a wait), TargetError otherwise."""
    meta = obj["metadata"]
    spec = RollbackSpec.from_obj(obj)
    name = str(spec.rollback.migrations_from)
    data = sources.config_map_data(clients, meta["namespace"], name, target.FIELD)
    chosen = target.resolve(data, str(spec.target_version), name)
    try:
        summary = analysis.summarize([(r.sql, r.key) for r in chosen.rollbacks])
    except SqlSyntaxError as exc:
        raise target.TargetError(
            Reason.INVALID_SQL, f"rollback SQL does not parse: {exc}"
        ) from None
    digest = chosen.sha256
    pinned = spec.rollback.sha256
    if pinned and pinned != digest:
        raise target.TargetError(
            Reason.SHA256_MISMATCH,
            f"spec.rollback.sha256 is {pinned} but the set "
            f"({', '.join(r.member.name for r in chosen.rollbacks)}) hashes to {digest}",
        )
    owner = resources.owner_reference(dict(obj))
    cm_name = analysis.child_name(meta["name"], "sql", digest)
    jobs.ensure_config_map(
        clients, jobs.sql_config_map(cm_name, meta["namespace"], owner, chosen.files)
    )
    status = {
        "sqlSha256": digest,
        "sqlConfigMap": cm_name,
        "plan": summary.to_status(),
        "migrations": chosen.status_entries(),
    }
    lock = summary.strongest_lock
    return Validated(
        status,
        f"{len(chosen.rollbacks)} migration(s) newer than {chosen.target}, newest first: "
        f"{', '.join(r.member.name for r in chosen.rollbacks)}; {summary.statements} "
        f"statements, {summary.manual_items} manual, "
        f"{'destroys data' if summary.destroys_data else 'no data loss'}, lock {lock}",
    )


def states_patch(status: Mapping[str, Any], result: JobResult) -> dict[str, Any]:
    """`status.migrations` with the states a Job's result reports; nothing for a resource
    without a set, or a result without states (a COMMIT whose outcome is unknown)."""
    entries = status.get("migrations") or []
    if not entries or not result.migration_states:
        return {}
    return {"migrations": target.with_states(entries, result.migration_states)}
