"""The Job a `CreateJob` action means: everything the runner needs, from spec, status and the
operator's settings (pure; `kube.jobs.build_job` turns it into the manifest)."""

from __future__ import annotations

from typing import Any

from migration_rollback.kube import jobs, resources
from migration_rollback.lifecycle import policy
from migration_rollback.lifecycle.actions import CreateJob
from migration_rollback.lifecycle.model import RollbackSpec
from migration_rollback.lifecycle.status import RollbackStatus
from migration_rollback.settings import Settings


def job_request(
    obj: dict[str, Any],
    spec: RollbackSpec,
    status: RollbackStatus,
    settings: Settings,
    action: CreateJob,
) -> jobs.JobRequest:
    """The rollback Job dumps right before its transaction, once the app is down: the dump
    then holds every write, which one taken while the app still served would miss. Each retry
    doubles the lock timeout. The rollback Job is pinned to the database the rehearsal ran on
    (the Secret is read again when its pod starts)."""
    meta, job, db = obj["metadata"], spec.job, spec.database.url_secret_ref
    if not action.dry_run and not status.database_identity:  # lifecycle.jobrun refuses first
        raise ValueError(f"the rollback Job {action.name} would run unpinned: not created")
    return jobs.JobRequest(
        name=action.name,
        namespace=str(meta["namespace"]),
        owner=resources.owner_reference(obj),
        image=job.image or settings.image,
        migration=spec.migration or "",  # unused with target_version (execute --to)
        target_version=spec.target_version,
        sql_config_map=str(status.sql_config_map),
        sha256=str(status.sql_sha256),
        url_secret=db.name,
        url_key=db.key,
        history_table=spec.database.history_table,
        dry_run=action.dry_run,
        backup_mode=spec.backup.mode,
        backup_pvc=spec.backup.persistent_volume_claim,
        max_age=spec.backup.max_age,
        lock_timeout=policy.attempt_lock_timeout(job.lock_timeout, action.attempt),
        statement_timeout=job.statement_timeout,
        allow_data_loss=spec.allow_data_loss,
        allow_manual=bool(status.approved) and int(status.plan.get("manualItems", 0)) > 0,
        purge=spec.purge,
        timeout_seconds=job.timeout_seconds,
        actor=f"operator:{meta['namespace']}/{meta['name']}",
        service_account=job.service_account_name or settings.job_service_account,
        pod_overrides=settings.job_pod_overrides,
        purpose=action.purpose,
        expect_database=None if action.dry_run else status.database_identity,
    )
