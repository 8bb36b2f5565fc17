"""/readyz is 200 only while the operator sees what it acts on, on the real API server.

A rolling update, or `kubectl wait --for=condition=Available`, trusts the operator once it is
Ready: it must not be while the API server refuses one of its watches (the chart's Role lacks
Jobs in a watched namespace) or does not serve MigrationRollbacks at all (the CRD not yet
installed). /healthz answers all along: a restart fixes neither. Each case waits for the refusal
to have happened (kopf's log, or the operator saying what it waits for), then for readiness once
the cause is gone: no sleeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from scenario import REPO, OperatorProcess, chart_docs, chart_operator, wait_for
from tests.chart.helm import apply
from tests.cluster import ControlPlane
from tests.cluster.controlplane import CRD_PATH
from tests.cluster.rest import ApiError

from migration_rollback import api

pytestmark = pytest.mark.e2e
CRD = f"{api.PLURAL}.{api.GROUP}"


@pytest.fixture
def system(control_plane: ControlPlane) -> Iterator[str]:
    """The namespace the chart is installed in (its ServiceAccount, Leases)."""
    name = control_plane.create_namespace("ready-system")
    try:
        yield name
    finally:
        control_plane.delete_namespace(name)


def without_jobs(role: dict[str, Any]) -> dict[str, Any]:
    rules = [r for r in role["rules"] if "jobs" not in r["resources"]]
    assert len(rules) < len(role["rules"]), "the chart's Role has no rule for Jobs"
    return {**role, "rules": rules}


def test_not_ready_while_rbac_refuses_the_jobs_watch_then_ready_once_granted(
    control_plane: ControlPlane, namespace: str, system: str, tmp_path: Path
) -> None:
    docs = chart_docs({"watchNamespaces": [namespace]}, system)
    [role] = [d for d in docs if d["kind"] == "Role" and d["metadata"]["namespace"] == namespace]
    k8s = control_plane.api_client()
    apply(k8s, [without_jobs(role) if d is role else d for d in docs])
    process = chart_operator(control_plane, docs, system, tmp_path / "operator.log")
    process.start(wait_ready=False)
    try:
        jobs_url = f"/apis/batch/v1/namespaces/{namespace}/jobs"
        wait_for(
            "kopf's Jobs watch to be refused",
            lambda: any(
                "Forbidden" in line and jobs_url in line for line in process.log_text().splitlines()
            ),
        )
        # Every other watch listed; this one is named, and the operator is alive, not ready.
        only_jobs = (
            f"waiting for the first listing of jobs.batch in namespace {namespace} "
            "(refused or not done yet)\n"
        )
        wait_for("only the Jobs watch to be missing", lambda: process.readiness() == only_jobs)
        assert process.alive()
        assert not process.ready()

        apply(k8s, [role])  # kopf retries the refused list: no restart needed
        wait_for("ready once the Role allows the Jobs watch", process.ready, timeout=60)
        assert f"jobs.batch in namespace {namespace}" in process.readiness()
    finally:
        process.stop()
        k8s.close()


def crd_gone(control_plane: ControlPlane) -> bool:
    try:
        control_plane.rest.get(f"{CRD_PATH}/{CRD}")
    except ApiError as exc:
        if exc.status == 404:
            return True
        raise
    return False


@pytest.fixture
def crd_removed(control_plane: ControlPlane, operator: OperatorProcess) -> Iterator[None]:
    """The CRD deleted (no operator running: its watch would fail with it), put back after."""
    control_plane.settle_namespaces()  # earlier tests' resources finalized by the operator
    custom = client.CustomObjectsApi(control_plane.api_client())
    left = custom.list_cluster_custom_object(api.GROUP, api.VERSION, api.PLURAL)["items"]
    # Deleting the CRD deletes every resource: only when an earlier test left none.
    assert not left, f"resources left by earlier tests: {[i['metadata'] for i in left]}"
    operator.stop()
    try:
        control_plane.rest.delete(f"{CRD_PATH}/{CRD}")
        wait_for("the CRD gone", lambda: crd_gone(control_plane))
        yield
    finally:
        control_plane.install_crds(sorted((REPO / "crds").glob("*.yaml")))
        operator.stop()
        operator.start()


def test_not_ready_while_the_crd_is_not_served_then_ready_once_installed(
    control_plane: ControlPlane, operator: OperatorProcess, crd_removed: None
) -> None:
    operator.start(wait_ready=False)
    wait_for(
        "the operator to wait for the CRD",
        lambda: (
            f"waiting for the {CRD}/{api.VERSION} resource to be served" in operator.readiness()
        ),
    )
    assert operator.alive()
    assert not operator.ready()

    control_plane.install_crds(sorted((REPO / "crds").glob("*.yaml")))
    wait_for("ready once the CRD is installed", operator.ready, timeout=60)
    assert f"{CRD} cluster-wide" in operator.readiness()
