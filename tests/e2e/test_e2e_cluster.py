"""The local control plane itself: real controllers, kwok nodes, the job executor, CRD schemas."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from tests.cluster import (
    JOB_EXECUTOR_NODE,
    JOB_NODE_SELECTOR,
    JOB_TOLERATIONS,
    KWOK_NODE_PREFIX,
    ControlPlane,
)
from tests.cluster.controlplane import DEFAULT_CRD_DIRS
from tests.cluster.procs import pid_alive

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

pytestmark = pytest.mark.e2e

TESTDATA = Path(__file__).resolve().parents[1] / "cluster" / "testdata"
T = TypeVar("T")


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 60.0) -> T:
    """Polls ``probe`` until it returns something truthy, which is returned."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.2)


def job(
    name: str,
    command: list[str],
    *,
    env: list[dict[str, Any]] | None = None,
    env_from: list[dict[str, Any]] | None = None,
    termination_message_policy: str | None = None,
    service_account: str | None = None,
) -> dict[str, Any]:
    """A Job whose single pod the job executor runs (nodeSelector and toleration set)."""
    container: dict[str, Any] = {"name": "main", "image": "unused.invalid/none", "command": command}
    if env:
        container["env"] = env
    if env_from:
        container["envFrom"] = env_from
    if termination_message_policy:
        container["terminationMessagePolicy"] = termination_message_policy
    pod_spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "nodeSelector": JOB_NODE_SELECTOR,
        "tolerations": JOB_TOLERATIONS,
        "containers": [container],
    }
    if service_account:
        pod_spec["serviceAccountName"] = service_account
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {"backoffLimit": 0, "template": {"spec": pod_spec}},
    }


def run_job(k8s: ApiClient, namespace: str, body: dict[str, Any]) -> tuple[str, client.V1Pod]:
    """Creates the Job, waits until it is Complete or Failed; returns that and its pod."""
    client.BatchV1Api(k8s).create_namespaced_job(namespace, body=body)
    return wait_job(k8s, namespace, body["metadata"]["name"])


def wait_job(k8s: ApiClient, namespace: str, name: str) -> tuple[str, client.V1Pod]:
    """Waits until the Job is Complete or Failed; returns that and its pod."""
    batch = client.BatchV1Api(k8s)

    def finished() -> str | None:
        status = batch.read_namespaced_job_status(name, namespace).status
        for condition in (status.conditions if status else None) or []:
            if condition.type in ("Complete", "Failed") and condition.status == "True":
                return str(condition.type)
        return None

    outcome = wait_for(f"job {name} to finish", finished)
    pods = client.CoreV1Api(k8s).list_namespaced_pod(
        namespace, label_selector=f"batch.kubernetes.io/job-name={name}"
    )
    assert len(pods.items) == 1, [p.metadata.name for p in pods.items]
    return outcome, pods.items[0]


def terminated(pod: client.V1Pod) -> client.V1ContainerStateTerminated:
    statuses = pod.status.container_statuses
    assert statuses, pod.status
    state = statuses[0].state.terminated
    assert state is not None, statuses[0].state
    return state


def running_pid(core: client.CoreV1Api, namespace: str, job_name: str) -> int | None:
    """The pid of the running process of a Job's pod (its container ID is executor://PID)."""
    pods = core.list_namespaced_pod(
        namespace, label_selector=f"batch.kubernetes.io/job-name={job_name}"
    ).items
    if not pods or pods[0].status.phase != "Running":
        return None
    container_id = pods[0].status.container_statuses[0].container_id
    return int(container_id.removeprefix("executor://"))


def test_deployment_gets_ready_pods_on_kwok_nodes_and_scales_to_zero(
    k8s: ApiClient, namespace: str
) -> None:
    apps, core = client.AppsV1Api(k8s), client.CoreV1Api(k8s)
    labels = {"app": "web"}
    apps.create_namespaced_deployment(
        namespace,
        body={
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "web", "image": "unused.invalid/web:1"}]},
                },
            },
        },
    )
    wait_for(
        "3 ready replicas",
        lambda: (
            (apps.read_namespaced_deployment_status("web", namespace).status.ready_replicas or 0)
            == 3
        ),
    )
    pods = core.list_namespaced_pod(namespace, label_selector="app=web").items
    assert len(pods) == 3
    for pod in pods:
        assert pod.spec.node_name.startswith(KWOK_NODE_PREFIX), pod.spec.node_name
        assert pod.status.phase == "Running"
        ready = {c.type: c.status for c in pod.status.conditions or []}.get("Ready")
        assert ready == "True", pod.status.conditions

    apps.patch_namespaced_deployment_scale("web", namespace, body={"spec": {"replicas": 0}})
    wait_for(
        "the pods to go away",
        lambda: not core.list_namespaced_pod(namespace, label_selector="app=web").items,
    )

    def scaled_down() -> bool:
        status = apps.read_namespaced_deployment_status("web", namespace).status
        return not status.replicas and not status.ready_replicas

    wait_for("the Deployment's status to show 0 replicas", scaled_down)


def test_kwok_plays_pod_stages_with_the_configured_workers(control_plane: ControlPlane) -> None:
    """The configuration kwok runs with (it started: its nodes are Ready) sets the pod workers
    and keeps kwok's own default for every other option (a KwokConfiguration in the file
    replaces kwok's defaults, so a missing one would be 0 and fail, or change behaviour)."""
    docs = (control_plane.state_dir / "kwok.yaml").read_text().split("\n---\n")
    options = json.loads(docs[0])["options"]
    assert options["podPlayStageParallelism"] == control_plane.kwok_pod_parallelism
    defaults = {"nodePlayStageParallelism": 4, "nodeLeaseParallelism": 4}
    assert {k: options[k] for k in defaults} == defaults
    assert [d for d in docs[1:] if "kind: Stage" not in d] == []


def test_controller_manager_runs_with_the_cluster_limits(control_plane: ControlPlane) -> None:
    """The configuration the controller manager reports it runs with (/configz) carries the
    cluster's limits (tests/cluster/limits.py): the flags reach it (with
    MIGRATION_ROLLBACK_CLUSTER_LIMITS=production this fails if they do not; the default,
    upstream, is the binary's own); and it serves the client-go metrics the operator bench
    reads its client-side throttling from."""
    config = json.loads(control_plane.component_page("/configz"))
    running = config["kubecontrollermanager.config.k8s.io"]
    limits = control_plane.limits
    client_connection = running["Generic"]["ClientConnection"]
    assert (client_connection["qps"], client_connection["burst"]) == (
        limits.kube_api_qps,
        limits.kube_api_burst,
    )
    assert running["DeploymentController"]["ConcurrentDeploymentSyncs"] == (
        limits.concurrent_deployment_syncs
    )
    assert running["ReplicaSetController"]["ConcurrentRSSyncs"] == (
        limits.concurrent_replicaset_syncs
    )
    assert running["JobController"]["ConcurrentJobSyncs"] == limits.concurrent_job_syncs
    metrics = control_plane.component_page("/metrics")
    assert "rest_client_rate_limiter_duration_seconds_count" in metrics
    assert 'workqueue_queue_duration_seconds_count{name="replicaset"}' in metrics


def test_job_running_the_cli_completes_through_the_executor(
    control_plane: ControlPlane, k8s: ApiClient, namespace: str
) -> None:
    outcome, pod = run_job(k8s, namespace, job("version", ["migration-rollback", "--version"]))
    log = control_plane.pod_log(namespace, pod.metadata.name)
    assert outcome == "Complete", log
    assert pod.spec.node_name == JOB_EXECUTOR_NODE
    assert pod.status.phase == "Succeeded"
    state = terminated(pod)
    assert state.exit_code == 0
    assert state.reason == "Completed"
    assert re.search(r"\d+\.\d+", log), log


def test_job_whose_command_exits_3_fails_with_that_exit_code(
    k8s: ApiClient, namespace: str
) -> None:
    outcome, pod = run_job(
        k8s, namespace, job("exit3", ["python3", "-c", "import sys; sys.exit(3)"])
    )
    assert outcome == "Failed"
    assert pod.status.phase == "Failed"
    state = terminated(pod)
    assert state.exit_code == 3
    assert state.reason == "Error"
    job_status = client.BatchV1Api(k8s).read_namespaced_job_status("exit3", namespace).status
    assert job_status.failed == 1
    assert not job_status.succeeded


@pytest.mark.parametrize(
    "script",
    [
        # The literal path in the command is rewritten to the pod's own file.
        "echo 'rolled back 3 statements' > /dev/termination-log; exit 1",
        # Programs can also use the variable the executor exports.
        'echo "rolled back 3 statements" > "$TERMINATION_MESSAGE_PATH"; exit 1',
    ],
    ids=["literal-path", "env-variable"],
)
def test_termination_message_reaches_the_pod_status(
    k8s: ApiClient, namespace: str, script: str
) -> None:
    outcome, pod = run_job(k8s, namespace, job("message", ["sh", "-c", script]))
    assert outcome == "Failed"
    state = terminated(pod)
    assert state.exit_code == 1
    assert state.message == "rolled back 3 statements\n"


def test_fallback_to_logs_on_error_uses_the_output_tail(k8s: ApiClient, namespace: str) -> None:
    script = "for i in $(seq 1 100); do echo line $i; done; echo 'fatal: lock timeout' >&2; exit 4"
    body = job("fallback", ["sh", "-c", script], termination_message_policy="FallbackToLogsOnError")
    outcome, pod = run_job(k8s, namespace, body)
    assert outcome == "Failed"
    state = terminated(pod)
    assert state.exit_code == 4
    lines = state.message.splitlines()
    assert lines[-1] == "fatal: lock timeout"
    assert len(lines) == 80  # the kubelet keeps the last 80 lines
    assert lines[0] == "line 22"


def test_environment_comes_from_secrets_and_configmaps(k8s: ApiClient, namespace: str) -> None:
    core = client.CoreV1Api(k8s)
    core.create_namespaced_secret(
        namespace,
        body={
            "metadata": {"name": "db"},
            "stringData": {"DATABASE_URL": "postgresql://u:p@127.0.0.1/db", "password": "s3cr3t"},
        },
    )
    core.create_namespaced_config_map(
        namespace, body={"metadata": {"name": "settings"}, "data": {"mode": "dry-run", "A": "1"}}
    )
    env = [
        {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
        {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "mode"}}},
        {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "GREETING", "value": "mode=$(MODE)"},
        {
            "name": "MISSING",
            "valueFrom": {"secretKeyRef": {"name": "nope", "key": "x", "optional": True}},
        },
    ]
    env_from = [
        {"secretRef": {"name": "db"}},
        {"configMapRef": {"name": "settings"}, "prefix": "CM_"},
    ]
    names = ["DATABASE_URL", "PASSWORD", "MODE", "CM_A", "CM_mode", "GREETING", "POD", "MISSING"]
    script = (
        "import json, os; "
        f"env = {{k: os.environ.get(k) for k in {names!r}}}; "
        "open(os.environ['TERMINATION_MESSAGE_PATH'], 'w').write(json.dumps(env))"
    )
    body = job("env", ["python3", "-c", script], env=env, env_from=env_from)
    outcome, pod = run_job(k8s, namespace, body)
    assert outcome == "Complete"
    assert json.loads(terminated(pod).message) == {
        "DATABASE_URL": "postgresql://u:p@127.0.0.1/db",
        "PASSWORD": "s3cr3t",
        "MODE": "dry-run",
        "CM_A": "1",
        "CM_mode": "dry-run",
        "GREETING": "mode=dry-run",
        "POD": pod.metadata.name,
        "MISSING": None,
    }


def test_pod_service_account_token_is_subject_to_rbac(k8s: ApiClient, namespace: str) -> None:
    core, rbac = client.CoreV1Api(k8s), client.RbacAuthorizationV1Api(k8s)
    core.create_namespaced_service_account(namespace, body={"metadata": {"name": "runner"}})
    rbac.create_namespaced_role(
        namespace,
        body={
            "metadata": {"name": "read-configmaps"},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]}],
        },
    )
    rbac.create_namespaced_role_binding(
        namespace,
        body={
            "metadata": {"name": "runner"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": "read-configmaps",
            },
            "subjects": [{"kind": "ServiceAccount", "name": "runner", "namespace": namespace}],
        },
    )
    script = f"""
import os
from kubernetes import client, config
config.load_kube_config()  # $KUBECONFIG, written by the job executor
core = client.CoreV1Api()
result = []
for kind, call in (("configmaps", core.list_namespaced_config_map),
                   ("secrets", core.list_namespaced_secret)):
    try:
        call({namespace!r})
        result.append(kind + "=ok")
    except client.exceptions.ApiException as e:
        result.append(f"{{kind}}={{e.status}}")
open(os.environ["TERMINATION_MESSAGE_PATH"], "w").write(" ".join(result))
"""
    body = job("rbac", ["python3", "-c", script], service_account="runner")
    outcome, pod = run_job(k8s, namespace, body)
    assert outcome == "Complete"
    assert terminated(pod).message == "configmaps=ok secrets=403"


def test_deleting_a_job_kills_its_process(k8s: ApiClient, namespace: str) -> None:
    batch, core = client.BatchV1Api(k8s), client.CoreV1Api(k8s)
    batch.create_namespaced_job(namespace, body=job("sleeper", ["sleep", "300"]))

    pid = wait_for("the sleeper pod to run", lambda: running_pid(core, namespace, "sleeper"))
    assert pid_alive(pid)
    batch.delete_namespaced_job("sleeper", namespace, propagation_policy="Foreground")
    wait_for("the process to be killed", lambda: not pid_alive(pid))
    wait_for(
        "the pod to be removed",
        lambda: (
            not core.list_namespaced_pod(
                namespace, label_selector="batch.kubernetes.io/job-name=sleeper"
            ).items
        ),
    )


def test_custom_resources_breaking_the_schema_are_rejected(
    control_plane: ControlPlane, k8s: ApiClient, namespace: str
) -> None:
    assert control_plane.install_crds([TESTDATA / "widgets-crd.yaml"]) == [
        "widgets.testing.migration-rollback.test"
    ]
    custom = client.CustomObjectsApi(k8s)
    group, version, plural = "testing.migration-rollback.test", "v1", "widgets"

    def widget(name: str, spec: dict[str, Any]) -> dict[str, Any]:
        return {
            "apiVersion": f"{group}/{version}",
            "kind": "Widget",
            "metadata": {"name": name},
            "spec": spec,
        }

    custom.create_namespaced_custom_object(
        group, version, namespace, plural, widget("ok", {"size": 3, "mode": "safe"})
    )
    invalid = {
        "too-big": ({"size": 11, "mode": "safe"}, "spec.size"),
        "bad-mode": ({"size": 1, "mode": "reckless"}, "spec.mode"),
        "no-mode": ({"size": 1}, "spec.mode"),
        "wrong-type": ({"size": "three", "mode": "safe"}, "spec.size"),
        "cel-rule": (
            {"size": 1, "mode": "safe", "minReplicas": 5, "maxReplicas": 2},
            "minReplicas must not exceed maxReplicas",
        ),
    }
    for name, (spec, expected) in invalid.items():
        with pytest.raises(ApiException) as caught:
            custom.create_namespaced_custom_object(
                group, version, namespace, plural, widget(name, spec)
            )
        assert caught.value.status == 422, (name, caught.value.body)
        assert expected in str(caught.value.body), (name, caught.value.body)
    names = [
        item["metadata"]["name"]
        for item in custom.list_namespaced_custom_object(group, version, namespace, plural)["items"]
    ]
    assert names == ["ok"]


def test_repository_crds_are_installed_and_established(control_plane: ControlPlane) -> None:
    import yaml

    expected = [
        doc["metadata"]["name"]
        for directory in DEFAULT_CRD_DIRS
        for path in sorted(directory.glob("*.y*ml"))
        for doc in yaml.safe_load_all(path.read_text())
        if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition"
    ]
    for name in expected:
        crd = control_plane.rest.get(
            f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}"
        )
        conditions = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
        assert conditions.get("Established") == "True", name


def test_rbac_is_enforced(control_plane: ControlPlane) -> None:
    """A client that is not in system:masters gets 403: authorization is RBAC, not AlwaysAllow."""
    from tests.cluster.rest import ApiError, KubeRest

    assert control_plane.pki is not None
    scheduler = KubeRest(
        "127.0.0.1",
        control_plane.ports["apiserver"],
        control_plane.pki.ca.cert,
        control_plane.pki.scheduler.cert,
        control_plane.pki.scheduler.key,
    )
    with pytest.raises(ApiError) as caught:
        scheduler.get("/api/v1/secrets")
    assert caught.value.status == 403
    scheduler.get("/api/v1/pods")  # allowed by system:kube-scheduler's bootstrap role
    scheduler.close()


def test_missing_secret_holds_the_container_until_it_exists(k8s: ApiClient, namespace: str) -> None:
    core, batch = client.CoreV1Api(k8s), client.BatchV1Api(k8s)
    env = [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "late", "key": "token"}}}]
    script = 'printf %s "$TOKEN" > "$TERMINATION_MESSAGE_PATH"'
    batch.create_namespaced_job(namespace, body=job("late", ["sh", "-c", script], env=env))

    def waiting_for_config() -> str | None:
        # The container first waits as ContainerCreating; wait for the state we mean, not the
        # first waiting reason that shows up.
        pods = core.list_namespaced_pod(
            namespace, label_selector="batch.kubernetes.io/job-name=late"
        ).items
        statuses = (pods[0].status.container_statuses or []) if pods else []
        waiting = statuses[0].state.waiting if statuses else None
        if waiting is None or waiting.reason != "CreateContainerConfigError":
            return None
        return str(waiting.message or waiting.reason)

    message = wait_for("the container to wait for its Secret", waiting_for_config)
    assert "late" in message
    core.create_namespaced_secret(
        namespace, body={"metadata": {"name": "late"}, "stringData": {"token": "t0k3n"}}
    )
    outcome, pod = wait_job(k8s, namespace, "late")  # the executor retries, as the kubelet
    assert outcome == "Complete"
    assert terminated(pod).message == "t0k3n"


def test_init_containers_and_on_failure_restarts(
    control_plane: ControlPlane, k8s: ApiClient, namespace: str
) -> None:
    body = job(
        "restart", ["sh", "-c", "test -f first-run-done || { touch first-run-done; exit 7; }"]
    )
    pod_spec = body["spec"]["template"]["spec"]
    pod_spec["restartPolicy"] = "OnFailure"
    body["spec"]["backoffLimit"] = 3
    # The pod's working directory is its own directory (no workingDir), shared by containers.
    pod_spec["initContainers"] = [
        {
            "name": "init",
            "image": "unused.invalid/none",
            "command": ["sh", "-c", "echo init > order"],
        }
    ]
    pod_spec["containers"][0]["command"] = [
        "sh",
        "-c",
        "echo main >> order; test -f first-run-done || { touch first-run-done; exit 7; }",
    ]
    outcome, pod = run_job(k8s, namespace, body)
    assert outcome == "Complete"
    status = pod.status.container_statuses[0]
    assert status.restart_count == 1
    assert status.last_state.terminated.exit_code == 7
    assert pod.status.init_container_statuses[0].state.terminated.exit_code == 0
    pod_dir = control_plane.pod_dir(namespace, pod.metadata.name)
    assert pod_dir is not None
    assert (pod_dir / "order").read_text().split() == ["init", "main", "main"]


def test_job_active_deadline_kills_the_process(k8s: ApiClient, namespace: str) -> None:
    batch, core = client.BatchV1Api(k8s), client.CoreV1Api(k8s)
    batch.create_namespaced_job(namespace, body=job("deadline", ["sleep", "300"]))
    pid = wait_for("the pod to run", lambda: running_pid(core, namespace, "deadline"))
    # The deadline is set once the process runs: one set at creation could pass while a loaded
    # machine is still starting the pod, and the Job would fail before there is a process.
    batch.patch_namespaced_job("deadline", namespace, {"spec": {"activeDeadlineSeconds": 1}})

    def failed_reason() -> str | None:
        status = batch.read_namespaced_job_status("deadline", namespace).status
        for condition in (status.conditions if status else None) or []:
            if condition.type == "Failed" and condition.status == "True":
                return str(condition.reason)
        return None

    assert wait_for("the Job to fail", failed_reason) == "DeadlineExceeded"
    wait_for("the process to be killed", lambda: not pid_alive(pid))
