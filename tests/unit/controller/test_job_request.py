"""The Job a `CreateJob` action means (controller.jobrequest, pure): with spec.targetVersion
the runner gets `--to` over the whole set in the ConfigMap, pinned by the set's digest; each
retry doubles the lock timeout; and every Job the operator builds ends with its one pod (the
pod watch may judge it from that pod)."""

from __future__ import annotations

from typing import Any

import pytest

from migration_rollback.controller.jobrequest import job_request
from migration_rollback.kube import jobs
from migration_rollback.lifecycle.actions import CreateJob
from migration_rollback.lifecycle.model import RollbackSpec
from migration_rollback.lifecycle.status import RollbackStatus
from migration_rollback.settings import Settings

SET_SHA = "b" * 64


def resource(**spec: Any) -> dict[str, Any]:
    base = {
        "database": {"urlSecretRef": {"name": "db", "key": "url"}},
        "workloads": [{"name": "web"}],
        "backup": {"mode": "none"},
    }
    return {
        "metadata": {"namespace": "shop", "name": "undo", "uid": "u-1"},
        "spec": {**base, **spec},
        "status": {
            "sqlSha256": SET_SHA,
            "sqlConfigMap": "undo-sql-bbbbbbbb",
            "databaseIdentity": "1/app(oid 5)@00",
        },
    }


TO_TARGET = resource(
    targetVersion="20250101000001",
    rollback={"migrationsFrom": {"configMapRef": {"name": "dir"}}},
)


def request(obj: dict[str, Any], attempt: int = 1, dry_run: bool = False) -> jobs.JobRequest:
    action = CreateJob("undo-rollback-bbbbbbbb", "rollback", attempt, dry_run)
    spec, status = RollbackSpec.from_obj(obj), RollbackStatus.from_obj(obj)
    return job_request(obj, spec, status, Settings(image="img:1"), action)


def args_after(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


def test_target_version_runs_the_whole_set_pinned_by_its_digest() -> None:
    req = request(TO_TARGET)
    assert (req.target_version, req.migration, req.sha256) == ("20250101000001", "", SET_SHA)
    args = jobs.job_args(req)
    assert args_after(args, "--to") == "20250101000001"
    assert args_after(args, "--dir") == jobs.SQL_MOUNT
    assert args_after(args, "--expect-set-sha256") == SET_SHA
    assert "--rollback-file" not in args
    assert "--expect-sha256" not in args


def test_target_version_mounts_every_file_of_the_set() -> None:
    job = jobs.build_job(request(TO_TARGET))
    volumes = {v["name"]: v for v in job["spec"]["template"]["spec"]["volumes"]}
    assert volumes["sql"]["configMap"] == {"name": "undo-sql-bbbbbbbb"}


def test_one_migration_mounts_only_its_rollback_file() -> None:
    obj = resource(migration="20250101000001_x", rollback={"sql": "SELECT 1;"})
    req = request(obj)
    assert (req.target_version, req.migration) == (None, "20250101000001_x")
    volumes = {v["name"]: v for v in jobs.build_job(req)["spec"]["template"]["spec"]["volumes"]}
    assert volumes["sql"]["configMap"]["items"] == [{"key": jobs.SQL_FILE, "path": jobs.SQL_FILE}]
    assert args_after(jobs.job_args(req), "--expect-sha256") == SET_SHA


def test_each_retry_doubles_the_lock_timeout() -> None:
    timeouts = [request(TO_TARGET, attempt=n).lock_timeout for n in (1, 2, 3)]
    assert timeouts == ["500ms", "1000ms", "2000ms"]


def test_a_rehearsal_of_the_set_is_a_dry_run() -> None:
    assert "--dry-run" in jobs.job_args(request(TO_TARGET, dry_run=True))
    assert "--dry-run" not in jobs.job_args(request(TO_TARGET))


def test_every_job_the_operator_builds_ends_with_its_one_pod() -> None:
    assert jobs.single_pod(jobs.build_job(request(TO_TARGET)))
    assert jobs.single_pod(jobs.build_job(request(TO_TARGET, attempt=2, dry_run=True)))


def test_the_rollback_job_is_pinned_to_the_rehearsed_database_and_the_rehearsal_is_not() -> None:
    identity = "7714676338064080190/app(oid 16384)@0123456789abcdef"
    obj = {**TO_TARGET, "status": {**TO_TARGET["status"], "databaseIdentity": identity}}
    assert args_after(jobs.job_args(request(obj)), "--expect-database") == identity
    assert "--expect-database" not in jobs.job_args(request(obj, dry_run=True))


def test_no_rollback_job_is_built_unpinned() -> None:
    """The decision refuses first (lifecycle.jobrun.unpinned); this is the last guard."""
    obj = {**TO_TARGET, "status": {**TO_TARGET["status"], "databaseIdentity": None}}
    with pytest.raises(ValueError, match="unpinned"):
        request(obj)
    assert "--expect-database" not in jobs.job_args(request(obj, dry_run=True))
