"""Typed API objects: defaults defined once and equal to the CRD's; the Job-result contract the
runner writes and the operator reads; every exit code has a reason."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from migration_rollback.exitcodes import ExitCode
from migration_rollback.jobresult import SQL_STEP, JobResult
from migration_rollback.lifecycle import outcomes
from migration_rollback.lifecycle.model import ConfigMapMaintenance, HttpMaintenance, RollbackSpec
from migration_rollback.lifecycle.phases import Reason
from migration_rollback.lifecycle.status import RollbackStatus
from migration_rollback.runner.result import (
    BackupInfo,
    BlockingSessionInfo,
    ErrorInfo,
    ImpactEntry,
    Outcome,
    RunResult,
    StatementOutcome,
    StepTiming,
    compact,
)

CRD = (
    Path(__file__).resolve().parents[3] / "crds" / "rollback.migrations.dev_migrationrollbacks.yaml"
)

MINIMAL: dict[str, Any] = {
    "migration": "20251113000001_timeline_social_features",
    "database": {"urlSecretRef": {"name": "shop-db"}},
    "rollback": {"sql": "DROP TABLE public.x;"},
    "workloads": [{"name": "shop-web"}],
    "maintenance": {"http": {"url": "http://shop/admin"}},
    "healthChecks": [{"name": "api", "url": "http://shop/health"}],
}
MAINTENANCE_CM: dict[str, Any] = {"configMap": {"name": "flags", "key": "maintenance"}}


def crd_defaults(schema: dict[str, Any], path: str = "") -> Iterator[tuple[str, Any]]:
    """Every (dotted path, default) under a schema; `[]` marks an array's items."""
    for key, sub in (schema.get("properties") or {}).items():
        here = f"{path}.{key}" if path else key
        if "default" in sub and sub["default"] != {}:
            yield here, sub["default"]
        yield from crd_defaults(sub, here)
        if "items" in sub:
            yield from crd_defaults(sub["items"], f"{here}[]")


def spec_schema() -> dict[str, Any]:
    doc = yaml.safe_load(CRD.read_text())
    schema: dict[str, Any] = doc["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema["properties"]["spec"]  # type: ignore[no-any-return]


def http(spec: RollbackSpec) -> HttpMaintenance:
    assert spec.maintenance is not None
    assert spec.maintenance.http is not None
    return spec.maintenance.http


def config_map() -> ConfigMapMaintenance:
    spec = RollbackSpec.from_obj({**MINIMAL, "maintenance": MAINTENANCE_CM})
    assert spec.maintenance is not None
    assert spec.maintenance.config_map is not None
    return spec.maintenance.config_map


# Where each CRD default lands in the model (read from a spec that leaves it unset).
READERS: dict[str, Callable[[RollbackSpec], Any]] = {
    "database.urlSecretRef.key": lambda s: s.database.url_secret_ref.key,
    "database.historyTable": lambda s: s.database.history_table,
    "dryRun": lambda s: s.dry_run,
    "allowDataLoss": lambda s: s.allow_data_loss,
    "purge": lambda s: s.purge,
    "workloads[].kind": lambda s: s.workloads[0].kind,
    "workloads[].revision": lambda s: s.workloads[0].revision,
    "maintenance.http.method": lambda s: http(s).method,
    "maintenance.http.enableBody": lambda s: http(s).enable_body,
    "maintenance.http.disableBody": lambda s: http(s).disable_body,
    "maintenance.http.timeoutSeconds": lambda s: http(s).timeout_seconds,
    "maintenance.configMap.enabledValue": lambda s: config_map().enabled_value,
    "maintenance.configMap.disabledValue": lambda s: config_map().disabled_value,
    "backup.mode": lambda s: s.backup.mode,
    "backup.maxAge": lambda s: s.backup.max_age,
    "healthChecks[].expectStatus": lambda s: s.health_checks[0].expect_status,
    "healthChecks[].periodSeconds": lambda s: s.health_checks[0].period_seconds,
    "healthChecks[].timeoutSeconds": lambda s: s.health_checks[0].timeout_seconds,
    "healthChecks[].successThreshold": lambda s: s.health_checks[0].success_threshold,
    "healthChecks[].failureThreshold": lambda s: s.health_checks[0].failure_threshold,
    "job.timeoutSeconds": lambda s: s.job.timeout_seconds,
    "job.lockTimeout": lambda s: s.job.lock_timeout,
    "job.statementTimeout": lambda s: s.job.statement_timeout,
    "job.retries": lambda s: s.job.retries,
    "onFailure": lambda s: s.on_failure,
    "scaleDownTimeoutSeconds": lambda s: s.scale_down_timeout_seconds,
}


def test_every_crd_default_is_the_models_default() -> None:
    defaults = dict(crd_defaults(spec_schema()))
    assert sorted(defaults) == sorted(READERS), "a CRD default the model does not read (or v.v.)"
    spec = RollbackSpec.from_obj({"spec": MINIMAL})
    for path, default in defaults.items():
        assert READERS[path](spec) == default, path


def test_the_spec_reads_what_is_set_and_writes_it_back() -> None:
    raw = {
        **MINIMAL,
        "dryRun": True,
        "onFailure": "hold",
        "workloads": [{"kind": "StatefulSet", "selector": {"matchLabels": {"app": "w"}}}],
        "backup": {"mode": "none"},
        "job": {"timeoutSeconds": 60, "lockTimeout": "1s"},
    }
    spec = RollbackSpec.from_obj({"spec": raw})
    assert spec.dry_run
    assert not spec.restore_on_failure
    assert spec.workloads[0].match_labels == {"app": "w"}
    assert (spec.job.timeout_seconds, spec.job.lock_timeout) == (60, "1s")
    again = RollbackSpec.from_obj(spec.to_patch())
    assert again == spec


def test_a_target_version_spec_reads_and_patches_back() -> None:
    raw = {
        "targetVersion": "20251101000001",
        "database": {"urlSecretRef": {"name": "db"}},
        "rollback": {"migrationsFrom": {"configMapRef": {"name": "dir"}}},
        "workloads": [{"name": "w"}],
    }
    spec = RollbackSpec.from_obj({"spec": raw})
    assert (spec.target_version, spec.migration) == ("20251101000001", None)
    assert spec.rollback.migrations_from == "dir"
    patched = spec.to_patch()["spec"]
    assert patched["rollback"] == raw["rollback"]
    assert RollbackSpec.from_obj(spec.to_patch()) == spec


def test_the_status_reads_and_patches_back() -> None:
    raw = {
        "phase": "ScalingDown",
        "observedGeneration": 2,
        "originalReplicas": {"shop-web": 3},
        "maintenanceEnabled": True,
        "failure": {"reason": "SQLError", "message": "boom"},
        "steps": [{"name": "Validate", "state": "Done"}],
        "migrations": [{"version": "2", "name": "2_b", "sha256": "0" * 64, "state": "Pending"}],
    }
    status = RollbackStatus.from_obj({"metadata": {}, "status": raw})
    assert status.migrations[0]["state"] == "Pending"
    assert status.app_touched
    assert status.step_state("Validate") == "Done"
    assert status.failure is not None
    assert status.failure.reason == "SQLError"
    assert status.to_patch() == {"status": raw}
    empty = RollbackStatus.from_obj({"metadata": {}})
    assert (empty.phase, empty.app_touched, empty.database_changed) == ("Pending", False, None)


def test_every_exit_code_has_a_reason() -> None:
    assert set(outcomes.REASON_BY_EXIT) == set(ExitCode)
    for code in ExitCode:
        verdict = outcomes.judge(code is ExitCode.OK, {"exit_name": code.name}, "")
        assert verdict.reason is outcomes.REASON_BY_EXIT[code]
        assert verdict.retryable is (code.retryable and code is not ExitCode.OK)


def test_a_committed_run_is_never_retryable() -> None:
    verdict = outcomes.judge(False, {"exit_name": "CONNECTION_LOST", "committed": True}, "")
    assert not verdict.retryable
    assert verdict.database_changed is True


def runner_document(committed: bool = True) -> dict[str, Any]:
    start = datetime(2026, 11, 24, 3, 15, tzinfo=UTC)
    result = RunResult(
        tool_version="0.1.0",
        target="20251113000001_timeline",
        dry_run=False,
        database="postgresql://u:***@h/db",
        started_at=start,
        migrations=["20251113000001"],
        outcome=Outcome.SUCCEEDED if committed else Outcome.FAILED,
        committed=committed,
        exit_code=ExitCode.OK if committed else ExitCode.SQL_ERROR,
        finished_at=start + timedelta(seconds=2),
        steps=[StepTiming("backup", "ok", 900), StepTiming(SQL_STEP, "ok", 420)],
        backup=BackupInfo("pgDump", "/backups/x.dump", 1234, True),
        error=None if committed else ErrorInfo("RollbackSqlError", "boom", "22012", 2),
        blocking_sessions=[
            BlockingSessionInfo(41, "idle in transaction", 12.5, "app", "worker", ["public.t1"])
        ],
    )
    for n in range(1, 4):
        result.statements.append(
            StatementOutcome(n, "20251113000001", f"r.sql:{n}:1", "DropStmt", "execute",
                             f"DROP TABLE t{n}", "ACCESS EXCLUSIVE", status="done", rows=n)
        )  # fmt: skip
        result.impact.append(ImpactEntry(f"t{n}", "table", n, "drop", "ACCESS EXCLUSIVE", True))
    return compact(result.to_dict())


def test_the_operator_reads_what_the_runner_writes() -> None:
    read = JobResult.from_dict(runner_document())
    assert read.exit_code is ExitCode.OK
    assert read.committed
    assert (read.sql_seconds, read.statements, read.rows_affected) == (0.42, 3, 6)
    assert read.backup is not None
    assert read.backup.verified
    assert read.backup.size_bytes == 1234
    assert len(read.impact) == 3
    assert read.migrations == ("20251113000001",)
    (blocker,) = read.blocking_sessions
    assert blocker.to_status() == {
        "pid": 41,
        "state": "idle in transaction",
        "seconds": 12.5,
        "user": "app",
        "application": "worker",
        "relations": ["public.t1"],
    }
    assert blocker.describe() == "pid 41 (app worker) idle in transaction for 12.5s on public.t1"
    verdict = outcomes.judge(True, read, "")
    assert (verdict.succeeded, verdict.sql_seconds, verdict.statements) == (True, 0.42, 3)
    failed = outcomes.judge(False, JobResult.from_dict(runner_document(False)), "")
    assert failed.reason is Reason.SQL_ERROR
    assert "statement 2" in failed.message
    assert failed.database_changed is False


@pytest.mark.parametrize(
    ("doc", "code"),
    [
        ({"exit_code": 4}, ExitCode.LOCK_TIMEOUT),
        ({"exit_name": "NOT_A_CODE"}, ExitCode.INTERNAL_ERROR),
        ({"outcome": "succeeded"}, ExitCode.OK),
        ({"outcome": "failed"}, ExitCode.INTERNAL_ERROR),
    ],
)
def test_a_partial_document_still_reads(doc: dict[str, Any], code: ExitCode) -> None:
    assert JobResult.from_dict(doc).exit_code is code
