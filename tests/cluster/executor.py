"""The test cluster's job executor: a stand-in kubelet that runs pods as local processes.

It registers the node ``JOB_EXECUTOR_NODE`` (labelled and tainted, see constants.py), keeps its
Lease renewed, watches the pods bound to it and, for each one, does what a kubelet would do for
a pod without images:

* resolves every container's environment: ``env`` (``value`` with ``$(VAR)`` expansion,
  ``valueFrom.secretKeyRef`` / ``configMapKeyRef`` / ``fieldRef`` / ``resourceFieldRef``) and
  ``envFrom`` (Secrets and ConfigMaps, with ``prefix`` and ``optional``). A missing Secret,
  ConfigMap or key leaves the container Waiting with ``CreateContainerConfigError`` and is
  retried, as the kubelet does;
* runs init containers one after the other, then the containers, each as
  ``command + args`` (``$(VAR)`` expanded) in a process session of its own. The image is not
  used, so ``command`` is required. PATH starts with the test virtualenv's ``bin`` directory,
  so the ``migration-rollback`` console script is found. The working directory is
  ``workingDir`` if it exists on this machine, else the pod's directory;
* reports the pod status (phase Running, then Succeeded or Failed; container states with exit
  code, reason, start and finish times and the termination message) with the same strategic
  merge patches a kubelet sends, so the Job controller completes or fails the Job;
* restarts failed containers when ``restartPolicy`` is ``OnFailure`` (back-off 1 s doubling up
  to 10 s), and fails the pod after ``spec.activeDeadlineSeconds`` (a Job's
  ``activeDeadlineSeconds`` is enforced by the Job controller, which deletes the pods);
* on deletion, sends SIGTERM to the process group, SIGKILL after the grace period (at most
  30 s), reports the final status and removes the pod (grace 0), as a kubelet does.

Files, per pod, in ``<work-dir>/pods/<namespace>_<pod>_<uid[:8]>/``:

* ``<container>.log``: stdout and stderr together (there is no ``kubectl logs``);
* ``<container>.termination-log``: the container's termination message file. It replaces the
  container's ``terminationMessagePath`` (default ``/dev/termination-log``): its path is in
  ``$TERMINATION_MESSAGE_PATH``, and every literal occurrence of ``terminationMessagePath`` in
  the command, args and env values is rewritten to it. As in the kubelet, the message is the
  file's content (at most 4096 bytes) or, if the file is empty and the policy is
  ``FallbackToLogsOnError`` and the container failed, the last 80 lines (2048 bytes at most)
  of its output;
* ``kubeconfig``: unless token automounting is off, a kubeconfig with a token of the pod's
  ServiceAccount (a TokenRequest bound to the pod) in ``$KUBECONFIG``, in place of the
  in-cluster config (``KUBERNETES_SERVICE_HOST`` is not set).

* ``volumes``: ``configMap``, ``secret``, ``emptyDir`` and ``persistentVolumeClaim`` volumes are
  materialised as directories (a claim's directory outlives its pods, as a volume does), and a
  command, arg or env value that is a mounted path (or ``--flag=`` one) is rewritten to the
  local directory, since a local process cannot mount anything.

**The image** (``MIGRATION_ROLLBACK_EXECUTOR=podman``): containers whose image is the project's
(repository name ``migration-rollback``, any registry or tag) run in the image built from this
checkout by ``scripts/image.sh`` (``$MIGRATION_ROLLBACK_IMAGE``, default
``localhost/migration-rollback:dev``) with ``podman run``, as a kubelet would: the image's
ENTRYPOINT/CMD unless ``command``/``args`` override them, the resolved environment, the
volumes above bind-mounted at their ``mountPath`` (configMaps and secrets read-only), the
termination message file at ``terminationMessagePath``, the pod's or container's
``runAsUser``/``runAsGroup``, a read-only root filesystem with a tmpfs ``/tmp``, all
capabilities dropped, no new privileges, and the host network (so 127.0.0.1 is this machine).
Other images (the tests' ``unused.invalid/...`` stand-ins) still run as local processes. With
``process`` (or where podman or the image is missing: see ``choose_runtime``), every container
runs as a local process. The e2e run prints which, at its start and its end.

Not supported: other volume types, probes, sidecar (restartable init) containers, ports,
resource limits, and (for local processes) images and security contexts.

Run by ControlPlane as ``python -m tests.cluster.executor`` from the repository root.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .constants import (
    JOB_EXECUTOR_LABEL,
    JOB_EXECUTOR_NODE,
    JOB_EXECUTOR_TAINT,
    POD_KUBECONFIG_ENV,
    TERMINATION_MESSAGE_PATH_ENV,
)
from .procs import die_with_parent, signal_group
from .rest import JSON, STRATEGIC_MERGE_PATCH, ApiError, KubeRest

LEASE_SECONDS = 40
LEASE_RENEW_SECONDS = 10
MAX_GRACE_SECONDS = 30
MAX_MESSAGE_BYTES = 4096
MAX_LOG_MESSAGE_BYTES = 2048
MAX_LOG_MESSAGE_LINES = 80
KUBELET_VERSION = "v1.36.3"

#: ``podman`` (the project's image runs in podman) or ``process`` (everything as local
#: processes); unset: podman when it works and the image is built, else process (with a warning).
EXECUTOR_ENV = "MIGRATION_ROLLBACK_EXECUTOR"
IMAGE_ENV = "MIGRATION_ROLLBACK_IMAGE"
DEFAULT_IMAGE = "localhost/migration-rollback:dev"
#: Set by the e2e fixtures when the image could not be brought up to date (scripts/image.sh
#: failed): the executor then reports that instead of running a stale image.
PROBLEM_ENV = "MIGRATION_ROLLBACK_EXECUTOR_PROBLEM"
#: What the unset variable means: podman when it works and the image exists, else local
#: processes with a warning.
DEFAULT_MODE = "auto"
#: The images run in podman: any whose repository's last component is this.
PROJECT_IMAGE_NAME = "migration-rollback"
#: runc, not crun (crun fails on hybrid cgroups), and explicit ulimits (as scripts/image.sh).
PODMAN = ("podman", "--runtime", "runc")
PODMAN_LIMITS = ("--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768")
CONTAINER_LABEL = "migration-rollback.test/executor"
#: Environment names that would change podman's own behaviour if inherited: passed on its
#: command line instead of through its environment.
_PODMAN_OWN_ENV = frozenset(
    {"PATH", "HOME", "TMPDIR", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "LANG"}
)

_stop = threading.Event()


def log(message: str) -> None:
    stamp = time.strftime("%H:%M:%S", time.gmtime())
    print(f"{stamp} executor: {message}", flush=True)


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def micro_now() -> str:
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1e6):06d}Z"


_VAR_REF = re.compile(r"\$\$|\$\(([-._a-zA-Z][-._a-zA-Z0-9]*)\)")


def expand(text: str, env: Mapping[str, str]) -> str:
    """Kubernetes' ``$(VAR)`` expansion: defined variables are replaced, ``$$`` becomes ``$``,
    undefined references are left as they are."""

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1)
        return env.get(name, m.group(0))

    return _VAR_REF.sub(sub, text)


def remap_path(value: str, mounts: list[tuple[str, Path]]) -> str:
    """A mounted path (``/backups/x``, or ``--dir=/backups``) as the local directory's path."""
    flag, eq, rest = value.partition("=")
    if eq and rest.startswith("/"):
        return f"{flag}={remap_path(rest, mounts)}"
    for mount, local in mounts:
        if value == mount or value.startswith(mount.rstrip("/") + "/"):
            return str(local) + value[len(mount.rstrip("/")) :]
    return value


@dataclass(frozen=True)
class Runtime:
    """Where the project's image runs: ``mode`` "podman" or "process", and why."""

    mode: str
    image: str
    note: str
    problem: str | None = None  # podman asked for explicitly but unusable: pods fail with it

    def header(self) -> str:
        if self.mode == "podman" and self.problem is None:
            return f"job executor: Job pods of the project run in the image {self.image} (podman)"
        if self.problem is not None:
            return f"job executor: ERROR: {EXECUTOR_ENV}=podman, but {self.problem}"
        return f"job executor: Job pods run as local processes, not in the image ({self.note})"


def podman_problem(image: str) -> str | None:
    """None if podman runs here and has ``image``; else what is wrong, exactly."""
    if shutil.which("podman") is None:
        return "podman is not installed (scripts/image.sh installs it and builds the image)"
    try:
        info = subprocess.run(
            [*PODMAN, "info", "--format", "{{.Host.OCIRuntime.Name}}"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"podman info failed: {e}"
    if info.returncode != 0:
        return f"podman does not work here: {(info.stderr or info.stdout).strip()}"
    exists = subprocess.run(
        ["podman", "image", "exists", image], capture_output=True, timeout=60, check=False
    )
    if exists.returncode != 0:
        return f"the image {image} is not built (make image, or scripts/image.sh)"
    return None


def choose_runtime(environ: Mapping[str, str]) -> Runtime:
    """The runtime for the project's image, from ``$MIGRATION_ROLLBACK_EXECUTOR``."""
    image = environ.get(IMAGE_ENV) or DEFAULT_IMAGE
    asked = environ.get(EXECUTOR_ENV, "").strip().lower()
    if asked not in ("", "podman", "process", "auto"):
        raise ValueError(f"{EXECUTOR_ENV}={asked!r}: expected podman or process")
    mode = asked or DEFAULT_MODE
    if mode == "process":
        why = f"{EXECUTOR_ENV}=process" if asked else f"the default; {EXECUTOR_ENV}=podman runs it"
        return Runtime("process", image, why)
    problem = environ.get(PROBLEM_ENV) or podman_problem(image)
    if problem is None:
        return Runtime("podman", image, f"{EXECUTOR_ENV}={mode}")
    if mode == "podman":
        return Runtime("podman", image, f"{EXECUTOR_ENV}=podman", problem)
    return Runtime("process", image, f"WARNING: {problem}")


def is_project_image(image: str) -> bool:
    """``migration-rollback:e2e``, ``ghcr.io/acme/migration-rollback@sha256:...`` and the like."""
    name = image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0]
    return name == PROJECT_IMAGE_NAME


def podman_kill(name: str, sig: str) -> None:
    """Signals a container by name (its `podman run` client only forwards what it receives)."""
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        subprocess.run(
            ["podman", "kill", "--signal", sig, name], capture_output=True, timeout=30, check=False
        )


def remove_stale_containers() -> None:
    """Removes containers left by executors whose work directory is gone (killed with -9)."""
    with contextlib.suppress(OSError, subprocess.TimeoutExpired, ValueError):
        listing = subprocess.run(
            ["podman", "ps", "--all", "--filter", f"label={CONTAINER_LABEL}", "--format", "json"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        for container in json.loads(listing.stdout or "[]"):
            work_dir = (container.get("Labels") or {}).get(CONTAINER_LABEL, "")
            if work_dir and not Path(work_dir).exists():
                subprocess.run(
                    ["podman", "rm", "--force", "--time", "0", container["Id"]],
                    capture_output=True,
                    timeout=60,
                    check=False,
                )


class ConfigError(Exception):
    """A container's environment cannot be built yet (CreateContainerConfigError)."""


@dataclass
class Container:
    spec: JSON
    init: bool
    log_file: Path
    term_file: Path
    proc: subprocess.Popen[bytes] | None = None
    started_at: str | None = None
    restarts: int = 0
    state: JSON = field(default_factory=lambda: {"waiting": {"reason": "ContainerCreating"}})
    last_state: JSON = field(default_factory=dict)
    exit_code: int | None = None
    next_start: float = 0.0
    backoff: float = 1.0
    podman_name: str | None = None  # set while it runs in podman (the image)

    @property
    def name(self) -> str:
        return str(self.spec["name"])

    def status(self) -> JSON:
        running = "running" in self.state
        return {
            "name": self.name,
            "image": self.spec.get("image", ""),
            "imageID": "",
            "containerID": (
                f"podman://{self.podman_name}"
                if self.podman_name
                else f"executor://{self.proc.pid}"
                if self.proc
                else ""
            ),
            "ready": running,
            "started": running,
            "restartCount": self.restarts,
            "state": self.state,
            "lastState": self.last_state,
        }


class PodRunner(threading.Thread):
    """Runs one pod from start to finish (and its deletion)."""

    def __init__(self, executor: Executor, pod: JSON) -> None:
        meta = pod["metadata"]
        super().__init__(name=f"pod-{meta['namespace']}/{meta['name']}", daemon=True)
        self.ex = executor
        self.pod = pod
        self.ns: str = meta["namespace"]
        self.pod_name: str = meta["name"]
        self.uid: str = meta["uid"]
        self.spec: JSON = pod["spec"]
        self.dir = executor.work_dir / "pods" / f"{self.ns}_{self.pod_name}_{self.uid[:8]}"
        self.delete_requested = threading.Event()
        self.grace = float(MAX_GRACE_SECONDS)
        self.start_time = now()
        self.started_mono = time.monotonic()
        self.init_containers = [
            self._container(c, True) for c in self.spec.get("initContainers") or []
        ]
        self.containers = [self._container(c, False) for c in self.spec["containers"]]
        self.initialized = not self.init_containers
        self.message: str | None = None
        self.reason: str | None = None

    def _container(self, spec: JSON, init: bool) -> Container:
        return Container(
            spec=spec,
            init=init,
            log_file=self.dir / f"{spec['name']}.log",
            term_file=self.dir / f"{spec['name']}.termination-log",
        )

    # -- requests from the watch ------------------------------------------------------

    def request_delete(self, grace: float | None) -> None:
        if grace is not None:
            self.grace = max(0.0, min(float(grace), MAX_GRACE_SECONDS))
        self.delete_requested.set()

    # -- the pod's life ---------------------------------------------------------------

    def run(self) -> None:
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            self._run()
        except Exception:
            log(f"{self.ns}/{self.pod_name}: runner failed:\n{traceback.format_exc()}")
            self._kill_all(0)
            with contextlib.suppress(Exception):
                self.reason, self.message = "ExecutorError", "the job executor failed; see its log"
                self._report("Failed")
        finally:
            if self.delete_requested.is_set():
                self.ex.delete_pod_now(self.ns, self.pod_name, self.uid)
            self.ex.runner_done(self.uid)

    def _run(self) -> None:
        log(f"{self.ns}/{self.pod_name}: starting ({self.uid})")
        deadline = self.spec.get("activeDeadlineSeconds")
        restart_policy = self.spec.get("restartPolicy", "Always")
        for c in self.init_containers:
            if c.spec.get("restartPolicy") == "Always":
                self.reason = "Unsupported"
                self.message = (
                    "the test job executor does not run sidecar (restartable init) containers"
                )
                self._report("Failed")
                return
        self._report("Pending")
        pending_init = list(self.init_containers)
        while True:
            if _stop.is_set():
                self._kill_all(0)
                return
            if self.delete_requested.is_set():
                self._kill_all(self.grace)
                self._finish(failed_on_kill=True)
                return
            if deadline is not None and time.monotonic() - self.started_mono > float(deadline):
                self._kill_all(self.grace)
                self.reason = "DeadlineExceeded"
                self.message = (
                    f"Pod was active on the node longer than the specified deadline ({deadline}s)"
                )
                self._finish(failed_on_kill=True)
                return
            changed = False
            if pending_init:
                c = pending_init[0]
                changed |= self._step(c, restart_policy)
                if c.exit_code == 0:
                    pending_init.pop(0)
                    if not pending_init:
                        self.initialized = True
                    changed = True
                elif c.exit_code is not None and restart_policy == "Never":
                    self._finish()
                    return
            else:
                for c in self.containers:
                    changed |= self._step(c, restart_policy)
                if all(c.exit_code is not None for c in self.containers):
                    self._finish()
                    return
            if changed:
                running = self.initialized and any(
                    c.proc and "running" in c.state for c in self.containers
                )
                self._report("Running" if running else "Pending")
            time.sleep(0.05)

    def _step(self, c: Container, restart_policy: str) -> bool:
        """Starts, polls or restarts one container; True if its state changed."""
        if c.proc is None:
            if c.exit_code is not None or time.monotonic() < c.next_start:
                return False
            changed = self._start(c)
            if c.exit_code is not None:  # it could not start
                self._maybe_restart(c, restart_policy)
            return changed
        code = c.proc.poll()
        if code is None:
            return False
        self._terminated(c, code)
        self._maybe_restart(c, restart_policy)
        return True

    def _maybe_restart(self, c: Container, restart_policy: str) -> None:
        """After a container ended: schedules its restart in place after a back-off, as the
        kubelet does, if the restart policy asks for one."""
        failed = c.exit_code != 0
        if (failed and restart_policy in ("OnFailure", "Always")) or (
            restart_policy == "Always" and not c.init
        ):
            c.last_state = c.state
            c.state = {
                "waiting": {"reason": "CrashLoopBackOff", "message": f"back-off {c.backoff:.0f}s"}
            }
            c.restarts += 1
            c.proc = None
            c.exit_code = None
            c.next_start = time.monotonic() + c.backoff
            c.backoff = min(c.backoff * 2, 10.0)

    def _start(self, c: Container) -> bool:
        try:
            env = self.ex.container_env(self.pod, c.spec)
            kubeconfig = self.ex.pod_kubeconfig(self.pod, self.dir)
            mounts = self.ex.mount_volumes(self.pod, c.spec, self.dir)
        except ConfigError as e:
            waiting = {"reason": "CreateContainerConfigError", "message": str(e)}
            if c.state != {"waiting": waiting}:
                c.state = {"waiting": waiting}
                log(f"{self.ns}/{self.pod_name}/{c.name}: {e}")
                c.next_start = time.monotonic() + 1.0
                return True
            c.next_start = time.monotonic() + 1.0
            return False
        term_path = c.spec.get("terminationMessagePath") or "/dev/termination-log"
        c.term_file.write_bytes(b"")
        if is_project_image(str(c.spec.get("image", ""))) and self.ex.runtime.mode == "podman":
            return self._start_podman(c, env, mounts, kubeconfig, term_path)
        env = {k: remap_path(v, mounts) for k, v in env.items()}
        env = {k: v.replace(term_path, str(c.term_file)) for k, v in env.items()}
        env[TERMINATION_MESSAGE_PATH_ENV] = str(c.term_file)
        if kubeconfig is not None and POD_KUBECONFIG_ENV not in env:
            env[POD_KUBECONFIG_ENV] = str(kubeconfig)
        full_env = {**self.ex.base_env(self.pod), **env}
        argv = [
            remap_path(expand(a, full_env), mounts).replace(term_path, str(c.term_file))
            for a in (c.spec.get("command") or []) + (c.spec.get("args") or [])
        ]
        started = now()
        if not c.spec.get("command"):
            self._start_error(
                c, started, "the test job executor runs no images: the container needs a command"
            )
            return True
        workdir = c.spec.get("workingDir")
        cwd = Path(workdir) if workdir and Path(workdir).is_dir() else self.dir
        parent = os.getpid()
        try:
            with open(c.log_file, "ab") as out:
                c.proc = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=full_env,
                    cwd=cwd,
                    start_new_session=True,
                    preexec_fn=lambda: die_with_parent(parent),
                )
        except OSError as e:
            self._start_error(c, started, f"failed to start {argv[0]!r}: {e.strerror or e}")
            return True
        c.started_at = started
        c.state = {"running": {"startedAt": started}}
        log(f"{self.ns}/{self.pod_name}/{c.name}: started pid {c.proc.pid}: {argv}")
        return True

    def _start_podman(
        self,
        c: Container,
        env: dict[str, str],
        mounts: list[tuple[str, Path]],
        kubeconfig: Path | None,
        term_path: str,
    ) -> bool:
        """The container in the project's image, with ``podman run`` (see the module's doc)."""
        started = now()
        runtime = self.ex.runtime
        if runtime.problem is not None:
            self._start_error(c, started, f"{EXECUTOR_ENV}=podman, but {runtime.problem}")
            return True
        spec = c.spec
        name = f"mrb-{self.uid[:8]}-{c.name}-{c.restarts}"
        pod_sc = self.spec.get("securityContext") or {}
        sc = spec.get("securityContext") or {}
        argv = [
            *PODMAN,
            "run",
            "--rm",
            "--name",
            name,
            "--label",
            f"{CONTAINER_LABEL}={self.ex.label}",
            "--network",
            "host",
            "--hostname",
            self.pod_name[:63],
            *PODMAN_LIMITS,
            "--pull",
            "never",
            "--cap-drop",
            "ALL",
        ]
        for cap in (sc.get("capabilities") or {}).get("add") or []:
            argv += ["--cap-add", str(cap)]
        if sc.get("allowPrivilegeEscalation") is not True:
            argv += ["--security-opt", "no-new-privileges"]
        if sc.get("readOnlyRootFilesystem", True):
            argv += ["--read-only"]
        uid = sc.get("runAsUser", pod_sc.get("runAsUser"))
        gid = sc.get("runAsGroup", pod_sc.get("runAsGroup"))
        if uid is not None:
            argv += ["--user", f"{uid}:{gid}" if gid is not None else str(uid)]
        for group in [pod_sc.get("fsGroup"), *(pod_sc.get("supplementalGroups") or [])]:
            if group is not None:
                argv += ["--group-add", str(group)]
        if spec.get("workingDir"):
            argv += ["--workdir", str(spec["workingDir"])]
        # Volumes: configMaps and secrets read-only, as the kubelet mounts them.
        volumes = {v["name"]: v for v in self.spec.get("volumes") or []}
        read_only = {
            str(m["mountPath"])
            for m in spec.get("volumeMounts") or []
            if m.get("readOnly")
            or any(k in volumes.get(m["name"], {}) for k in ("configMap", "secret", "projected"))
        }
        for mount_path, local in mounts:
            argv += ["--volume", f"{local}:{mount_path}{':ro' if mount_path in read_only else ''}"]
        if not any(m == "/tmp" for m, _ in mounts):
            argv += ["--tmpfs", "/tmp:rw,mode=1777"]
        c.term_file.chmod(0o666)  # written by the container's user
        argv += ["--volume", f"{c.term_file}:{term_path}"]
        if kubeconfig is not None:  # the token's kubeconfig, and the CA it names, at their paths
            kubeconfig.chmod(0o644)
            argv += ["--volume", f"{kubeconfig}:{kubeconfig}:ro"]
            argv += ["--volume", f"{self.ex.ca_file}:{self.ex.ca_file}:ro"]
            env.setdefault(POD_KUBECONFIG_ENV, str(kubeconfig))
        # Values reach the container through podman's environment (`--env NAME`), so that
        # secrets are on no command line; names that steer podman itself are given literally.
        podman_env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
        for key, value in env.items():
            if key in _PODMAN_OWN_ENV:
                argv += ["--env", f"{key}={value}"]
            else:
                argv += ["--env", key]
                podman_env[key] = value
        command = [expand(a, env) for a in spec.get("command") or []]
        if command:
            argv += ["--entrypoint", json.dumps(command)]
        argv += [runtime.image, *(expand(a, env) for a in spec.get("args") or [])]
        parent = os.getpid()
        try:
            with open(c.log_file, "ab") as out:
                c.proc = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=podman_env,
                    cwd=self.dir,
                    start_new_session=True,
                    preexec_fn=lambda: die_with_parent(parent),
                )
        except OSError as e:
            self._start_error(c, started, f"failed to start podman: {e.strerror or e}")
            return True
        c.podman_name = name
        c.started_at = started
        c.state = {"running": {"startedAt": started}}
        log(f"{self.ns}/{self.pod_name}/{c.name}: started in {runtime.image} as {name}")
        return True

    def _start_error(self, c: Container, started: str, message: str) -> None:
        """Like containerd's exec failure: terminated with exit code 128, reason StartError."""
        c.exit_code = 128
        c.state = {
            "terminated": {
                "exitCode": 128,
                "reason": "StartError",
                "message": message,
                "startedAt": started,
                "finishedAt": now(),
            }
        }
        c.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(c.log_file, "a") as f:
            f.write(message + "\n")
        log(f"{self.ns}/{self.pod_name}/{c.name}: {message}")

    def _terminated(self, c: Container, code: int) -> None:
        exit_code = 128 - code if code < 0 else code  # killed by signal N -> 128 + N
        c.exit_code = exit_code
        terminated: JSON = {
            "exitCode": exit_code,
            "reason": "Completed" if exit_code == 0 else "Error",
            "startedAt": c.started_at or now(),
            "finishedAt": now(),
            "containerID": f"executor://{c.proc.pid}" if c.proc else "",
        }
        if code < 0:
            terminated["signal"] = -code
        message = self._termination_message(c, exit_code)
        if message:
            terminated["message"] = message
        c.state = {"terminated": terminated}
        log(f"{self.ns}/{self.pod_name}/{c.name}: exited with {exit_code}")

    def _termination_message(self, c: Container, exit_code: int) -> str:
        try:
            data = c.term_file.read_bytes()[:MAX_MESSAGE_BYTES]
        except OSError:
            data = b""
        if data:
            return data.decode("utf-8", "replace")
        if exit_code != 0 and c.spec.get("terminationMessagePolicy") == "FallbackToLogsOnError":
            try:
                lines = c.log_file.read_bytes().splitlines(keepends=True)[-MAX_LOG_MESSAGE_LINES:]
            except OSError:
                return ""
            return b"".join(lines)[-MAX_LOG_MESSAGE_BYTES:].decode("utf-8", "replace")
        return ""

    def _kill_all(self, grace: float) -> None:
        running = [
            c for c in self.init_containers + self.containers if c.proc and c.proc.poll() is None
        ]
        for c in running:
            assert c.proc is not None
            if c.podman_name:
                podman_kill(c.podman_name, "TERM" if grace > 0 else "KILL")
            else:
                signal_group(c.proc.pid, signal.SIGTERM if grace > 0 else signal.SIGKILL)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(
            c.proc and c.proc.poll() is None for c in running
        ):
            time.sleep(0.05)
        for c in running:
            assert c.proc is not None
            if c.podman_name and c.proc.poll() is None:
                podman_kill(c.podman_name, "KILL")
            signal_group(c.proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                c.proc.wait(timeout=5)
            if c.exit_code is None:
                self._terminated(c, c.proc.returncode if c.proc.returncode is not None else -9)

    def _finish(self, failed_on_kill: bool = False) -> None:
        for c in self.init_containers + self.containers:
            if c.exit_code is None and "terminated" not in c.state:
                # Never started (e.g. its init container failed, or the pod was deleted first).
                c.state = {
                    "waiting": {"reason": "PodInitializing" if not c.init else "ContainerCreating"}
                }
                if self.initialized and not c.init:
                    # What a kubelet (1.27+) writes for it: an end with no container, no start.
                    c.state = {"terminated": {"exitCode": 137, "reason": "ContainerStatusUnknown",
                               "message": "The container could not be located when the pod "
                               "was terminated", "finishedAt": now()}}  # fmt: skip
        ran = [c for c in self.containers if c.exit_code is not None]
        ok = (
            self.initialized
            and len(ran) == len(self.containers)
            and all(c.exit_code == 0 for c in ran)
            and not (failed_on_kill and self.reason)
        )
        self._report("Succeeded" if ok else "Failed")

    # -- status -----------------------------------------------------------------------

    def _report(self, phase: str) -> None:
        t = now()
        terminal = phase in ("Succeeded", "Failed")
        ready = phase == "Running" and all("running" in c.state for c in self.containers)
        cond_reason = "PodCompleted" if terminal else ("" if ready else "ContainersNotReady")

        def cond(kind: str, status: bool, reason: str = "") -> JSON:
            c: JSON = {
                "type": kind,
                "status": "True" if status else "False",
                "lastTransitionTime": t,
            }
            if reason and not status:
                c["reason"] = reason
            return c

        status: JSON = {
            "phase": phase,
            "hostIP": "127.0.0.1",
            "hostIPs": [{"ip": "127.0.0.1"}],
            "podIP": "127.0.0.1",
            "podIPs": [{"ip": "127.0.0.1"}],
            "startTime": self.start_time,
            "conditions": [
                cond("PodReadyToStartContainers", not terminal),
                cond("Initialized", self.initialized, "ContainersNotInitialized"),
                cond("ContainersReady", ready, cond_reason),
                cond("Ready", ready, cond_reason),
            ],
            "containerStatuses": [c.status() for c in self.containers],
        }
        if self.init_containers:
            status["initContainerStatuses"] = [c.status() for c in self.init_containers]
        if self.reason:
            status["reason"] = self.reason
        if self.message:
            status["message"] = self.message
        try:
            self.ex.rest.patch(
                f"/api/v1/namespaces/{self.ns}/pods/{self.pod_name}/status",
                {"metadata": {"uid": self.uid}, "status": status},
                STRATEGIC_MERGE_PATCH,
            )
        except ApiError as e:
            if e.status not in (404, 409):
                raise
            log(f"{self.ns}/{self.pod_name}: status not written: {e}")


class Executor:
    def __init__(
        self,
        rest: KubeRest,
        node: str,
        work_dir: Path,
        bin_dir: Path | None,
        ca_file: Path,
    ) -> None:
        self.rest = rest
        self.node = node
        self.work_dir = work_dir
        self.bin_dir = bin_dir
        self.ca_file = ca_file
        self.runtime = choose_runtime(os.environ)
        self.label = str(work_dir.resolve())
        self.uid = ""
        self.runners: dict[str, PodRunner] = {}
        self.finished: set[str] = set()
        self.lock = threading.Lock()

    # -- node and lease ---------------------------------------------------------------

    def register_node(self) -> None:
        node: JSON = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": self.node,
                "labels": {
                    "kubernetes.io/hostname": self.node,
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64",
                    JOB_EXECUTOR_LABEL[0]: JOB_EXECUTOR_LABEL[1],
                },
            },
            "spec": {
                "taints": [
                    {
                        "key": JOB_EXECUTOR_TAINT[0],
                        "value": JOB_EXECUTOR_TAINT[1],
                        "effect": JOB_EXECUTOR_TAINT[2],
                    }
                ]
            },
        }
        try:
            created = self.rest.create("/api/v1/nodes", node)
        except ApiError as e:
            if e.status != 409:
                raise
            created = self.rest.get(f"/api/v1/nodes/{self.node}")
        self.uid = created["metadata"]["uid"]
        self.update_node_status()
        self.renew_lease()
        log(f"node {self.node} registered")

    def update_node_status(self) -> None:
        t = now()
        conditions = [
            ("Ready", "True", "KubeletReady", "job executor is ready"),
            ("MemoryPressure", "False", "KubeletHasSufficientMemory", ""),
            ("DiskPressure", "False", "KubeletHasNoDiskPressure", ""),
            ("PIDPressure", "False", "KubeletHasSufficientPID", ""),
        ]
        resources = {"cpu": "64", "memory": "256Gi", "pods": "250", "ephemeral-storage": "1Ti"}
        status = {
            "conditions": [
                {
                    "type": kind,
                    "status": value,
                    "reason": reason,
                    "message": message,
                    "lastHeartbeatTime": t,
                    "lastTransitionTime": t,
                }
                for kind, value, reason, message in conditions
            ],
            "capacity": resources,
            "allocatable": resources,
            "addresses": [
                {"type": "InternalIP", "address": "127.0.0.1"},
                {"type": "Hostname", "address": self.node},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 0}},
            "nodeInfo": {
                "machineID": "",
                "systemUUID": "",
                "bootID": "",
                "kernelVersion": os.uname().release,
                "osImage": "migration-rollback test job executor",
                "containerRuntimeVersion": "executor://0.1",
                "kubeletVersion": KUBELET_VERSION,
                "kubeProxyVersion": "",
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
            "phase": "Running",
        }
        self.rest.patch(
            f"/api/v1/nodes/{self.node}/status", {"status": status}, STRATEGIC_MERGE_PATCH
        )

    def renew_lease(self) -> None:
        path = f"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{self.node}"
        spec = {
            "holderIdentity": self.node,
            "leaseDurationSeconds": LEASE_SECONDS,
            "renewTime": micro_now(),
        }
        try:
            self.rest.patch(path, {"spec": spec})
        except ApiError as e:
            if e.status != 404:
                raise
            self.rest.create(
                "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases",
                {
                    "apiVersion": "coordination.k8s.io/v1",
                    "kind": "Lease",
                    "metadata": {
                        "name": self.node,
                        "namespace": "kube-node-lease",
                        "ownerReferences": [
                            {"apiVersion": "v1", "kind": "Node", "name": self.node, "uid": self.uid}
                        ],
                    },
                    "spec": spec,
                },
            )

    def lease_loop(self) -> None:
        ticks = 0
        while not _stop.wait(LEASE_RENEW_SECONDS):
            ticks += 1
            try:
                self.renew_lease()
                if ticks % 6 == 0:  # the node status heartbeat, every minute
                    self.update_node_status()
            except (ApiError, OSError) as e:
                log(f"lease renewal failed: {e}")

    # -- pods -------------------------------------------------------------------------

    def watch_loop(self) -> None:
        path = "/api/v1/pods"
        selector = {"fieldSelector": f"spec.nodeName={self.node}"}
        backoff = 0.2
        while not _stop.is_set():
            try:
                listing = self.rest.get(path, **selector)
                for pod in listing.get("items") or []:
                    self.handle(pod)
                rv = listing["metadata"]["resourceVersion"]
                while not _stop.is_set():
                    params = {
                        **selector,
                        "resourceVersion": rv,
                        "allowWatchBookmarks": True,
                        "timeoutSeconds": 300,
                    }
                    for event in self.rest.watch(path, params):
                        kind, obj = event["type"], event["object"]
                        if kind == "ERROR":
                            raise ApiError(
                                "WATCH", path, int(obj.get("code", 500)), json.dumps(obj)
                            )
                        rv = obj["metadata"].get("resourceVersion", rv)
                        if kind in ("ADDED", "MODIFIED"):
                            self.handle(obj)
                        elif kind == "DELETED":
                            self.handle_deleted(obj)
                    backoff = 0.2
            except (ApiError, OSError, ValueError, KeyError) as e:
                if not _stop.is_set():
                    log(f"watch: {e}; listing again")
                    time.sleep(backoff)
                    backoff = min(backoff * 2, 5.0)

    def handle(self, pod: JSON) -> None:
        meta = pod["metadata"]
        uid = meta["uid"]
        deleting = meta.get("deletionTimestamp") is not None
        with self.lock:
            runner = self.runners.get(uid)
            if runner is not None:
                if deleting:
                    runner.request_delete(meta.get("deletionGracePeriodSeconds"))
                return
            if uid in self.finished:
                if deleting:
                    self.delete_pod_now(meta["namespace"], meta["name"], uid)
                return
            phase = pod.get("status", {}).get("phase", "Pending")
            if deleting:
                self.finished.add(uid)
                self.delete_pod_now(meta["namespace"], meta["name"], uid)
            elif phase in ("Succeeded", "Failed"):
                self.finished.add(uid)
            elif phase == "Running":
                # Running, but not by this executor (it was restarted): the process is gone.
                self.finished.add(uid)
                self._mark_lost(pod)
            else:
                runner = PodRunner(self, pod)
                self.runners[uid] = runner
                runner.start()

    def handle_deleted(self, pod: JSON) -> None:
        uid = pod["metadata"]["uid"]
        with self.lock:
            runner = self.runners.get(uid)
        if runner is not None:
            runner.request_delete(0)

    def runner_done(self, uid: str) -> None:
        with self.lock:
            self.runners.pop(uid, None)
            self.finished.add(uid)

    def delete_pod_now(self, ns: str, name: str, uid: str) -> None:
        with contextlib.suppress(ApiError):
            self.rest.delete(
                f"/api/v1/namespaces/{ns}/pods/{name}",
                {"gracePeriodSeconds": 0, "preconditions": {"uid": uid}},
            )
            log(f"{ns}/{name}: deleted")

    def _mark_lost(self, pod: JSON) -> None:
        meta = pod["metadata"]
        statuses = [
            {
                "name": c["name"],
                "image": c.get("image", ""),
                "imageID": "",
                "ready": False,
                "restartCount": 0,
                "state": {
                    "terminated": {
                        "exitCode": 137,
                        "reason": "ContainerStatusUnknown",
                        "finishedAt": now(),
                    }
                },
            }
            for c in pod["spec"]["containers"]
        ]
        with contextlib.suppress(ApiError):
            self.rest.patch(
                f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}/status",
                {
                    "metadata": {"uid": meta["uid"]},
                    "status": {
                        "phase": "Failed",
                        "reason": "ExecutorRestarted",
                        "message": "the job executor restarted and lost this pod's processes",
                        "containerStatuses": statuses,
                    },
                },
                STRATEGIC_MERGE_PATCH,
            )

    def stop_all(self) -> None:
        with self.lock:
            runners = list(self.runners.values())
        for r in runners:
            r._kill_all(2.0)

    # -- environment ------------------------------------------------------------------

    def base_env(self, pod: JSON) -> dict[str, str]:
        """What every container starts from: this machine's PATH (after the test virtualenv's
        bin directory), HOME, locale and TMPDIR, PYTHONPATH (so a worktree sharing the virtualenv
        runs its own code in the Jobs), and HOSTNAME set to the pod's name."""
        kept = ("HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "PYTHONPATH")
        env = {k: v for k, v in os.environ.items() if k in kept}
        path = os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin")
        if self.bin_dir is not None:
            path = f"{self.bin_dir}{os.pathsep}{path}"
        env["PATH"] = path
        env["HOSTNAME"] = pod["metadata"]["name"]
        return env

    def _get_optional(self, kind: str, ns: str, name: str) -> JSON | None:
        try:
            return self.rest.get(f"/api/v1/namespaces/{ns}/{kind}/{name}")
        except ApiError as e:
            if e.status == 404:
                return None
            raise

    def _source_data(self, kind: str, ns: str, name: str, optional: bool) -> dict[str, str] | None:
        obj = self._get_optional(kind, ns, name)
        singular = "secret" if kind == "secrets" else "configmap"
        if obj is None:
            if optional:
                return None
            raise ConfigError(f'{singular} "{name}" not found')
        if kind == "secrets":
            return {
                k: base64.b64decode(v).decode("utf-8", "surrogateescape")
                for k, v in (obj.get("data") or {}).items()
            }
        data = dict(obj.get("data") or {})
        for k, v in (obj.get("binaryData") or {}).items():
            data[k] = base64.b64decode(v).decode("utf-8", "surrogateescape")
        return data

    def mount_volumes(self, pod: JSON, spec: JSON, pod_dir: Path) -> list[tuple[str, Path]]:
        """Materialises the container's volume mounts; (mountPath, local dir), longest first."""
        ns = pod["metadata"]["namespace"]
        volumes = {v["name"]: v for v in pod["spec"].get("volumes") or []}
        mounts: list[tuple[str, Path]] = []
        for mount in spec.get("volumeMounts") or []:
            volume = volumes.get(mount["name"])
            if volume is None:
                raise ConfigError(f"volume {mount['name']!r} is not defined in the pod")
            local = self._volume_dir(ns, volume, pod_dir)
            if local is None:
                continue  # e.g. the projected service-account token: $KUBECONFIG stands in
            sub = mount.get("subPath")
            mounts.append((str(mount["mountPath"]), local / sub if sub else local))
        return sorted(mounts, key=lambda m: len(m[0]), reverse=True)

    def _volume_dir(self, ns: str, volume: JSON, pod_dir: Path) -> Path | None:
        name = volume["name"]
        if "persistentVolumeClaim" in volume:
            claim = volume["persistentVolumeClaim"]["claimName"]
            path = self.work_dir / "volumes" / ns / claim
            path.mkdir(parents=True, exist_ok=True)
            path.chmod(0o777)  # writable by any container user, as an emptyDir
            return path
        path = pod_dir / "volumes" / name
        if not any(k in volume for k in ("configMap", "secret", "emptyDir")):
            log(f"volume {name!r}: not materialised (only configMap, secret, emptyDir and PVC are)")
            return None
        path.mkdir(parents=True, exist_ok=True)
        for key, kind in (("configMap", "configmaps"), ("secret", "secrets")):
            source = volume.get(key)
            if source is None:
                continue
            ref = source.get("name") or source.get("secretName")
            data = self._source_data(kind, ns, ref, bool(source.get("optional"))) or {}
            items = source.get("items") or [{"key": k, "path": k} for k in data]
            for item in items:
                if item["key"] not in data:
                    raise ConfigError(f"couldn't find key {item['key']} in {kind[:-1]} {ns}/{ref}")
                target = path / item["path"]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(data[item["key"]], "utf-8", "surrogateescape")
            return path
        path.chmod(0o777)  # an emptyDir: world-writable, as the kubelet makes it
        return path

    def container_env(self, pod: JSON, spec: JSON) -> dict[str, str]:
        """The container's environment from envFrom and env, resolved as the kubelet does."""
        ns = pod["metadata"]["namespace"]
        env: dict[str, str] = {}
        for source in spec.get("envFrom") or []:
            prefix = source.get("prefix", "")
            for key, kind in (("configMapRef", "configmaps"), ("secretRef", "secrets")):
                ref = source.get(key)
                if ref:
                    data = self._source_data(kind, ns, ref["name"], bool(ref.get("optional")))
                    for k, v in (data or {}).items():
                        env[prefix + k] = v
        for var in spec.get("env") or []:
            name = var["name"]
            if "valueFrom" not in var:
                env[name] = expand(var.get("value", ""), env)
                continue
            value = self._value_from(pod, spec, var["valueFrom"])
            if value is not None:
                env[name] = value
        return env

    def _value_from(self, pod: JSON, spec: JSON, source: JSON) -> str | None:
        ns = pod["metadata"]["namespace"]
        for key, kind in (("secretKeyRef", "secrets"), ("configMapKeyRef", "configmaps")):
            ref = source.get(key)
            if ref:
                optional = bool(ref.get("optional"))
                data = self._source_data(kind, ns, ref["name"], optional)
                if data is None:
                    return None
                if ref["key"] not in data:
                    if optional:
                        return None
                    singular = "secret" if kind == "secrets" else "configmap"
                    raise ConfigError(
                        f"couldn't find key {ref['key']} in {singular} {ns}/{ref['name']}"
                    )
                return data[ref["key"]]
        if "fieldRef" in source:
            return self._field(pod, source["fieldRef"]["fieldPath"])
        if "resourceFieldRef" in source:
            resource = source["resourceFieldRef"]["resource"]
            kind, _, name = resource.partition(".")
            value = (spec.get("resources") or {}).get(kind, {}).get(name)
            return str(value) if value is not None else "0"
        raise ConfigError(f"unsupported valueFrom: {json.dumps(source)}")

    @staticmethod
    def _field(pod: JSON, path: str) -> str:
        meta, spec = pod["metadata"], pod["spec"]
        m = re.fullmatch(r"metadata\.(labels|annotations)\['(.+)'\]", path)
        if m:
            return str((meta.get(m.group(1)) or {}).get(m.group(2), ""))
        values = {
            "metadata.name": meta["name"],
            "metadata.namespace": meta["namespace"],
            "metadata.uid": meta["uid"],
            "spec.nodeName": spec.get("nodeName", ""),
            "spec.serviceAccountName": spec.get("serviceAccountName", ""),
            "status.hostIP": "127.0.0.1",
            "status.hostIPs": "127.0.0.1",
            "status.podIP": "127.0.0.1",
            "status.podIPs": "127.0.0.1",
        }
        if path in values:
            return str(values[path])
        if path in ("metadata.labels", "metadata.annotations"):
            items = meta.get(path.split(".")[1]) or {}
            return "\n".join(f'{k}="{v}"' for k, v in sorted(items.items()))
        raise ConfigError(f"unsupported fieldRef: {path}")

    def pod_kubeconfig(self, pod: JSON, directory: Path) -> Path | None:
        """A kubeconfig with a token of the pod's ServiceAccount, bound to the pod; None if the
        pod or its ServiceAccount opts out of token automounting."""
        meta, spec = pod["metadata"], pod["spec"]
        ns, sa = meta["namespace"], spec.get("serviceAccountName") or "default"
        automount = spec.get("automountServiceAccountToken")
        if automount is None:
            account = self._get_optional("serviceaccounts", ns, sa)
            automount = (account or {}).get("automountServiceAccountToken", True)
        if automount is False:
            return None
        path = directory / "kubeconfig"
        if path.exists():
            return path
        request = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {
                "expirationSeconds": 3600,
                "boundObjectRef": {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "name": meta["name"],
                    "uid": meta["uid"],
                },
            },
        }
        try:
            token = self.rest.create(f"/api/v1/namespaces/{ns}/serviceaccounts/{sa}/token", request)
        except ApiError as e:
            raise ConfigError(f"token for service account {ns}/{sa}: {e}") from e
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "cluster",
                    "cluster": {
                        "server": f"https://{self.rest.host}:{self.rest.port}",
                        "certificate-authority": str(self.ca_file),
                    },
                }
            ],
            "users": [{"name": sa, "user": {"token": token["status"]["token"]}}],
            "contexts": [
                {"name": "pod", "context": {"cluster": "cluster", "user": sa, "namespace": ns}}
            ],
            "current-context": "pod",
        }
        path.write_text(json.dumps(config, indent=2) + "\n")
        path.chmod(0o600)
        return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.cluster.executor", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ca", type=Path, required=True)
    parser.add_argument("--cert", type=Path, required=True)
    parser.add_argument("--key", type=Path, required=True)
    parser.add_argument("--node-name", default=JOB_EXECUTOR_NODE)
    parser.add_argument("--work-dir", type=Path, required=True)
    parser.add_argument("--bin-dir", type=Path, help="put first on the containers' PATH")
    args = parser.parse_args(argv)

    def on_signal(signum: int, frame: Any) -> None:
        _stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    rest = KubeRest(args.host, args.port, args.ca, args.cert, args.key)
    executor = Executor(rest, args.node_name, args.work_dir, args.bin_dir, args.ca)
    log(executor.runtime.header())
    if executor.runtime.mode == "podman":
        remove_stale_containers()
    while not _stop.is_set():
        try:
            executor.register_node()
            break
        except (ApiError, OSError) as e:
            log(f"waiting for the API server: {e}")
            _stop.wait(0.3)
    threading.Thread(target=executor.lease_loop, name="lease", daemon=True).start()
    threading.Thread(target=executor.watch_loop, name="watch", daemon=True).start()
    while not _stop.wait(1.0):
        pass
    log("stopping: killing the processes of running pods")
    executor.stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
