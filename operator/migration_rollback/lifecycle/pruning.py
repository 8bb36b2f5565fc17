"""Status fields a CRD older than the operator does not keep (pure): which, and what to say.

The API server prunes from a status patch the fields its installed schema lacks, and answers
with what it stored. Each status field the flow writes is read back by a decision: the error
budget's count (`errorRetries`: pruned, every error is the first and ScalingUp, Verifying and
Restoring retry forever), the Job's record (`jobName`: pruned, its fate reads "never created"
while it may commit), the database's state (`databaseChanged`: pruned, a failure after the
commit restores the app), the replicas to restore, maintenance mode, the Lease, a stopped
Job's watch, a retry's attempt... So the operator's copy keeps what it sent (it decides on
what it did) and says, once per field, that the CRD is outdated and how to fix it: a
restarted operator finds only what the API server kept. `databaseIdentity` alone leaves the
copy: the flow ends on its absence before the downtime (phase_window._pin_kept).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# Where the operator's own CRD is (the chart installs it from there too).
CRD_FILE = "crds/rollback.migrations.dev_migrationrollbacks.yaml"
EVENT_REASON = "StatusFieldsNotKept"
# Judged absent by the flow itself, which ends before anything is touched.
JUDGED_ABSENT = frozenset({"databaseIdentity"})


def pruned_fields(sent: Mapping[str, Any], stored: Mapping[str, Any]) -> list[str]:
    """The fields sent with a value that the API server did not store, and the keys of a
    sent object it stored without (`jobStopped.watch`), sorted."""
    out: list[str] = []
    for key, value in sent.items():
        if value is None:
            continue
        if key not in stored:
            out.append(key)
        elif isinstance(value, Mapping) and isinstance(stored[key], Mapping):
            out.extend(f"{key}.{k}" for k in value if value[k] is not None and k not in stored[key])
    return sorted(out)


def outdated_crd(fields: Iterable[str]) -> str:
    """What the Warning Event and the log say: which fields, why, the fix, the consequence."""
    listed = ", ".join(f"status.{f}" for f in sorted(fields))
    return (
        f"the API server did not keep {listed}: the MigrationRollback CRD installed is older "
        f"than the operator (was the chart installed with CRDs skipped?). Upgrade it: "
        f"kubectl apply -f {CRD_FILE}. Until then this operator keeps them in memory only: "
        "a restarted operator does not find them"
    )


def in_memory_note(field: str) -> str:
    """Appended to a message whose decision read a field kept only in memory."""
    return f" (status.{field} is kept in the operator's memory only: {outdated_crd([field])})"
