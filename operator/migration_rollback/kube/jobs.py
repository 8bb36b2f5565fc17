"""The rollback Job: its manifest (pure), and creating and reading it (I/O).

The Job runs the same image and the same `migration-rollback execute` as a person would, with
the database URL from the Secret as an environment variable (never an argument), no retries
(backoffLimit 0: a failed rollback needs a decision, not a loop), a deadline, an owner
reference, a restricted security context, and its JSON result as the termination message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from migration_rollback.kube.client import Clients, is_conflict, is_not_found
from migration_rollback.lifecycle.podstart import RUNNER_CONTAINER, Blocked
from migration_rollback.url_env import DATABASE_URL_ENV as URL_ENV

SQL_MOUNT = "/rollback"
SQL_FILE = "rollback.sql"
BACKUP_MOUNT = "/backups"
RESULT_FILE = "/dev/termination-log"
LABEL_MANAGED = "app.kubernetes.io/managed-by"
LABEL_RESOURCE = "rollback.migrations.dev/resource"
LABEL_PURPOSE = "rollback.migrations.dev/purpose"
MANAGED_BY = "migration-rollback"


@dataclass(frozen=True)
class JobRequest:
    """Everything the Job needs; built from the resource by the controller."""

    name: str
    namespace: str
    owner: dict[str, Any]
    image: str
    migration: str
    sql_config_map: str
    sha256: str
    url_secret: str
    url_key: str
    history_table: str
    dry_run: bool
    backup_mode: str  # pgDump | requireRecent | none
    backup_pvc: str | None
    max_age: str
    lock_timeout: str
    statement_timeout: str
    allow_data_loss: bool
    allow_manual: bool
    purge: bool
    timeout_seconds: int
    actor: str
    service_account: str | None = None
    pod_overrides: dict[str, Any] = field(default_factory=dict)
    purpose: str = "rollback"
    # spec.targetVersion: `--to` over the set's files in the ConfigMap, pinned by the set's digest
    # (`sha256`); `migration` is then unused.
    target_version: str | None = None
    # The rehearsal's runner.identity: the real run refuses any other database.
    expect_database: str | None = None


_BACKUP_FLAG = {"pgDump": "pg-dump", "requireRecent": "require-recent", "none": "none"}


def job_args(req: JobRequest) -> list[str]:
    what = (
        ["--to", req.target_version, "--dir", SQL_MOUNT, "--expect-set-sha256", req.sha256]
        if req.target_version is not None
        else [req.migration, "--rollback-file", f"{SQL_MOUNT}/{SQL_FILE}",
              "--expect-sha256", req.sha256]
    )  # fmt: skip
    args = [
        "execute",
        *what,
        "--history-table", req.history_table,
        "--lock-timeout", req.lock_timeout,
        "--statement-timeout", req.statement_timeout,
        "--result-file", RESULT_FILE,
        "--backup", _BACKUP_FLAG[req.backup_mode],
    ]  # fmt: skip
    if req.backup_mode != "none":
        args += ["--backup-dir", BACKUP_MOUNT]
    if req.backup_mode == "requireRecent":
        args += ["--max-age", req.max_age]
    if req.dry_run:
        args.append("--dry-run")
    if req.expect_database is not None:
        args += ["--expect-database", req.expect_database]
    if req.allow_data_loss:
        args.append("--allow-data-loss")
    if req.allow_manual:
        args.append("--allow-manual")
    if req.purge:
        args.append("--purge")
    return args


def build_job(req: JobRequest) -> dict[str, Any]:
    backups: dict[str, Any] = (
        {"persistentVolumeClaim": {"claimName": req.backup_pvc}}
        if req.backup_pvc
        else {"emptyDir": {}}
    )
    container = {
        "name": RUNNER_CONTAINER,
        "image": req.image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["migration-rollback"],
        "args": job_args(req),
        "env": [
            {
                "name": URL_ENV,
                "valueFrom": {"secretKeyRef": {"name": req.url_secret, "key": req.url_key}},
            },
            {"name": "MIGRATION_ROLLBACK_ACTOR", "value": req.actor},
            {"name": "HOME", "value": "/tmp"},  # noqa: S108 (an emptyDir, private to the pod)
        ],
        "terminationMessagePath": RESULT_FILE,
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "volumeMounts": [
            {"name": "sql", "mountPath": SQL_MOUNT, "readOnly": True},
            {"name": "backups", "mountPath": BACKUP_MOUNT},
            {"name": "tmp", "mountPath": "/tmp"},  # noqa: S108
        ],
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "resources": {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"memory": "512Mi"},
        },
    }
    labels = {
        LABEL_MANAGED: MANAGED_BY,
        LABEL_RESOURCE: req.owner["name"],
        LABEL_PURPOSE: req.purpose,
    }
    pod_spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "runAsGroup": 10001,
            "fsGroup": 10001,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container],
        "volumes": [
            {"name": "sql", "configMap": _sql_volume(req)},
            {"name": "backups", **backups},
            {"name": "tmp", "emptyDir": {}},
        ],
        **req.pod_overrides,
    }
    if req.service_account:
        pod_spec["serviceAccountName"] = req.service_account
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": req.name,
            "namespace": req.namespace,
            "labels": labels,
            "ownerReferences": [{**req.owner, "controller": True, "blockOwnerDeletion": True}],
        },
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": req.timeout_seconds,
            "template": {"metadata": {"labels": labels}, "spec": pod_spec},
        },
    }


def _sql_volume(req: JobRequest) -> dict[str, Any]:
    """One file, or with `--to` every file of the set (the ConfigMap holds nothing else)."""
    if req.target_version is not None:
        return {"name": req.sql_config_map}
    return {"name": req.sql_config_map, "items": [{"key": SQL_FILE, "path": SQL_FILE}]}


def sql_config_map(
    name: str, namespace: str, owner: dict[str, Any], sql_text: str | dict[str, str]
) -> dict[str, Any]:
    """The exact SQL the Job runs, frozen in a ConfigMap the resource owns: one rollback, or
    (spec.targetVersion) file name -> SQL for each of the set."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {LABEL_MANAGED: MANAGED_BY, LABEL_RESOURCE: owner["name"]},
            "ownerReferences": [{**owner, "controller": True, "blockOwnerDeletion": True}],
        },
        "immutable": True,
        "data": sql_text if isinstance(sql_text, dict) else {SQL_FILE: sql_text},
    }


# --- I/O -----------------------------------------------------------------------------------


def ensure_config_map(clients: Clients, manifest: dict[str, Any]) -> None:
    try:
        clients.core.create_namespaced_config_map(manifest["metadata"]["namespace"], manifest)
    except Exception as exc:
        if not is_conflict(exc):
            raise


def ensure_job(clients: Clients, manifest: dict[str, Any]) -> Any:
    """Create the Job unless it exists: a restarted operator must never run it twice.
    Returns the created Job as the client's object (`as_json` reads it); None when it
    existed. Only the create is in here: an error raised here created nothing."""
    try:
        return clients.batch.create_namespaced_job(manifest["metadata"]["namespace"], manifest)
    except Exception as exc:
        if not is_conflict(exc):
            raise
        return None


def as_json(clients: Clients, obj: Any) -> dict[str, Any]:
    """A client object as API JSON (as a watch event carries it)."""
    return dict(clients.api.sanitize_for_serialization(obj))


def read_job(clients: Clients, namespace: str, name: str) -> dict[str, Any] | None:
    """The Job as API JSON (as a watch event carries it); None when there is none."""
    try:
        job = clients.batch.read_namespaced_job(name, namespace)
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise
    return dict(clients.api.sanitize_for_serialization(job))


def create_refusal(
    clients: Clients, namespace: str, job: str, uid: str
) -> tuple[str, str | None] | None:
    """Why the Job controller could not create the pod of `job` (this one: `uid`, not an
    earlier Job of the same name), from its FailedCreate Events (an admission policy or
    webhook, PodSecurity, a quota): the latest message, and when it was first said. None: no
    such Event (or they may not be read: the operator then waits for the Job's deadline)."""
    selector = (
        f"involvedObject.kind=Job,involvedObject.name={job},involvedObject.uid={uid},"
        f"reason={Blocked.CREATE_REFUSED}"
    )
    events = _events(clients, namespace, selector)
    if not events:
        return None
    latest = max(events, key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or ""))
    first = min(str(e.get("firstTimestamp") or e.get("eventTime") or "") for e in events)
    return str(latest.get("message") or ""), first or None


def _events(clients: Clients, namespace: str, selector: str) -> list[dict[str, Any]]:
    """The Events `selector` picks, as plain data (none when they may not be read)."""
    try:
        found = clients.core.list_namespaced_event(namespace, field_selector=selector).items
    except Exception as exc:
        if getattr(exc, "status", None) in (403, 404):
            return []
        raise
    return [clients.api.sanitize_for_serialization(e) for e in found]


@dataclass(frozen=True)
class Completion:
    """A Job's end as its conditions say: finished, succeeded, why it failed, and when."""

    finished: bool
    succeeded: bool
    reason: str
    finished_at: str | None


def completion(job: dict[str, Any]) -> Completion:
    conditions = {c.get("type"): c for c in (job.get("status") or {}).get("conditions") or []}
    done = {t: c for t, c in conditions.items() if t in ("Complete", "Failed")}
    ended = {t: c for t, c in done.items() if c.get("status") == "True"}
    if not ended:
        return Completion(False, False, "", None)
    kind, condition = next(iter(ended.items()))
    reason = str(condition.get("reason") or "") if kind == "Failed" else ""
    return Completion(True, kind == "Complete", reason, condition.get("lastTransitionTime"))


def pod_selector(job: str) -> str:
    """The label the Job controller puts on the Job's pods."""
    return f"batch.kubernetes.io/job-name={job}"


def single_pod(job: dict[str, Any]) -> bool:
    """The Job runs one pod and starts no other: its pod's end is the Job's end."""
    spec = job.get("spec") or {}
    template = (spec.get("template") or {}).get("spec") or {}
    return (
        spec.get("backoffLimit") == 0
        and spec.get("completions") in (None, 1)
        and spec.get("parallelism") in (None, 1)
        and not spec.get("podFailurePolicy")
        and not spec.get("backoffLimitPerIndex")
        and template.get("restartPolicy") == "Never"
    )


def termination(clients: Clients, namespace: str, job: str) -> tuple[dict[str, Any] | None, str]:
    """A finished Job's result (its pod's termination message, parsed) and the raw message."""
    _, message = _terminated_container(clients, namespace, job)
    return parse_result(message), message


def _terminated_container(clients: Clients, namespace: str, job: str) -> tuple[int | None, str]:
    pods = clients.core.list_namespaced_pod(namespace, label_selector=pod_selector(job)).items
    for pod in pods:
        for cs in (pod.status.container_statuses or []) if pod.status else []:
            term = cs.state.terminated if cs.state else None
            if term is not None:
                return int(term.exit_code), str(term.message or "")
    return None, ""


def parse_result(message: str) -> dict[str, Any] | None:
    try:
        value = json.loads(message)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def delete_job(clients: Clients, namespace: str, name: str, foreground: bool = False) -> None:
    policy = "Foreground" if foreground else "Background"
    try:
        clients.batch.delete_namespaced_job(name, namespace, propagation_policy=policy)
    except Exception as exc:
        if not is_not_found(exc):
            raise
