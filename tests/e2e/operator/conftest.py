"""Fixtures for operator scenarios (helpers in scenario.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client
from scenario import (
    OPERATOR_NAMESPACE,
    OperatorProcess,
    Shop,
    ShopEndpoints,
    shop_database,
    wait_for,
)
from tests.cluster import ControlPlane

from migration_rollback import api


@pytest.fixture
def namespace(
    namespace: str, control_plane: ControlPlane, endpoints: ShopEndpoints
) -> Iterator[str]:
    """The test's namespace; at its end its MigrationRollbacks are deleted and finalized by the
    operator before the namespace goes: the namespace controller would only start after its
    5 s grace, then wait 8 s more for the finalizers it found. `endpoints` is set up before
    and so closed after this: a resource left in maintenance mode (a failure held for a
    human) is finalized by turning it off there; closed first, its finalizer failed on every
    try, and the resource, left behind, kept the next tests' app-down gauge up (CI at
    68f62a4: held-down's gauge never cleared after crash-resume failed)."""
    yield namespace
    custom = client.CustomObjectsApi(control_plane.api_client())
    custom.delete_collection_namespaced_custom_object(api.GROUP, api.VERSION, namespace, api.PLURAL)

    def finalized() -> bool:
        listed = custom.list_namespaced_custom_object(api.GROUP, api.VERSION, namespace, api.PLURAL)
        return not listed["items"]

    wait_for(f"the MigrationRollbacks in {namespace} finalized by the operator", finalized, 60)


@pytest.fixture(scope="session")
def operator(
    control_plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    core = client.CoreV1Api(control_plane.api_client())
    try:
        core.create_namespace({"metadata": {"name": OPERATOR_NAMESPACE}})
    except client.exceptions.ApiException as exc:
        if exc.status != 409:
            raise
    process = OperatorProcess(
        control_plane.kubeconfig, tmp_path_factory.mktemp("operator") / "operator.log"
    )
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def endpoints() -> Iterator[ShopEndpoints]:
    server = ShopEndpoints()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def shop(
    namespace: str,
    control_plane: ControlPlane,
    pg_server: Any,
    endpoints: ShopEndpoints,
    operator: OperatorProcess,
) -> Iterator[Shop]:
    """The example Supabase project applied up to its third migration, and its app running."""
    dbname, url, files = shop_database(pg_server)
    k8s = control_plane.api_client()
    shop = Shop(namespace, url, k8s, endpoints, [f.stem for f in files])
    shop.core.create_namespaced_secret(
        namespace, {"metadata": {"name": "shop-db"}, "stringData": {"url": url}}
    )
    shop.core.create_namespaced_secret(
        namespace,
        {
            "metadata": {"name": "shop-admin-token"},
            "stringData": {"Authorization": "Bearer s3cret-token"},
        },
    )
    labels = {"app": "shop-web", "app.kubernetes.io/part-of": "shop"}
    shop.apps.create_namespaced_deployment(
        namespace,
        {
            "metadata": {"name": "shop-web", "labels": labels},
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": {"app": "shop-web"}},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "web", "image": "shop/web:1"}]},
                },
            },
        },
    )
    wait_for("shop-web to have 3 ready pods", lambda: shop.ready_replicas() == 3)
    # Earlier tests' namespaces emptied (overlapping this setup) before a fixture stops the
    # operator or the test starts.
    control_plane.settle_namespaces()
    try:
        yield shop
    finally:
        k8s.close()
        pg_server.drop_database(dbname)
