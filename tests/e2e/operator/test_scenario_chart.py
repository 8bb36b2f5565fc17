"""The Helm chart on a real API server, and the operator running with exactly its permissions.

The chart is rendered by helm (namespaced mode: it serves only the shop's namespace), applied
to the local control plane, and the operator is started with a token of the chart's own
ServiceAccount and the environment of the chart's Deployment. It then rolls back the shop's
migration end to end, and cannot read Secrets in a namespace it does not serve.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from scenario import OperatorProcess, Shop, chart_docs, chart_operator, wait_for
from tests.chart.helm import apply, find
from tests.cluster import JOB_NODE_SELECTOR, JOB_TOLERATIONS, ControlPlane

from migration_rollback import api

pytestmark = pytest.mark.e2e


def as_account(kubeconfig: Path) -> client.ApiClient:
    from kubernetes import config

    return config.new_client_from_config(config_file=str(kubeconfig), persist_config=False)


@pytest.fixture
def chart(
    shop: Shop, control_plane: ControlPlane, operator: OperatorProcess, tmp_path: Path
) -> Iterator[tuple[OperatorProcess, client.ApiClient, list[dict[str, Any]]]]:
    """The chart installed for the shop's namespace; its operator running instead of ours."""
    system = control_plane.create_namespace("chart-system")
    values = {
        "watchNamespaces": [shop.namespace],
        "image": {"repository": "migration-rollback", "tag": "e2e"},
        "operator": {
            # The local executor runs Job pods on its own node: how a user would pin Jobs to
            # a node pool.
            "jobPodOverrides": {"nodeSelector": JOB_NODE_SELECTOR, "tolerations": JOB_TOLERATIONS},
        },
        "networkPolicy": {"enabled": True},
        "podDisruptionBudget": {"enabled": True},
        "grafanaDashboard": {"enabled": True},
    }
    docs = chart_docs(values, system)
    apply(control_plane.api_client(), docs)
    ours = chart_operator(control_plane, docs, system, tmp_path / "chart-operator.log")
    operator.stop()  # only one operator may serve the shop's namespace
    try:
        ours.start()
        yield ours, as_account(ours.kubeconfig), docs
    finally:
        ours.stop()
        operator.start()
        control_plane.delete_namespace(system)


def forbidden(call: Any, *args: Any) -> bool:
    try:
        call(*args)
    except ApiException as exc:
        return exc.status == 403
    return False


def test_the_chart_applies_and_its_operator_rolls_back_with_only_its_rights(
    shop: Shop,
    control_plane: ControlPlane,
    chart: tuple[OperatorProcess, client.ApiClient, list[dict[str, Any]]],
) -> None:
    process, as_operator, docs = chart
    # The API server accepted every rendered object (server-side apply validates them).
    assert {d["kind"] for d in docs} >= {
        "CustomResourceDefinition", "ServiceAccount", "Role", "RoleBinding", "Deployment",
        "Service", "NetworkPolicy", "PodDisruptionBudget", "ConfigMap",
    }  # fmt: skip
    assert not find(docs, "ClusterRole")

    # Least privilege, as the API server enforces it for the chart's ServiceAccount.
    core = client.CoreV1Api(as_operator)
    custom = client.CustomObjectsApi(as_operator)
    assert core.read_namespaced_secret("shop-db", shop.namespace).data  # get, where it serves
    assert forbidden(core.list_namespaced_secret, shop.namespace)
    elsewhere = control_plane.create_namespace("not-watched")
    try:
        client.CoreV1Api(control_plane.api_client()).create_namespaced_secret(
            elsewhere, {"metadata": {"name": "other-db"}, "stringData": {"url": "postgres://x"}}
        )
        assert forbidden(core.read_namespaced_secret, "other-db", elsewhere)
        assert forbidden(core.list_namespaced_secret, elsewhere)
    finally:
        control_plane.delete_namespace(elsewhere)
    assert forbidden(custom.list_cluster_custom_object, api.GROUP, api.VERSION, api.PLURAL), (
        "namespaced mode must not list MigrationRollbacks cluster-wide"
    )
    assert forbidden(core.list_namespace)

    # The rollback, end to end, by the operator holding exactly those rights.
    waiting = shop.undo_social("undo-social")
    shop.annotate("undo-social", {api.APPROVAL_ANNOTATION: waiting["status"]["sqlSha256"]})
    done = shop.wait_phase("undo-social", "Succeeded", "Failed", timeout=180)
    assert done["status"]["phase"] == "Succeeded", done["status"].get("message")
    assert not shop.table_exists("public.timeline_likes")
    assert shop.replicas() == 3
    wait_for("3 ready pods", lambda: shop.ready_replicas() == 3)

    # The Job ran as the chart's Job account, without an API token.
    jobs = client.BatchV1Api(control_plane.api_client()).list_namespaced_job(shop.namespace)
    pods = [j.spec.template.spec for j in jobs.items]
    assert pods, "no rollback Job was created"
    assert {p.service_account_name for p in pods} == {"migration-rollback-job"}
    assert all(p.automount_service_account_token is False for p in pods)
    log = process.log_path.read_text()
    # A refused request shows as "(403) Reason: Forbidden" in kopf's and the client's errors.
    assert "Forbidden" not in log, log[-3000:]
