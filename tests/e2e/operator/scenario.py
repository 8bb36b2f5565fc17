"""Helpers for operator scenarios: the real operator process, a shop app, a real database.

Every scenario runs the operator exactly as the chart does (`migration-rollback operator`), as a
local process against the local control plane. Its rollback Jobs run on the job executor node,
so the real runner executes against the real PostgreSQL; the shop's Deployment runs on kwok
nodes; the shop's health and maintenance endpoints are a small HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest
from kubernetes import client
from tests.chart.helm import RELEASE, container_env, one, render, token_kubeconfig
from tests.cluster import JOB_NODE_SELECTOR, JOB_TOLERATIONS, ControlPlane
from tests.cluster.controlplane import free_ports

from migration_rollback import api
from migration_rollback.conninfo import database_identity
from migration_rollback.sql import build_history, generate_rollback, parse_script
from migration_rollback.verify.baseline import load_baseline

REPO = Path(__file__).resolve().parents[3]
MIGRATIONS = REPO / "examples" / "supabase" / "migrations"
OPERATOR_NAMESPACE = "migration-rollback-system"
SOCIAL = "20251113000001_timeline_social_features"
CHART_SKIPPED = {"ServiceMonitor", "PrometheusRule"}  # no Prometheus Operator CRDs here
T = TypeVar("T")
# Waits in the rollback's transaction until the test opens the gate (Shop.open_gate): each
# statement of a DO block sees rows committed since, the runner's timeouts are minutes.
_WAIT = "WHILE NOT EXISTS (SELECT 1 FROM public.e2e_gate) LOOP PERFORM pg_sleep(0.1); END LOOP;"
# The rehearsal's audit row is finished: this is the real run.
_REAL_RUN = (
    "EXISTS (SELECT 1 FROM migration_rollback.audit_log WHERE dry_run AND finished_at IS NOT NULL)"
)


def gated(*, rehearsal: bool = False) -> str:
    """A rollback of SOCIAL whose real run (and the rehearsal too, if asked) waits at the gate:
    the phase it runs in lasts as long as the test needs it, however slow the machine, where a
    pg_sleep would guess."""
    wait = _WAIT if rehearsal else f"IF {_REAL_RUN} THEN {_WAIT} END IF;"
    return (
        f"-- ROLLBACK: {SOCIAL}\nDO $$ BEGIN {wait} END $$;\n"
        "DROP INDEX IF EXISTS public.idx_timeline_comments_event;\n"
    )


GATED = gated()


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 90.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.2)


# --- the operator ------------------------------------------------------------------------------


@dataclass
class OperatorProcess:
    """`migration-rollback operator` as a child process that tests may kill and restart."""

    kubeconfig: Path
    log_path: Path
    metrics_port: int = 0  # 0: two free ports are picked
    health_port: int = 0
    identity: str = field(default_factory=lambda: f"operator-e2e-{os.getpid()}")
    # Overrides of the environment below (the chart scenario runs it with the chart's own).
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        if not (self.metrics_port and self.health_port):
            self.metrics_port, self.health_port = free_ports(2)

    def start(self, wait_ready: bool = True) -> None:
        env = {
            **os.environ,
            "JOB_IMAGE": "migration-rollback:e2e",
            "OPERATOR_NAMESPACE": OPERATOR_NAMESPACE,
            "JOB_POD_OVERRIDES": json.dumps(
                {"nodeSelector": JOB_NODE_SELECTOR, "tolerations": JOB_TOLERATIONS}
            ),
            "METRICS_PORT": str(self.metrics_port),
            "HEALTH_PORT": str(self.health_port),
            "POD_NAME": self.identity,
            **self.env,
        }
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "migration_rollback",
                "operator",
                "--kubeconfig",
                str(self.kubeconfig),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if wait_ready:
            try:
                wait_for("the operator to be ready", self.ready, timeout=60)
            except pytest.fail.Exception:
                pytest.fail(f"operator not ready; its log:\n{self.log_path.read_text()[-3000:]}")

    def _probe(self, path: str) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            pytest.fail(f"operator exited: {self.log_path.read_text()[-3000:]}")
        try:
            url = f"http://127.0.0.1:{self.health_port}{path}"
            with urllib.request.urlopen(url, timeout=1) as r:
                return bool(r.status == 200)
        except OSError:
            return False

    def ready(self) -> bool:
        """Leading and watching resources."""
        return self._probe("/readyz")

    def readiness(self) -> str:
        """What /readyz says: what the operator waits for, or what it watches ("" if it does
        not answer yet)."""
        self._probe("/healthz")  # fails the test, with the log, if the operator exited
        url = f"http://127.0.0.1:{self.health_port}/readyz"
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                return str(r.read().decode())
        except urllib.error.HTTPError as refused:
            return str(refused.read().decode())
        except OSError:
            return ""

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self._probe("/healthz")

    def kill(self) -> None:
        """SIGKILL: no cleanup, exactly what a crashed or evicted operator leaves behind."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def metrics(self) -> str:
        # A scrape is answered between the operator's busy threads: seconds on a loaded machine.
        with urllib.request.urlopen(
            f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=30
        ) as r:
            return str(r.read().decode())

    def metric(self, name: str, labels: str = "") -> float:
        return self.metric_values([(name, labels)])[(name, labels)]

    def metric_values(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], float]:
        """(name, labels) -> value (0 when not exported) of each, from one scrape."""
        lines = self.metrics().splitlines()
        values = {}
        for name, labels in keys:
            wanted = f"{name}{{{labels}}} " if labels else f"{name} "
            found = [float(line.split()[-1]) for line in lines if line.startswith(wanted)]
            values[(name, labels)] = found[0] if found else 0.0
        return values

    def wait_metrics(
        self,
        what: str,
        keys: list[tuple[str, str]],
        until: Callable[[dict[tuple[str, str], float]], bool],
        timeout: float = 30,
    ) -> dict[tuple[str, str], float]:
        """The values once `until` holds of them. A counter moves when the operator's status
        patch has returned (controller.telemetry), a moment after a phase wait can see the
        phase; the activity gauges follow kopf's watch of the statuses, later still."""

        def probe() -> tuple[dict[tuple[str, str], float]] | None:
            values = self.metric_values(keys)
            return (values,) if until(values) else None

        return wait_for(what, probe, timeout)[0]


def chart_docs(values: dict[str, Any], system: str) -> list[dict[str, Any]]:
    """The chart rendered into namespace `system`, less what needs the Prometheus Operator."""
    return [d for d in render(values, namespace=system) if d["kind"] not in CHART_SKIPPED]


def chart_operator(
    control_plane: ControlPlane, docs: list[dict[str, Any]], system: str, log_path: Path
) -> OperatorProcess:
    """The operator as the chart's Deployment runs it (not started yet): with a token of the
    chart's ServiceAccount, so with exactly its RBAC, and the Deployment's environment."""
    deployment = one(docs, "Deployment")
    account = deployment["spec"]["template"]["spec"]["serviceAccountName"]
    kubeconfig = token_kubeconfig(
        control_plane.kubeconfig, system, account, log_path.with_suffix(".kubeconfig")
    )
    env = {
        **container_env(deployment),
        # What the Deployment's fieldRefs would give the pod:
        "OPERATOR_NAMESPACE": system,
        "POD_NAME": f"{RELEASE}-operator-0",
    }
    # The chart's ports would collide on this machine; OperatorProcess picks free ones.
    del env["METRICS_PORT"], env["HEALTH_PORT"]
    return OperatorProcess(kubeconfig, log_path, env=env)


# --- the shop application's endpoints ------------------------------------------------------------


class ShopEndpoints:
    """/healthz and the maintenance switch of the app, recording every call."""

    def __init__(self) -> None:
        self.health_status = 200
        # Status codes for the next maintenance POSTs, in order (then 204).
        self.maintenance_responses: list[int] = []
        self.calls: list[tuple[str, str, str]] = []
        self.headers: list[dict[str, str]] = []
        # Called with each maintenance POST's body before it is answered (the operator waits
        # for the answer): a test's change lands at that exact step of the flow.
        self.on_maintenance: Callable[[str], None] = lambda _body: None
        endpoints = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                endpoints.calls.append(("GET", self.path, ""))
                self.send_response(endpoints.health_status if self.path == "/healthz" else 404)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"status": {"db": "ok"}}')

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length).decode()
                endpoints.calls.append(("POST", self.path, body))
                endpoints.headers.append(dict(self.headers))
                endpoints.on_maintenance(body)
                queued = endpoints.maintenance_responses
                self.send_response(queued.pop(0) if queued else 204)
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def maintenance_calls(self) -> list[str]:
        return [body for method, path, body in self.calls if method == "POST"]

    def close(self) -> None:
        self.server.shutdown()


# --- the shop: namespace, database, Secret, ConfigMap, Deployment --------------------------------


def apply_sql(url: str, sql: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[call-overload]


def shop_database(pg_server: Any, name: str = "shop") -> tuple[str, str, list[Path]]:
    """A database with the example project applied up to its third migration: (its name,
    its URL, the migration files applied)."""
    dbname = pg_server.create_database(name)
    url = pg_server.url_for(dbname)
    with psycopg.connect(url, autocommit=True) as conn:
        load_baseline(conn)  # the platform's extensions through the verifier's stand-ins
    files = [f for f in sorted(MIGRATIONS.glob("*.sql")) if not f.stem.endswith("_rollback")][:3]
    for f in files:
        apply_sql(url, f.read_text())
        version, _, title = f.stem.partition("_")
        apply_sql(
            url,
            "INSERT INTO supabase_migrations.schema_migrations (version, name) "
            f"VALUES ('{version}', '{title}')",
        )
    return dbname, url, files


def rollback_sql_for(name: str) -> str:
    """The engine's rollback for one example migration, with the history of earlier ones."""
    files = sorted(MIGRATIONS.glob("*.sql"))
    files = [f for f in files if not f.stem.endswith("_rollback")]
    index = [f.stem for f in files].index(name)
    history = build_history(parse_script(f.read_text(), f.name) for f in files[:index])
    plan = generate_rollback(
        parse_script(files[index].read_text(), files[index].name), name, history
    )
    return f"-- ROLLBACK: {name}\n\n" + plan.render_body()


@dataclass
class Shop:
    namespace: str
    database_url: str
    k8s: Any
    endpoints: ShopEndpoints
    applied: list[str]

    @property
    def apps(self) -> client.AppsV1Api:
        return client.AppsV1Api(self.k8s)

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.k8s)

    @property
    def custom(self) -> client.CustomObjectsApi:
        return client.CustomObjectsApi(self.k8s)

    def replicas(self, name: str = "shop-web") -> int:
        return int(self.apps.read_namespaced_deployment(name, self.namespace).spec.replicas)

    def ready_replicas(self, name: str = "shop-web") -> int:
        status = self.apps.read_namespaced_deployment(name, self.namespace).status
        return int(status.ready_replicas or 0)

    def sql(self, query: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.database_url) as conn:
            return list(conn.execute(query).fetchall())  # type: ignore[call-overload]

    def table_exists(self, qualified: str) -> bool:
        return bool(self.sql(f"SELECT to_regclass('{qualified}') IS NOT NULL")[0][0])

    def history(self) -> list[str]:
        return [
            r[0]
            for r in self.sql(
                "SELECT version FROM supabase_migrations.schema_migrations ORDER BY 1"
            )
        ]

    def rollback_config_map(self, name: str, sql: str) -> None:
        self.core.create_namespaced_config_map(
            self.namespace, {"metadata": {"name": name}, "data": {"rollback.sql": sql}}
        )

    def mrb(self, name: str, validate_only: bool = False, **spec: Any) -> dict[str, Any]:
        """Create a resource: the shop's defaults, overridden by `spec` (None leaves one out).
        `validate_only`: the API server's dry run (validated, never stored or acted on)."""
        body = {
            "apiVersion": api.API_VERSION,
            "kind": api.KIND,
            "metadata": {"name": name, "namespace": self.namespace},
            "spec": {
                "database": {"urlSecretRef": {"name": "shop-db"}},
                "workloads": [{"kind": "Deployment", "name": "shop-web"}],
                "maintenance": {
                    "http": {
                        "url": f"{self.endpoints.url}/api/admin/maintenance",
                        "headersSecretRef": {"name": "shop-admin-token"},
                    }
                },
                "healthChecks": [
                    {
                        "name": "api",
                        "url": f"{self.endpoints.url}/healthz",
                        "periodSeconds": 1,
                        "successThreshold": 2,
                        "failureThreshold": 3,
                        "jsonField": "status.db",
                        "expectValue": "ok",
                    }
                ],
                "backup": {"mode": "pgDump"},
                "scaleDownTimeoutSeconds": 60,
                **spec,
            },
        }
        body["spec"] = {k: v for k, v in body["spec"].items() if v is not None}
        extra = {"dry_run": "All"} if validate_only else {}
        return dict(
            self.custom.create_namespaced_custom_object(
                api.GROUP, api.VERSION, self.namespace, api.PLURAL, body, **extra
            )
        )

    def undo_social(self, name: str) -> dict[str, Any]:
        """The example's third migration rolled back from a ConfigMap: it drops tables and has
        a MANUAL item, so it waits for approval. Returns the resource as it waits."""
        self.rollback_config_map("shop-rollbacks", rollback_sql_for(SOCIAL))
        self.mrb(
            name,
            migration=SOCIAL,
            rollback={"configMapRef": {"name": "shop-rollbacks", "key": "rollback.sql"}},
            allowDataLoss=True,
        )
        return self.wait_phase(name, "AwaitingApproval")

    def get(self, name: str) -> dict[str, Any]:
        return dict(
            self.custom.get_namespaced_custom_object(
                api.GROUP, api.VERSION, self.namespace, api.PLURAL, name
            )
        )

    def annotate(self, name: str, annotations: dict[str, str]) -> None:
        self.custom.patch_namespaced_custom_object(
            api.GROUP, api.VERSION, self.namespace, api.PLURAL, name,
            {"metadata": {"annotations": annotations}},
        )  # fmt: skip

    def delete(self, name: str) -> None:
        self.custom.delete_namespaced_custom_object(
            api.GROUP, api.VERSION, self.namespace, api.PLURAL, name
        )

    def phase(self, name: str) -> str:
        return str((self.get(name).get("status") or {}).get("phase", ""))

    def wait_phase(self, name: str, *phases: str, timeout: float = 120) -> dict[str, Any]:
        def reached() -> dict[str, Any] | None:
            obj = self.get(name)
            return obj if (obj.get("status") or {}).get("phase") in phases else None

        try:
            return wait_for(f"{name} to reach {'/'.join(phases)}", reached, timeout)
        except BaseException:
            status = self.get(name).get("status") or {}
            print(json.dumps(status, indent=1)[:4000])
            raise

    def condition(self, name: str, kind: str) -> dict[str, Any]:
        for c in (self.get(name).get("status") or {}).get("conditions") or []:
            if c["type"] == kind:
                return dict(c)
        return {}

    def events(self, name: str) -> list[str]:
        return [reason for reason, _ in self.event_texts(name)]

    def wait_events(self, name: str, *reasons: str, timeout: float = 30) -> list[str]:
        """Every event reason about the resource, once all of these are among them.

        kopf posts events from a queue of its own, after the status patch that a phase wait
        sees: an event can arrive a moment after the phase it belongs to.
        """

        def seen() -> list[str] | None:
            got = self.events(name)
            return got if set(reasons) <= set(got) else None

        return wait_for(f"events {', '.join(reasons)} about {name}", seen, timeout)

    def event_texts(self, name: str) -> list[tuple[str, str]]:
        """(reason, message) of every event about the resource."""
        items = self.core.list_namespaced_event(
            self.namespace, field_selector=f"involvedObject.name={name}"
        ).items
        return [(str(e.reason), str(e.message)) for e in items]

    def close_gate(self) -> None:
        """A gated() rollback reaching the gate waits there until open_gate."""
        apply_sql(self.database_url, "CREATE TABLE public.e2e_gate (opened boolean)")

    def open_gate(self) -> None:
        apply_sql(self.database_url, "INSERT INTO public.e2e_gate VALUES (true)")

    def database_lease(self, url: str | None = None) -> dict[str, Any] | None:
        """The per-database Lease the operator holds for this URL's database, if any."""
        name = f"mrb-db-{database_identity(url or self.database_url)}"
        coordination = client.CoordinationV1Api(self.k8s)
        try:
            return dict(coordination.read_namespaced_lease(name, OPERATOR_NAMESPACE).to_dict())
        except client.exceptions.ApiException as exc:
            if exc.status == 404:
                return None
            raise
