"""Verified rollbacks: replay migrations on a shadow PostgreSQL and prove each rollback.

Entry points for the CLI: `verify_project` (validate --verify), `generate_verified`
(generate --verify), `run_verification` (the same as verify_project, with statistics).
Building blocks: `take_snapshot` (the schema model), `diff_objects`/`render` (differences),
`stateful_rollback` (MANUAL steps filled from the schema before a migration).
"""

from migration_rollback.verify.api import (
    GeneratedRollback,
    VerifyRun,
    generate_verified,
    run_verification,
    verify_project,
)
from migration_rollback.verify.diff import Difference, diff_objects, render
from migration_rollback.verify.snapshot import ObjectId, Snapshot, SnapshotObject, take_snapshot
from migration_rollback.verify.stateful import StatefulResult, stateful_rollback
from migration_rollback.verify.verdict import MigrationPair, VerifyResult

__all__ = [
    "Difference",
    "GeneratedRollback",
    "MigrationPair",
    "ObjectId",
    "Snapshot",
    "SnapshotObject",
    "StatefulResult",
    "VerifyResult",
    "VerifyRun",
    "diff_objects",
    "generate_verified",
    "render",
    "run_verification",
    "stateful_rollback",
    "take_snapshot",
    "verify_project",
]
