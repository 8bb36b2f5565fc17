"""The demo: a migration breaks the shop; a MigrationRollback undoes it, end to end.

Starts a local PostgreSQL and a local Kubernetes control plane (both private to this run),
installs the Helm chart (CRD, RBAC, Deployment...) and runs the operator with the chart's
ServiceAccount token and its Deployment's environment (no container runtime here to run the
image), deploys the example shop (its database from examples/, a Deployment of 3),
applies the failing migration, generates and validates its rollback with the CLI, applies the
MigrationRollback from examples/manifests/, approves it, and shows the resource reach Succeeded
with its status, events and metrics. Everything is stopped and removed at the end.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg
import yaml
from kubernetes import client

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.chart.helm import (  # noqa: E402
    CHART,
    RELEASE,
    apply,
    container_env,
    helm_binary,
    one,
    render,
    token_kubeconfig,
)
from tests.cluster import JOB_NODE_SELECTOR, JOB_TOLERATIONS, ControlPlane  # noqa: E402

from migration_rollback import api  # noqa: E402
from migration_rollback.verify.baseline import load_baseline  # noqa: E402
from migration_rollback.verify.cluster import create_cluster  # noqa: E402

MIGRATIONS = REPO / "examples" / "supabase" / "migrations"
MANIFEST = REPO / "examples" / "manifests" / "undo-timeline-social.yaml"
BAD = "20251113000001_timeline_social_features"
NS = "shop"
CLI = str(Path(sys.executable).parent / "migration-rollback")


def say(text: str) -> None:
    print(f"\n\033[1m== {text}\033[0m", flush=True)


def run(*args: str, cwd: Path | None = None) -> str:
    print("$ " + " ".join(args), flush=True)
    out = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    print((out.stdout + out.stderr).rstrip(), flush=True)
    return out.stdout


class Shop(ThreadingHTTPServer):
    """The shop's admin and health endpoints. Its v1 code breaks on the new likes trigger."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.maintenance = False
        super().__init__(("127.0.0.1", 0), _Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def healthy(self) -> bool:
        with psycopg.connect(self.database_url) as conn:
            row = conn.execute("SELECT to_regclass('public.timeline_likes') IS NULL").fetchone()
        return bool(row and row[0])


class _Handler(BaseHTTPRequestHandler):
    server: Shop

    def do_GET(self) -> None:
        ok = self.server.healthy()
        self.send_response(200 if ok else 500)
        self.end_headers()
        self.wfile.write(json.dumps({"status": {"db": "ok" if ok else "broken"}}).encode())

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        self.server.maintenance = json.loads(body or "{}").get("enabled", False)
        print(
            f"   [shop] maintenance mode {'ON' if self.server.maintenance else 'off'}", flush=True
        )
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


def apply_sql(url: str, sql: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[call-overload]


def record_applied(url: str, stem: str) -> None:
    version, _, name = stem.partition("_")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO supabase_migrations.schema_migrations (version, name) VALUES (%s, %s)",
            (version, name),
        )


def health(shop: Shop) -> str:
    try:
        with urllib.request.urlopen(f"{shop.url}/healthz", timeout=3) as r:  # noqa: S310 (http://127.0.0.1)
            return f"{r.status} {r.read().decode()}"
    except urllib.error.HTTPError as e:
        return f"{e.code} {e.read().decode()}"


def watch_line(obj: dict[str, Any]) -> str:
    status = obj.get("status") or {}
    ready = next((c["status"] for c in status.get("conditions", []) if c["type"] == "Ready"), "")
    downtime = (status.get("metrics") or {}).get("downtime", "")
    return (
        f"{obj['metadata']['name']:22} {obj['spec'].get('migration', ''):42} "
        f"{status.get('phase', ''):17} {ready:6} {downtime:8} {status.get('message', '')[:70]}"
    )


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="migration-rollback-demo-"))
    pg = cp = operator = None
    try:
        say("1. A local PostgreSQL and a local Kubernetes control plane")
        pg = create_cluster()
        print(f"PostgreSQL {pg.url()}")
        cp = ControlPlane(crd_dirs=())  # the chart installs the CRD
        cp.start()
        print(f"Kubernetes API {cp.server} (kubeconfig {cp.kubeconfig})")
        k8s = cp.api_client()
        core, apps, custom = (
            client.CoreV1Api(k8s),
            client.AppsV1Api(k8s),
            client.CustomObjectsApi(k8s),
        )

        say("2. The Helm chart, serving the shop's namespace only, and its operator")
        system = "migration-rollback-system"
        for ns in (system, NS):
            core.create_namespace({"metadata": {"name": ns}})
        values = {
            "watchNamespaces": [NS],
            "image": {"repository": "migration-rollback", "tag": "demo"},
            "operator": {
                "jobPodOverrides": {
                    "nodeSelector": JOB_NODE_SELECTOR,
                    "tolerations": JOB_TOLERATIONS,
                },
            },
        }
        print(
            f"$ helm template {RELEASE} {CHART.relative_to(REPO)} -n {system} "
            f"--set watchNamespaces={{{NS}}} ... | kubectl apply --server-side -f -"
        )
        print(f"  (helm: {helm_binary()})")
        docs = render(values, namespace=system)
        apply(k8s, docs)
        for doc in docs:
            where = doc["metadata"].get("namespace", "")
            print(f"  {doc['kind']:24} {where + '/' if where else ''}{doc['metadata']['name']}")
        cp.wait_crd_established(f"{api.PLURAL}.{api.GROUP}")
        deployment = one(docs, "Deployment")
        account = deployment["spec"]["template"]["spec"]["serviceAccountName"]
        kubeconfig = token_kubeconfig(cp.kubeconfig, system, account, work / "operator.kubeconfig")
        metrics_port = _free_port()
        env = {
            **os.environ,
            **container_env(deployment),
            "OPERATOR_NAMESPACE": system,
            "POD_NAME": f"{RELEASE}-operator-demo",
            "METRICS_PORT": str(metrics_port),
            "HEALTH_PORT": str(_free_port()),
        }
        log = (work / "operator.log").open("wb")
        operator = subprocess.Popen(
            [CLI, "operator", "--kubeconfig", str(kubeconfig)], env=env, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        print(
            f"operator pid {operator.pid} as ServiceAccount {system}/{account} (a token, the "
            f"chart's RBAC), metrics on :{metrics_port}, log {work / 'operator.log'}"
        )

        say("3. The shop: its database (migrations 1-2 applied) and a Deployment of 3")
        apply_sql(pg.url(), "CREATE DATABASE shop")
        db_url = pg.url("shop")
        with psycopg.connect(db_url, autocommit=True) as conn:
            load_baseline(conn)  # pgjwt and the like through stand-ins where the server lacks them
        files = [f for f in sorted(MIGRATIONS.glob("*.sql")) if not f.stem.endswith("_rollback")]
        for f in files[:2]:
            apply_sql(db_url, f.read_text())
            record_applied(db_url, f.stem)
            print(f"applied {f.name}")
        shop = Shop(db_url)
        core.create_namespaced_secret(
            NS, {"metadata": {"name": "shop-db"}, "stringData": {"url": db_url}}
        )
        token = {"Authorization": "Bearer demo-token"}
        core.create_namespaced_secret(
            NS, {"metadata": {"name": "shop-admin-token"}, "stringData": token}
        )
        labels = {"app": "shop-web"}
        pod = {"containers": [{"name": "web", "image": "shop/web:1"}]}
        apps.create_namespaced_deployment(
            NS,
            {
                "metadata": {"name": "shop-web", "labels": labels},
                "spec": {
                    "replicas": 3,
                    "selector": {"matchLabels": labels},
                    "template": {"metadata": {"labels": labels}, "spec": pod},
                },
            },
        )
        _wait(
            lambda: (
                (apps.read_namespaced_deployment("shop-web", NS).status.ready_replicas or 0) == 3
            )
        )
        print(f"shop-web: 3/3 ready; GET /healthz -> {health(shop)}")

        say(f"4. The failing migration goes out: {BAD}")
        bad = MIGRATIONS / f"{BAD}.sql"
        apply_sql(db_url, bad.read_text())
        record_applied(db_url, BAD)
        print(f"applied {bad.name}; GET /healthz -> {health(shop)}   <- production is down")

        say("5. Generate and validate its rollback (the CLI, in CI or on a laptop)")
        project = work / "project"
        shutil.copytree(MIGRATIONS.parent, project / "supabase")
        run(CLI, "generate", cwd=project)
        run(CLI, "validate", "--verify", "--shadow-url", pg.url(), cwd=project)
        rollback = project / "supabase" / "migrations" / f"{BAD}_rollback.sql"
        core.create_namespaced_config_map(NS, {
            "metadata": {"name": "shop-migrations"}, "data": {rollback.name: rollback.read_text()},
        })  # fmt: skip

        say("6. Apply the MigrationRollback (examples/manifests/undo-timeline-social.yaml)")
        manifest = yaml.safe_load(MANIFEST.read_text())
        manifest["spec"]["maintenance"]["http"]["url"] = f"{shop.url}/api/admin/maintenance"
        manifest["spec"]["healthChecks"][0]["url"] = f"{shop.url}/healthz"
        custom.create_namespaced_custom_object(api.GROUP, api.VERSION, NS, api.PLURAL, manifest)
        name = manifest["metadata"]["name"]
        print(f"kubectl get mrb -n {NS} -w")
        print(f"{'NAME':22} {'MIGRATION':42} {'PHASE':17} {'READY':6} {'DOWNTIME':8} MESSAGE")
        last = ""
        approved = False
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            obj = custom.get_namespaced_custom_object(api.GROUP, api.VERSION, NS, api.PLURAL, name)
            line = watch_line(obj)
            if line != last:
                print(line, flush=True)
                last = line
            status = obj.get("status") or {}
            if (
                status.get("phase") == "AwaitingApproval"
                and status.get("sqlSha256")
                and not approved
            ):
                sha = status["sqlSha256"]
                print(f"\n$ kubectl annotate mrb/{name} -n {NS} {api.APPROVAL_ANNOTATION}={sha}\n")
                custom.patch_namespaced_custom_object(
                    api.GROUP, api.VERSION, NS, api.PLURAL, name,
                    {"metadata": {"annotations": {api.APPROVAL_ANNOTATION: sha}}},
                )  # fmt: skip
                approved = True
            if status.get("phase") in ("Succeeded", "Failed"):
                break
            time.sleep(0.3)

        say("7. The result, as kubectl describe shows it")
        obj = custom.get_namespaced_custom_object(api.GROUP, api.VERSION, NS, api.PLURAL, name)
        status = obj["status"]
        print(f"Phase: {status['phase']}   Reason: {status.get('reason')}")
        print(f"Message: {status.get('message')}")
        print(
            "Conditions: " + ", ".join(f"{c['type']}={c['status']}" for c in status["conditions"])
        )
        print("Steps:")
        for step in status.get("steps", []):
            took = _seconds(step.get("startedAt"), step.get("finishedAt"))
            print(f"  {step['name']:15} {step['state']:8} {took:>7} {step.get('message', '')[:80]}")
        print(f"Metrics: {json.dumps(status.get('metrics'))}")
        print(f"Backup: {json.dumps(status.get('backup'))}")
        print("Events:")
        events = core.list_namespaced_event(NS, field_selector=f"involvedObject.name={name}").items
        # Creation order: timestamps have one-second resolution, resourceVersions do not.
        for e in sorted(events, key=lambda e: int(e.metadata.resource_version)):
            print(f"  {e.type:8} {e.reason:22} {(e.message or '')[:90]}")
        print("Prometheus (/metrics):")
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as r:
            for line in r.read().decode().splitlines():
                if line.startswith("migration_rollback_") and (
                    "_total" in line
                    or "_count" in line
                    or "in_progress" in line
                    or "app_down" in line
                ):
                    print(f"  {line}")
        replicas = apps.read_namespaced_deployment("shop-web", NS).spec.replicas
        print(f"\nshop-web replicas: {replicas}; GET /healthz -> {health(shop)}")
        return 0 if status["phase"] == "Succeeded" else 1
    finally:
        say("8. Cleaning up")
        if operator is not None and operator.poll() is None:
            os.killpg(operator.pid, signal.SIGTERM)
            operator.wait(timeout=30)
        if cp is not None:
            cp.stop()
        if pg is not None:
            pg.stop()
        shutil.rmtree(work, ignore_errors=True)
        print("done")


def _seconds(start: str | None, end: str | None) -> str:
    """A step's duration as status records it (its startedAt and finishedAt)."""
    if not start or not end:
        return ""
    took = dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)
    return f"{took.total_seconds():.2f}s"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(probe: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise TimeoutError("timed out")
        time.sleep(0.2)


if __name__ == "__main__":
    raise SystemExit(main())
