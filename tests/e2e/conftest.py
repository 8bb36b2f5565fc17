"""Fixtures for the end-to-end tests: a real local control plane (tests/cluster/).

* ``control_plane`` (session): one ControlPlane for the whole run, started on first use and
  stopped at the end, also on failure or Ctrl-C. Needs the binaries from
  ``tests/cluster/build.sh`` (scripts/setup runs it); without them the tests error with a
  message saying so.
* ``k8s`` (session): a ``kubernetes.client.ApiClient`` with the admin kubeconfig.
* ``namespace`` (function): a fresh namespace for one test, deleted afterwards.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # so that tests.cluster imports without an install
    sys.path.insert(0, str(REPO_ROOT))

from tests.cluster import ControlPlane  # noqa: E402

if TYPE_CHECKING:
    from kubernetes.client import ApiClient


@pytest.fixture(scope="session")
def control_plane() -> Iterator[ControlPlane]:
    cp = ControlPlane()
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
        control_plane.delete_namespace(name)
