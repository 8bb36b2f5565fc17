"""A real Kubernetes control plane as local processes, for the e2e tests and the demo.

``ControlPlane`` runs etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok
(all from the binary ``tests/cluster/build.sh`` builds) plus the job executor
(``tests/cluster/executor.py``), on free ports of 127.0.0.1, with a fresh PKI, all in one
state directory. Use it from pytest (``tests/e2e/conftest.py``) or from a shell::

    python -m tests.cluster up --state-dir /tmp/demo-cluster   # prints the kubeconfig path
    python -m tests.cluster down --state-dir /tmp/demo-cluster

(run from the repository root with the project's virtualenv; ``tests/cluster/up.sh`` and
``down.sh`` do that).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from pathlib import Path
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any, cast

from . import limits as cluster_limits
from . import procs
from .constants import (
    CLUSTER_NAME,
    JOB_EXECUTOR_NODE,
    KWOK_NODE_ANNOTATION,
    KWOK_NODE_LABEL,
    KWOK_NODE_PREFIX,
    KWOK_POD_PARALLELISM,
    KWOK_POD_PARALLELISM_ENV,
    SERVICE_CIDR,
)
from .limits import ControllerLimits
from .pki import CertPair, Pki, make_pki
from .rest import ApiError, KubeRest

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

REPO_ROOT = Path(__file__).resolve().parents[2]
CLUSTER_DIR = Path(__file__).resolve().parent
BUILD_SCRIPT = CLUSTER_DIR / "build.sh"
DEFAULT_CRD_DIRS = (REPO_ROOT / "crds",)
#: Environment variable naming a directory holding ``kube-local`` (skips build.sh).
BIN_DIR_ENV = "MIGRATION_ROLLBACK_KUBE_BIN"
#: Set to 1 to keep a stopped cluster's state directory (logs, etcd data) for a post-mortem.
KEEP_STATE_ENV = "MIGRATION_ROLLBACK_KEEP_CLUSTER"

CRD_PATH = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
_UNSCHEDULABLE_TAINTS = {"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"}


class ControlPlaneError(RuntimeError):
    """The control plane could not be built, started or reached."""


def find_binaries(build: bool = False) -> Path:
    """The directory holding ``kube-local``: ``$MIGRATION_ROLLBACK_KUBE_BIN`` or the build cache.

    Without ``build`` a missing build is an error (a cold build takes minutes, which is no job
    for a test fixture); with it, build.sh builds.
    """
    override = os.environ.get(BIN_DIR_ENV)
    if override:
        path = Path(override)
        if not (path / "kube-local").is_file():
            raise ControlPlaneError(f"${BIN_DIR_ENV}={override} holds no kube-local binary")
        return path
    done = subprocess.run(
        [str(BUILD_SCRIPT)] + ([] if build else ["--check"]),
        stdout=subprocess.PIPE,
        stderr=None if build else subprocess.PIPE,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise ControlPlaneError(
            (done.stderr or "").strip() or f"{BUILD_SCRIPT} failed (exit {done.returncode})"
        )
    return Path(done.stdout.strip().splitlines()[-1])


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """TCP ports on 127.0.0.1 that were free a moment ago, all different: each socket stays
    bound until all are picked, since a port given back at once can be the next bind's answer."""
    with contextlib.ExitStack() as stack:
        sockets = [
            stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            for _ in range(count)
        ]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def dns_label(text: str, max_len: int = 63) -> str:
    """``text`` made into a DNS-1123 label (lower case, digits and dashes)."""
    label = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    return label[:max_len].strip("-") or "x"


class ControlPlane:
    """One local cluster. ``start()`` returns once it is ready for work:

    * ``/readyz`` of the API server is ok;
    * the controller manager and the scheduler report healthy, and the service-account
      controller has made the ``default`` ServiceAccount;
    * ``kwok_nodes`` kwok nodes and the job executor's node are Ready and schedulable;
    * every CustomResourceDefinition in ``crd_dirs`` (YAML files; by default the repository's
      ``crds/``) is installed and Established.

    ``stop()`` ends every process (and the processes the executor started) and, unless the
    state directory was given or ``$MIGRATION_ROLLBACK_KEEP_CLUSTER=1``, removes it.

    ``detached=True`` (the ``up`` command) starts processes that outlive this Python process;
    otherwise they are killed by the kernel if it dies without calling ``stop()`` (more
    exactly, when the thread that called ``start()`` ends: call it from the main thread, or
    one that lives as long as the cluster).
    """

    def __init__(
        self,
        state_dir: Path | None = None,
        *,
        kwok_nodes: int = 1,
        kwok_pod_parallelism: int | None = None,
        limits: ControllerLimits | None = None,
        crd_dirs: Sequence[Path] = DEFAULT_CRD_DIRS,
        executor: bool = True,
        detached: bool = False,
        bin_dir: Path | None = None,
        python: str | None = None,
        start_timeout: float = 120.0,
    ) -> None:
        self._own_state_dir = state_dir is None
        self.state_dir = (
            Path(tempfile.mkdtemp(prefix="mr-cluster-")) if state_dir is None else state_dir
        ).resolve()
        self.kwok_nodes = kwok_nodes
        self.kwok_pod_parallelism = kwok_pod_parallelism or _kwok_pod_parallelism()
        self.limits = limits or _limits_from_environment()
        self.crd_dirs = tuple(crd_dirs)
        self.run_executor = executor
        self.detached = detached
        self.bin_dir = bin_dir
        self.python = python or sys.executable
        self.start_timeout = start_timeout
        self.procs: list[procs.Proc] = []
        self.ports: dict[str, int] = {}
        self.timings: dict[str, float] = {}
        self.pki: Pki | None = None
        self._rest: KubeRest | None = None
        self._started = False
        self._stopped = False
        self._lock = threading.Lock()
        self._old_handlers: dict[int, Any] = {}
        self._t0: float | None = None
        self.deleting: list[str] = []  # namespaces being deleted (delete_namespace)
        self.settle_seconds: list[float] = []  # how long each wait for one to go took

    # -- paths and clients -------------------------------------------------------------

    @property
    def kubeconfig(self) -> Path:
        """The admin kubeconfig (user in group system:masters)."""
        return self.state_dir / "kubeconfig"

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def executor_dir(self) -> Path:
        """Where the job executor keeps each pod's logs and files (see executor.py)."""
        return self.state_dir / "executor"

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.ports['apiserver']}"

    @property
    def rest(self) -> KubeRest:
        """A plain-JSON admin client (see rest.py)."""
        if self._rest is None:
            assert self.pki is not None, "the control plane has not been started"
            self._rest = KubeRest(
                "127.0.0.1",
                self.ports["apiserver"],
                self.pki.ca.cert,
                self.pki.admin.cert,
                self.pki.admin.key,
            )
        return self._rest

    def api_client(self) -> ApiClient:
        """A new ``kubernetes`` ApiClient for the admin kubeconfig."""
        from kubernetes import config

        api = config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=str(self.kubeconfig), persist_config=False
        )
        return cast("ApiClient", api)

    # -- start ----------------------------------------------------------------------------

    def start(self) -> None:
        if self._started:
            raise ControlPlaneError("already started")
        self._started = True
        t0 = self._t0 = time.monotonic()
        try:
            self._start(t0)
        except BaseException:
            self.stop()
            raise
        self.timings["ready"] = time.monotonic() - t0

    def _start(self, t0: float) -> None:
        bin_dir = self.bin_dir or find_binaries()
        kube = str(bin_dir / "kube-local")
        for sub in ("etcd", "logs", "executor", "certs"):
            (self.state_dir / sub).mkdir(parents=True, exist_ok=True)
        if not self.detached:
            atexit.register(self.stop)
            self._install_signal_handlers()
        self.pki = pki = make_pki(self.state_dir / "pki")
        names = ("etcd", "etcd-peer", "apiserver", "controller-manager", "scheduler")
        self.ports.update(zip(names, free_ports(len(names)), strict=True))
        serving = self._serving_pair(pki)
        kubeconfigs = {
            "admin": self._write_kubeconfig(self.kubeconfig, pki.admin),
            "controller-manager": self._write_kubeconfig(
                self.state_dir / "certs/controller-manager.kubeconfig", pki.controller_manager
            ),
            "scheduler": self._write_kubeconfig(
                self.state_dir / "certs/scheduler.kubeconfig", pki.scheduler
            ),
            "kwok": self._write_kubeconfig(self.state_dir / "certs/kwok.kubeconfig", pki.kwok),
        }
        kwok_config = self.state_dir / "kwok.yaml"
        kwok_config.write_text(
            subprocess.run(
                [kube, "kwok-config", str(self.kwok_pod_parallelism)],
                capture_output=True, text=True, check=True,
            ).stdout
        )  # fmt: skip
        self.timings["prepared"] = time.monotonic() - t0

        etcd_url = f"http://127.0.0.1:{self.ports['etcd']}"
        peer_url = f"http://127.0.0.1:{self.ports['etcd-peer']}"
        self._spawn(
            "etcd",
            [
                kube, "etcd",
                "--name=default",
                f"--data-dir={self.state_dir / 'etcd'}",
                f"--listen-client-urls={etcd_url}",
                f"--advertise-client-urls={etcd_url}",
                f"--listen-peer-urls={peer_url}",
                f"--initial-advertise-peer-urls={peer_url}",
                f"--initial-cluster=default={peer_url}",
                "--unsafe-no-fsync",
                "--log-level=warn",
                "--quota-backend-bytes=2147483648",
            ],
        )  # fmt: skip
        self._spawn(
            "apiserver",
            [
                kube, "apiserver",
                f"--etcd-servers={etcd_url}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={self.ports['apiserver']}",
                f"--cert-dir={self.state_dir / 'certs'}",
                f"--tls-cert-file={pki.apiserver.cert}",
                f"--tls-private-key-file={pki.apiserver.key}",
                f"--client-ca-file={pki.ca.cert}",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-account-key-file={pki.service_account_pub}",
                f"--service-account-signing-key-file={pki.service_account_key}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--authorization-mode=RBAC",
                "--allow-privileged=true",
                "--profiling=false",
                "--enable-priority-and-fairness=false",
            ],
        )  # fmt: skip
        # No --authentication/--authorization-kubeconfig for the controller manager and the
        # scheduler: with them they exit at once if the API server is not up yet, and without
        # them they still serve /healthz (an always-allowed path), which is all that is used.
        self._spawn(
            "controller-manager",
            [
                kube, "controller-manager",
                f"--kubeconfig={kubeconfigs['controller-manager']}",
                "--bind-address=127.0.0.1",
                f"--secure-port={self.ports['controller-manager']}",
                f"--tls-cert-file={serving.cert}",
                f"--tls-private-key-file={serving.key}",
                f"--service-account-private-key-file={pki.service_account_key}",
                f"--root-ca-file={pki.ca.cert}",
                f"--cluster-signing-cert-file={pki.ca.cert}",
                f"--cluster-signing-key-file={pki.ca.key}",
                f"--cluster-name={CLUSTER_NAME}",
                "--controllers=*",
                # Each controller acts as its own ServiceAccount with the bootstrap RBAC roles
                # (as kubeadm sets it up); the manager's own identity may not, e.g., patch nodes.
                "--use-service-account-credentials=true",
                "--leader-elect=false",
                "--profiling=false",
                # Its client-go metrics (rate-limiter waits, work queues) for the benches, and the
                # configuration it runs with (/configz) for the tests.
                "--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics,/configz",
                *self.limits.flags(),
            ],
        )  # fmt: skip
        self._spawn(
            "scheduler",
            [
                kube, "scheduler",
                f"--kubeconfig={kubeconfigs['scheduler']}",
                "--bind-address=127.0.0.1",
                f"--secure-port={self.ports['scheduler']}",
                f"--tls-cert-file={serving.cert}",
                f"--tls-private-key-file={serving.key}",
                "--leader-elect=false",
                "--profiling=false",
            ],
        )  # fmt: skip
        self._spawn(
            "kwok",
            [
                kube, "kwok",
                f"--kubeconfig={kubeconfigs['kwok']}",
                f"--config={kwok_config}",
                "--manage-all-nodes=false",
                "--manage-nodes-with-annotation-selector="
                f"{KWOK_NODE_ANNOTATION[0]}={KWOK_NODE_ANNOTATION[1]}",
                "--node-ip=127.0.0.1",
                "--cidr=10.244.0.0/16",
                "--node-lease-duration-seconds=40",
            ],
        )  # fmt: skip
        if self.run_executor:
            self._spawn_executor(pki)
        self._write_state()

        self._wait("apiserver /readyz", self._apiserver_ready)
        for i in range(self.kwok_nodes):
            self._create_kwok_node(f"{KWOK_NODE_PREFIX}{i}")
        crds: list[str] = []
        for directory in self.crd_dirs:
            crds += self.install_crds(sorted(_yaml_files(directory)), wait=False)
        self._wait(
            "the controller manager and scheduler /healthz",
            lambda: self._healthy("controller-manager") and self._healthy("scheduler"),
        )
        self._wait("the default ServiceAccount", lambda: self._exists(
            "/api/v1/namespaces/default/serviceaccounts/default"
        ))  # fmt: skip
        nodes = [f"{KWOK_NODE_PREFIX}{i}" for i in range(self.kwok_nodes)]
        if self.run_executor:
            nodes.append(JOB_EXECUTOR_NODE)
        for node in nodes:
            self._wait(f"node {node} Ready and schedulable", partial(self._node_ready, node))
        for crd in crds:
            self.wait_crd_established(crd)

    def _serving_pair(self, pki: Pki) -> CertPair:
        """The controller manager and scheduler serve /healthz with the API server's
        certificate (it names 127.0.0.1), so readiness checks can verify them."""
        return pki.apiserver

    def _write_kubeconfig(self, path: Path, user: CertPair) -> Path:
        assert self.pki is not None
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": CLUSTER_NAME,
                    "cluster": {
                        "server": f"https://127.0.0.1:{self.ports['apiserver']}",
                        "certificate-authority": str(self.pki.ca.cert),
                    },
                }
            ],
            "users": [
                {
                    "name": path.stem,
                    "user": {"client-certificate": str(user.cert), "client-key": str(user.key)},
                }
            ],
            "contexts": [
                {"name": CLUSTER_NAME, "context": {"cluster": CLUSTER_NAME, "user": path.stem}}
            ],
            "current-context": CLUSTER_NAME,
        }
        path.write_text(json.dumps(config, indent=2) + "\n")  # JSON is YAML, for every client
        path.chmod(0o600)
        return path

    def _spawn(
        self, name: str, argv: Sequence[str], env: dict[str, str] | None = None
    ) -> procs.Proc:
        proc = procs.spawn(
            name,
            argv,
            self.logs_dir / f"{name}.log",
            env=env,
            cwd=self.state_dir,
            owned=not self.detached,
        )
        self.procs.append(proc)
        return proc

    def _spawn_executor(self, pki: Pki) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(REPO_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
        )
        env["PYTHONUNBUFFERED"] = "1"
        self._spawn(
            "executor",
            [
                self.python, "-m", "tests.cluster.executor",
                "--port", str(self.ports["apiserver"]),
                "--ca", str(pki.ca.cert),
                "--cert", str(pki.executor.cert),
                "--key", str(pki.executor.key),
                "--work-dir", str(self.executor_dir),
                "--bin-dir", str(Path(self.python).parent),
            ],
            env,
        )  # fmt: skip

    def _write_state(self) -> None:
        state = {
            "kubeconfig": str(self.kubeconfig),
            "server": self.server,
            "ports": self.ports,
            "detached": self.detached,
            "processes": {p.name: p.pid for p in self.procs},
        }
        (self.state_dir / "state.json").write_text(json.dumps(state, indent=2) + "\n")

    def _install_signal_handlers(self) -> None:
        """SIGTERM and SIGHUP become KeyboardInterrupt, so pytest (or any caller) unwinds and
        stop() runs; restored by stop()."""
        if threading.current_thread() is not threading.main_thread():
            return

        def interrupt(signum: int, frame: FrameType | None) -> None:
            raise KeyboardInterrupt(f"signal {signum}")

        for sig in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(sig) is signal.SIG_DFL:
                self._old_handlers[sig] = signal.signal(sig, interrupt)

    # -- readiness ------------------------------------------------------------------------

    def _wait(self, what: str, ready: Callable[[], bool], timeout: float | None = None) -> None:
        deadline = time.monotonic() + (timeout or self.start_timeout)
        last_error: Exception | None = None
        while True:
            self._check_processes()
            try:
                if ready():
                    if self._t0 is not None:
                        self.timings[what] = round(time.monotonic() - self._t0, 2)
                    return
            except (ApiError, OSError) as e:
                last_error = e
            if time.monotonic() > deadline:
                raise ControlPlaneError(
                    f"timed out waiting for {what} (last error: {last_error})\n" + self._log_tails()
                )
            time.sleep(0.1)

    def _check_processes(self) -> None:
        for p in self.procs:
            if not p.alive():
                raise ControlPlaneError(
                    f"{p.name} exited with {p.exit_code()}; log {p.log}:\n{procs.tail(p.log)}"
                )

    def _log_tails(self) -> str:
        return "\n".join(f"--- {p.name} ({p.log}):\n{procs.tail(p.log, 15)}" for p in self.procs)

    def _apiserver_ready(self) -> bool:
        self.rest.request("GET", "/readyz", raw=True)
        return True

    def _healthy(self, component: str) -> bool:
        assert self.pki is not None
        probe = KubeRest("127.0.0.1", self.ports[component], self.pki.ca.cert, timeout=2)
        try:
            return probe.request("GET", "/healthz", raw=True).get("text") == "ok"
        finally:
            probe.close()

    def _exists(self, path: str) -> bool:
        try:
            self.rest.get(path)
        except ApiError as e:
            if e.status == 404:
                return False
            raise
        return True

    def _node_ready(self, name: str) -> bool:
        try:
            node = self.rest.get(f"/api/v1/nodes/{name}")
        except ApiError as e:
            if e.status == 404:
                return False
            raise
        conditions = node.get("status", {}).get("conditions") or []
        ready = any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)
        taints = {t["key"] for t in node.get("spec", {}).get("taints") or []}
        return ready and not taints & _UNSCHEDULABLE_TAINTS

    def _create_kwok_node(self, name: str) -> None:
        node = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": name,
                "annotations": {KWOK_NODE_ANNOTATION[0]: KWOK_NODE_ANNOTATION[1]},
                "labels": {
                    "kubernetes.io/hostname": name,
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64",
                    KWOK_NODE_LABEL[0]: KWOK_NODE_LABEL[1],
                },
            },
            "status": {
                "allocatable": {"cpu": "64", "memory": "256Gi", "pods": "250"},
                "capacity": {"cpu": "64", "memory": "256Gi", "pods": "250"},
            },
        }
        try:
            self.rest.create("/api/v1/nodes", node)
        except ApiError as e:
            if e.status != 409:
                raise

    # -- CRDs and namespaces --------------------------------------------------------------

    def install_crds(self, files: Iterable[Path], wait: bool = True) -> list[str]:
        """Creates (or replaces) every CustomResourceDefinition in the YAML ``files`` and,
        with ``wait``, waits until each is Established. Returns their names."""
        import yaml

        names: list[str] = []
        for file in files:
            for doc in yaml.safe_load_all(file.read_text()):
                if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
                    continue
                name = doc["metadata"]["name"]
                try:
                    self.rest.create(CRD_PATH, doc)
                except ApiError as e:
                    if e.status != 409:
                        raise ControlPlaneError(f"installing CRD {name} from {file}: {e}") from e
                    current = self.rest.get(f"{CRD_PATH}/{name}")
                    doc["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
                    self.rest.request("PUT", f"{CRD_PATH}/{name}", doc)
                names.append(name)
        if wait:
            for name in names:
                self.wait_crd_established(name)
        return names

    def wait_crd_established(self, name: str, timeout: float = 30.0) -> None:
        def established() -> bool:
            conditions = self.rest.get(f"{CRD_PATH}/{name}").get("status", {}).get("conditions")
            return any(
                c["type"] == "Established" and c["status"] == "True" for c in conditions or []
            )

        self._wait(f"CRD {name} Established", established, timeout)

    def create_namespace(self, prefix: str = "test") -> str:
        """Creates a namespace named after ``prefix`` with a random suffix and waits for its
        ``default`` ServiceAccount (pods cannot be created before it exists)."""
        name = f"{dns_label(prefix, 52)}-{secrets.token_hex(4)}"
        self.rest.create(
            "/api/v1/namespaces",
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
        )
        self._wait(
            f"ServiceAccount default in {name}",
            lambda: self._exists(f"/api/v1/namespaces/{name}/serviceaccounts/default"),
            30,
        )
        return name

    def delete_namespace(self, name: str, wait: bool = True) -> None:
        """Deletes the namespace and its workloads at once and, with ``wait``, returns once none
        is left (``settle_namespaces``): until then they are still going (Jobs and pods ending,
        watch events sent), and a test that starts meanwhile sees their events, logs and
        metrics as its own."""
        with contextlib.suppress(ApiError):
            self.rest.delete(f"/api/v1/namespaces/{name}", {"propagationPolicy": "Background"})
        # Terminating now, so nothing recreates them. The namespace controller would start on
        # them only after its fixed 5 s grace, and look again after half a pod's grace period.
        for path in _workload_paths(name):
            with contextlib.suppress(ApiError):
                self.rest.delete(path, {"propagationPolicy": "Background", "gracePeriodSeconds": 0})
        self.deleting.append(name)
        if wait:
            self.settle_namespaces()

    def settle_namespaces(self, timeout: float = 120.0) -> None:
        """No namespace deleted so far holds a workload any more (pods, Jobs, ReplicaSets,
        Deployments, StatefulSets): nothing of an earlier test runs or changes. What remains
        (ServiceAccounts, ConfigMaps, Secrets, Events: nothing a controller acts on) goes with
        the namespace a few seconds later."""
        while self.deleting:
            name = self.deleting.pop(
                0
            )  # one that never settles fails one wait, not every later one
            started = time.monotonic()
            self._wait(
                f"the workloads of namespace {name} gone", partial(self._emptied, name), timeout
            )
            self.settle_seconds.append(time.monotonic() - started)

    def _emptied(self, namespace: str) -> bool:
        return not any(self.rest.get(path).get("items") for path in _workload_paths(namespace))

    # -- the executor's pods --------------------------------------------------------------

    def pod_dir(self, namespace: str, pod: str) -> Path | None:
        """The executor's directory for a pod (its newest, if the name was reused)."""
        dirs = sorted(
            self.executor_dir.glob(f"pods/{namespace}_{pod}_*"), key=lambda p: p.stat().st_mtime
        )
        return dirs[-1] if dirs else None

    def pod_log(self, namespace: str, pod: str, container: str | None = None) -> str:
        """What a pod's container printed (stdout and stderr) when run by the job executor;
        there is no kubelet, so ``kubectl logs`` does not work."""
        directory = self.pod_dir(namespace, pod)
        if directory is None:
            return ""
        files = sorted(directory.glob(f"{container or '*'}.log"))
        return "".join(f.read_text(errors="replace") for f in files)

    # -- figures --------------------------------------------------------------------------

    def component_page(self, path: str, component: str = "controller-manager") -> str:
        """A page the controller manager serves to anyone: ``/metrics`` (its client-go
        metrics, Prometheus text) or ``/configz`` (the configuration it runs with, JSON)."""
        assert self.pki is not None, "the control plane has not been started"
        probe = KubeRest("127.0.0.1", self.ports[component], self.pki.ca.cert, timeout=10)
        try:
            return str(probe.request("GET", path, raw=True).get("text") or "")
        finally:
            probe.close()

    def rss_bytes(self) -> dict[str, int]:
        """Resident memory of each component (its whole process group), in bytes."""
        members = procs.group_members(p.pid for p in self.procs)
        return {p.name: procs.rss_bytes(members.get(p.pid, [])) for p in self.procs}

    # -- stop -----------------------------------------------------------------------------

    def stop(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        if self._rest is not None:
            self._rest.close()
        killed = stop_in_order(self.procs)
        if killed:
            print(f"control plane: SIGKILLed {', '.join(killed)}", file=sys.stderr)
        for sig, handler in self._old_handlers.items():
            with contextlib.suppress(ValueError):
                signal.signal(sig, handler)
        self._old_handlers.clear()
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)
        if self._own_state_dir:
            if os.environ.get(KEEP_STATE_ENV) == "1":
                print(f"control plane state kept in {self.state_dir}", file=sys.stderr)
            else:
                shutil.rmtree(self.state_dir, ignore_errors=True)

    def __enter__(self) -> ControlPlane:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- detached clusters ----------------------------------------------------------------

    @classmethod
    def stop_detached(cls, state_dir: Path) -> list[str]:
        """Stops the processes a detached ``up`` started in ``state_dir``; returns their names.
        A recorded pid whose process no longer runs this cluster's binary is left alone."""
        state_file = state_dir / "state.json"
        if not state_file.exists():
            return []
        state = json.loads(state_file.read_text())
        found: list[procs.Proc] = []
        for name, pid in state["processes"].items():
            if procs.pid_alive(pid) and _belongs_to(pid, state_dir):
                found.append(procs.Proc(name=name, pid=pid, log=state_dir / f"logs/{name}.log"))
        stop_in_order(found)
        state_file.unlink()
        return [p.name for p in found]


def stop_in_order(processes: Sequence[procs.Proc]) -> list[str]:
    """Stops the executor first (it kills the processes it started), then the Kubernetes
    components together, then etcd last (the API server's shutdown still writes to it).
    Returns the names of the processes that had to be SIGKILLed."""
    phases = [
        [p for p in processes if p.name == "executor"],
        [p for p in processes if p.name not in ("executor", "etcd")],
        [p for p in processes if p.name == "etcd"],
    ]
    killed: list[str] = []
    for phase in phases:
        if phase:
            killed += procs.stop_all(phase)
    return killed


def _workload_paths(namespace: str) -> list[str]:
    """The collections of what runs in a namespace, dependents before owners."""
    return [
        f"/api/v1/namespaces/{namespace}/pods",
        f"/apis/batch/v1/namespaces/{namespace}/jobs",
        f"/apis/apps/v1/namespaces/{namespace}/replicasets",
        f"/apis/apps/v1/namespaces/{namespace}/deployments",
        f"/apis/apps/v1/namespaces/{namespace}/statefulsets",
    ]


def _belongs_to(pid: int, state_dir: Path) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return str(state_dir).encode() in cmdline


def _yaml_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return [p for p in directory.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()]


# -- command line ---------------------------------------------------------------------------


def _kwok_pod_parallelism() -> int:
    """``KWOK_POD_PARALLELISM``, or the whole number above 0 in its environment variable."""
    raw = os.environ.get(KWOK_POD_PARALLELISM_ENV, "")
    if not raw:
        return KWOK_POD_PARALLELISM
    if not raw.isdigit() or int(raw) == 0:
        raise ControlPlaneError(f"${KWOK_POD_PARALLELISM_ENV}={raw!r}: not a whole number above 0")
    return int(raw)


def _limits_from_environment() -> ControllerLimits:
    try:
        return cluster_limits.from_environment()
    except ValueError as e:
        raise ControlPlaneError(str(e)) from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.cluster",
        description="Starts or stops a local Kubernetes control plane (see tests/cluster/).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start a detached cluster; print its kubeconfig path")
    up.add_argument("--state-dir", type=Path, required=True)
    up.add_argument("--kwok-nodes", type=int, default=1)
    up.add_argument(
        "--kwok-pod-parallelism",
        type=int,
        help=f"pod stages kwok plays at once (default: ${KWOK_POD_PARALLELISM_ENV} "
        f"or {KWOK_POD_PARALLELISM})",
    )
    up.add_argument(
        "--limits",
        choices=sorted(cluster_limits.LIMITS),
        help="the controller manager's client limits (tests/cluster/limits.py; default: "
        f"${cluster_limits.LIMITS_ENV} or {cluster_limits.DEFAULT.name})",
    )
    up.add_argument("--no-executor", action="store_true", help="do not run the job executor")
    up.add_argument("--crd-dir", type=Path, action="append", help="CRD directory (default: crds/)")
    down = sub.add_parser("down", help="stop the cluster started with up")
    down.add_argument("--state-dir", type=Path, required=True)
    sub.add_parser("build", help="build (or find) the binaries; print their directory")
    args = parser.parse_args(argv)

    if args.command == "build":
        print(find_binaries(build=True))
        return 0
    state_dir: Path = args.state_dir.resolve()
    if args.command == "down":
        stopped = ControlPlane.stop_detached(state_dir)
        print(f"stopped: {', '.join(stopped) or 'nothing was running'}", file=sys.stderr)
        return 0
    if (state_dir / "state.json").exists():
        ControlPlane.stop_detached(state_dir)
    if state_dir.exists() and any(state_dir.iterdir()):
        if not (state_dir / "pki").is_dir():
            print(f"error: {state_dir} is not empty and holds no cluster", file=sys.stderr)
            return 1
        shutil.rmtree(state_dir)  # a previous cluster's state
    state_dir.mkdir(parents=True, exist_ok=True)
    cp = ControlPlane(
        state_dir,
        kwok_nodes=args.kwok_nodes,
        kwok_pod_parallelism=args.kwok_pod_parallelism,
        limits=cluster_limits.LIMITS[args.limits] if args.limits else None,
        crd_dirs=args.crd_dir or DEFAULT_CRD_DIRS,
        executor=not args.no_executor,
        detached=True,
    )
    try:
        cp.start()
    except ControlPlaneError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(
        f"control plane ready in {cp.timings['ready']:.1f}s: {cp.server}; "
        f"limits {cp.limits.name}; "
        f"stop it with: python -m tests.cluster down --state-dir {state_dir}",
        file=sys.stderr,
    )
    print(cp.kubeconfig)
    return 0


if __name__ == "__main__":
    sys.exit(main())
