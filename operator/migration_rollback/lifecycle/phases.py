"""Phases, condition types and reasons of a MigrationRollback: the one source of these names.

The CRD's enum for `status.phase`, the printer columns, the Argo CD health check and the
metrics all use these values; a test keeps the CRD in `crds/` equal to them.
"""

from __future__ import annotations

import enum


class Phase(enum.StrEnum):
    PENDING = "Pending"
    VALIDATING = "Validating"
    AWAITING_APPROVAL = "AwaitingApproval"
    PREPARING = "Preparing"
    SCALING_DOWN = "ScalingDown"
    ROLLING_BACK = "RollingBack"
    SCALING_UP = "ScalingUp"
    VERIFYING = "Verifying"
    RESTORING = "Restoring"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"

    @property
    def terminal(self) -> bool:
        return self in (Phase.SUCCEEDED, Phase.FAILED)

    @property
    def app_down(self) -> bool:
        """Phases in which the workloads may be held at zero replicas."""
        return self in (Phase.SCALING_DOWN, Phase.ROLLING_BACK, Phase.SCALING_UP, Phase.RESTORING)


class ConditionType(enum.StrEnum):
    READY = "Ready"
    RECONCILING = "Reconciling"
    STALLED = "Stalled"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    APPROVED = "Approved"


class Reason(enum.StrEnum):
    """Why a condition has its status. A failure is final (the resource is a one-shot action):
    after a lock timeout or a lost connection the app is restored, the database is unchanged,
    and a new resource is how to try again."""

    # progress
    VALIDATING = "Validating"
    PREPARING = "Preparing"
    SCALING_DOWN = "ScalingDown"
    ROLLING_BACK = "RollingBack"
    SCALING_UP = "ScalingUp"
    VERIFYING = "Verifying"
    RESTORING = "RestoringApplication"
    WAITING_FOR_DATABASE = "WaitingForDatabase"
    DRY_RUN_SUCCEEDED = "DryRunSucceeded"
    # approval
    AWAITING_APPROVAL = "AwaitingApproval"
    APPROVED = "Approved"
    NOT_NEEDED = "NotNeeded"
    # outcomes
    SUCCEEDED = "RollbackSucceeded"
    INVALID_SPEC = "InvalidSpec"
    UNKNOWN_TARGET_VERSION = "UnknownTargetVersion"
    NOTHING_TO_ROLL_BACK = "NothingToRollBack"
    ROLLBACK_MISSING = "RollbackMissing"
    SOURCE_NOT_FOUND = "SourceNotFound"
    SHA256_MISMATCH = "Sha256Mismatch"
    INVALID_SQL = "InvalidRollbackSQL"
    DATA_LOSS_NOT_ALLOWED = "DataLossNotAllowed"
    JOB_FAILED = "JobFailed"
    JOB_NOT_STARTED = "JobNotStarted"
    JOB_POD_NOT_GONE = "JobPodNotGone"
    PRECONDITION_FAILED = "PreconditionFailed"
    LOCK_TIMEOUT = "LockTimeout"
    TRANSACTION_CONFLICT = "TransactionConflict"
    SQL_ERROR = "SQLError"
    BACKUP_FAILED = "BackupFailed"
    CONNECTION_FAILED = "ConnectionFailed"
    INVALID_DATABASE_URL = "InvalidDatabaseURL"
    WORKLOAD_NOT_FOUND = "WorkloadNotFound"
    SCALE_TIMEOUT = "ScaleTimeout"
    HEALTH_CHECK_FAILED = "HealthCheckFailed"
    MAINTENANCE_FAILED = "MaintenanceFailed"
    DELETED = "Deleted"
    HELD_FOR_HUMAN = "HeldForHuman"
    TRANSIENT_ERROR = "TransientError"
    # An error no retry seems to fix, met from RollingBack on (lifecycle.errorbudget): tried
    # again, saying so; in RollingBack, while the Job may still commit, a human is needed.
    RETRYING_AFTER_ERROR = "RetryingAfterError"
    ERROR_WAITING_FOR_JOB = "ErrorWaitingForJobNeedsHuman"
    UNEXPECTED_ERROR = "UnexpectedError"


class StepName(enum.StrEnum):
    """The steps recorded in `status.steps`, in flow order."""

    VALIDATE = "Validate"
    APPROVE = "Approve"
    DRY_RUN = "DryRun"
    RECORD_REPLICAS = "RecordReplicas"
    MAINTENANCE_ON = "MaintenanceOn"
    SCALE_DOWN = "ScaleDown"
    ROLLBACK = "Rollback"
    SCALE_UP = "ScaleUp"
    HEALTH_CHECK = "HealthCheck"
    MAINTENANCE_OFF = "MaintenanceOff"
    RESTORE = "Restore"


class StepState(enum.StrEnum):
    RUNNING = "Running"
    DONE = "Done"
    FAILED = "Failed"
    SKIPPED = "Skipped"
