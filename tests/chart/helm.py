"""The chart as tests and the demo use it: rendered by the project's own helm (scripts/helm.sh
builds it), applied server-side, and a token of its ServiceAccount for an operator run outside
a pod (there is no container runtime here to run the image)."""

from __future__ import annotations

import functools
import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client, config
from kubernetes.dynamic import DynamicClient

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "helm" / "migration-rollback"
RELEASE = "mr"
NAMESPACE = "migration-rollback-system"


@functools.cache
def helm_binary() -> str:
    found = subprocess.run(
        [str(REPO / "scripts" / "helm.sh"), "--check"], capture_output=True, text=True, check=False
    )
    if found.returncode != 0:
        raise RuntimeError("helm is not built: run scripts/helm.sh (scripts/setup runs it)")
    return found.stdout.strip()


def helm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([helm_binary(), *args], capture_output=True, text=True, check=False)


def render_text(values: dict[str, Any] | None = None, namespace: str = NAMESPACE) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
        yaml.safe_dump(values or {}, f)
        f.flush()
        out = helm("template", RELEASE, str(CHART), "--namespace", namespace, "-f", f.name)
    if out.returncode != 0:
        raise ValueError(out.stderr.strip())
    return out.stdout


def render(
    values: dict[str, Any] | None = None, namespace: str = NAMESPACE
) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(render_text(values, namespace)) if d]


def find(docs: list[dict[str, Any]], kind: str, name: str | None = None) -> list[dict[str, Any]]:
    return [
        d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)
    ]


def one(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = find(docs, kind)
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def container_env(deployment: dict[str, Any]) -> dict[str, str]:
    """The operator container's plain env values (fieldRefs left out)."""
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}


def apply(k8s: client.ApiClient, docs: list[dict[str, Any]]) -> None:
    """What `helm template ... | kubectl apply --server-side -f -` does."""
    dynamic = DynamicClient(k8s)
    for doc in docs:
        resource = dynamic.resources.get(api_version=doc["apiVersion"], kind=doc["kind"])
        resource.server_side_apply(
            body=doc,
            name=doc["metadata"]["name"],
            namespace=doc["metadata"].get("namespace"),
            field_manager="migration-rollback-chart",
            force_conflicts=True,
        )


def token_kubeconfig(admin_kubeconfig: Path, namespace: str, account: str, path: Path) -> Path:
    """A kubeconfig that acts as the ServiceAccount (a TokenRequest, valid for an hour)."""
    admin = json.loads(admin_kubeconfig.read_text())
    core = client.CoreV1Api(
        config.new_client_from_config(config_file=str(admin_kubeconfig), persist_config=False)
    )
    request = core.create_namespaced_service_account_token(
        account, namespace, {"spec": {"expirationSeconds": 3600}}
    )
    admin["users"] = [{"name": account, "user": {"token": request.status.token}}]
    admin["contexts"][0]["context"]["user"] = account
    path.write_text(json.dumps(admin))
    path.chmod(0o600)
    return path
