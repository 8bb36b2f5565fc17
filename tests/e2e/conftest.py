"""Fixtures for the end-to-end tests: a real local control plane (tests/cluster/).

* ``control_plane`` (session): one ControlPlane for the whole run, started on first use and
  stopped at the end, also on failure or Ctrl-C. Needs the binaries from
  ``tests/cluster/build.sh`` (scripts/setup runs it); without them the tests error with a
  message saying so.
* ``k8s`` (session): a ``kubernetes.client.ApiClient`` with the admin kubeconfig.
* ``namespace`` (function): a fresh namespace for one test, deleted afterwards with its
  workloads; none of them is left when the next test's body starts (``settle_namespaces``):
  what is still going (Jobs and pods ending, watch events) would otherwise land in that test's
  operator log, events and metrics. The wait overlaps the next test's fixtures.

The job executor runs the project's Job pods in the image (podman) or as local processes
(``$MIGRATION_ROLLBACK_EXECUTOR``, see tests/cluster/executor.py): which one is printed when the
control plane starts and at the end of the run, with a warning when it fell back to processes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # so that tests.cluster imports without an install
    sys.path.insert(0, str(REPO_ROOT))

from tests.cluster import ControlPlane  # noqa: E402
from tests.cluster.executor import (  # noqa: E402
    EXECUTOR_ENV,
    IMAGE_ENV,
    PROBLEM_ENV,
    Runtime,
    choose_runtime,
)

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

_runtime: list[Runtime] = []
_planes: list[ControlPlane] = []  # for the summary of namespace waits


def executor_runtime() -> Runtime:
    """Where the job executor runs the project's Job pods (the image in podman, or local
    processes), decided once per session; the executor is told the decision."""
    if not _runtime:
        runtime = choose_runtime(os.environ)
        if runtime.mode == "podman" and runtime.problem is None:
            runtime = _rebuilt(runtime)
        _runtime.append(runtime)
        os.environ[EXECUTOR_ENV] = runtime.mode
        # Also when it fell back to processes: tests/e2e/test_image.py fails with it.
        problem = runtime.problem or runtime.note.removeprefix("WARNING: ")
        if runtime.problem is not None or runtime.note.startswith("WARNING"):
            os.environ[PROBLEM_ENV] = problem
    return _runtime[0]


def _rebuilt(runtime: Runtime) -> Runtime:
    """The image brought up to date with this checkout (scripts/image.sh: cached, seconds when
    nothing changed), so that the Jobs run the code under test; a failed build says why."""
    done = subprocess.run(
        ["bash", str(REPO_ROOT / "scripts" / "image.sh")],
        env={**os.environ, IMAGE_ENV: runtime.image},
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if done.returncode == 0:
        return runtime
    problem = f"scripts/image.sh failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}"
    if runtime.note == f"{EXECUTOR_ENV}=podman":
        return Runtime("podman", runtime.image, runtime.note, problem)
    return Runtime("process", runtime.image, f"WARNING: {problem}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _runtime:
        terminalreporter.write_line(_runtime[0].header())
    for plane in _planes:
        waits = plane.settle_seconds
        terminalreporter.write_line(
            f"namespaces awaited emptied: {len(waits)}, {sum(waits):.1f} s waiting in all "
            f"(longest {max(waits, default=0):.1f} s)"
        )


@pytest.fixture(scope="session")
def control_plane(pytestconfig: pytest.Config) -> Iterator[ControlPlane]:
    runtime = executor_runtime()
    reporter = pytestconfig.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line("")
        reporter.write_line(runtime.header())
    if runtime.problem is not None or runtime.note.startswith("WARNING"):
        warnings.warn(runtime.header(), stacklevel=1)
    cp = ControlPlane()
    _planes.append(cp)
    cp.start()
    try:
        yield cp
    finally:
        cp.stop()


@pytest.fixture(scope="session")
def k8s(control_plane: ControlPlane) -> Iterator[ApiClient]:
    client = control_plane.api_client()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def namespace(control_plane: ControlPlane, request: pytest.FixtureRequest) -> Iterator[str]:
    name = control_plane.create_namespace(request.node.name)
    try:
        yield name
    finally:
        control_plane.delete_namespace(name, wait=False)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    """No earlier test's namespace holds a workload when this test's body runs: checked after its
    fixtures, which overlap the deletion. One that never empties fails here, named after its
    test."""
    control_plane = getattr(item, "funcargs", {}).get("control_plane")
    if isinstance(control_plane, ControlPlane):
        control_plane.settle_namespaces()
