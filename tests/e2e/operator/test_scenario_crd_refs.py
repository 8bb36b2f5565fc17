"""A reference into another namespace (`urlSecretRef.namespace`, ...) is refused by the API
server, whatever the client's field validation: a field the schema does not declare is pruned
before any rule sees it, so the Secret would silently be read in the resource's namespace."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException
from scenario import SOCIAL, Shop
from tests.cluster import ControlPlane

from migration_rollback import api

pytestmark = pytest.mark.e2e
OWN_NAMESPACE = "the Secret is the one in the resource's own namespace"


def manifest(shop: Shop, name: str, secret_ref: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": api.API_VERSION, "kind": api.KIND,
        "metadata": {"name": name, "namespace": shop.namespace},
        "spec": {
            "migration": SOCIAL, "rollback": {"sql": "select 1"},
            "database": {"urlSecretRef": secret_ref},
            "workloads": [{"kind": "Deployment", "name": "shop-web"}],
        },
    }  # fmt: skip


def kubectl(control_plane: ControlPlane, doc: dict[str, Any], *flags: str) -> tuple[int, str, str]:
    """`kubectl apply --dry-run=server` of `doc`: its exit code, output and warnings/errors."""
    done = subprocess.run(
        ["kubectl", "--kubeconfig", str(control_plane.kubeconfig), "apply", "--dry-run=server",
         *flags, "-f", "-"],
        input=json.dumps(doc), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    return done.returncode, done.stdout, done.stderr


def test_a_secret_in_another_namespace_is_refused_naming_the_field(shop: Shop) -> None:
    with pytest.raises(ApiException) as info:
        shop.mrb("other-ns", migration=SOCIAL, rollback={"sql": "select 1"},
                 database={"urlSecretRef": {"name": "shop-db", "namespace": "prod"}})  # fmt: skip
    assert info.value.status == 422
    details = json.loads(info.value.body)["details"]
    causes = {c.get("field"): c.get("message") for c in details["causes"]}
    assert OWN_NAMESPACE in str(causes.get("spec.database.urlSecretRef")), causes


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_is_refused_even_with_field_validation_off(
    shop: Shop, control_plane: ControlPlane
) -> None:
    doc = manifest(shop, "other-ns-kubectl", {"name": "shop-db", "namespace": "prod"})
    for flags in ((), ("--validate=false",)):
        code, _, said = kubectl(control_plane, doc, *flags)
        assert code != 0, (flags, said)
        assert OWN_NAMESPACE in said, (flags, said)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_an_undeclared_field_is_refused_by_default_and_pruned_without_validation(
    shop: Shop, control_plane: ControlPlane
) -> None:
    """What a field the CRD does not declare meets (how `namespace` fared before it was
    declared): kubectl's default strict validation refuses it; `--validate=warn` warns and
    drops it, as does any client sending no field validation (the API server's default)."""
    doc = manifest(shop, "typo-kubectl", {"name": "shop-db", "nameSpace": "prod"})
    code, _, said = kubectl(control_plane, doc)
    assert code != 0, said
    assert 'unknown field "spec.database.urlSecretRef.nameSpace"' in said, said
    code, out, said = kubectl(control_plane, doc, "--validate=warn", "-o", "json")
    assert code == 0, said
    assert 'unknown field "spec.database.urlSecretRef.nameSpace"' in said, said
    stored = json.loads(out)
    assert stored["spec"]["database"]["urlSecretRef"] == {"name": "shop-db", "key": "url"}
