"""The keys a spec may have where a typo would change what the rollback does, and the keys it
has that are none of them (pure).

The API server prunes an unknown key from a structural schema without a word unless the
client asked for strict field validation (`kubectl --validate=false`, most API clients and
some GitOps tools do not): `dryrun: true` was dropped and the real rollback ran. The CRD keeps
unknown keys at these levels (`x-kubernetes-preserve-unknown-fields`, the known ones still
validated by the schema) and the operator refuses them by their path before anything is
touched. A unit test keeps these tables equal to the CRD's properties.
"""

from __future__ import annotations

from collections.abc import Mapping

# Field path -> its known keys, for every level the CRD preserves unknown keys at.
KNOWN: dict[str, frozenset[str]] = {
    "spec": frozenset(
        {
            "migration", "targetVersion", "database", "rollback", "dryRun", "allowDataLoss",
            "purge", "workloads", "maintenance", "backup", "healthChecks", "job", "onFailure",
            "scaleDownTimeoutSeconds",
        }
    ),
    "spec.database": frozenset({"urlSecretRef", "historyTable"}),
    "spec.rollback": frozenset({"sql", "configMapRef", "generateFrom", "migrationsFrom", "sha256"}),
    "spec.backup": frozenset({"mode", "persistentVolumeClaim", "maxAge"}),
    "spec.job": frozenset(
        {"image", "timeoutSeconds", "lockTimeout", "statementTimeout", "serviceAccountName",
         "retries"}
    ),
}  # fmt: skip


def unknown_keys(spec: Mapping[str, object]) -> tuple[str, ...]:
    """The path of every key at a checked level that the CRD does not define, sorted."""
    found: list[str] = []
    for path, known in KNOWN.items():
        level = _at(spec, path)
        found += [f"{path}.{key}" for key in level if key not in known]
    return tuple(sorted(found))


def _at(spec: Mapping[str, object], path: str) -> Mapping[str, object]:
    node: object = spec
    for part in path.split(".")[1:]:
        node = node.get(part) if isinstance(node, Mapping) else None
    return node if isinstance(node, Mapping) else {}


def suggestion(path: str) -> str:
    """The known key a typo most likely meant (the same letters, ignoring case and '-'/'_')."""
    parent, _, key = path.rpartition(".")
    folded = key.lower().replace("_", "").replace("-", "")
    for known in sorted(KNOWN.get(parent, ())):
        if known.lower() == folded:
            return f" (did you mean {known}?)"
    return ""
