"""The Helm chart, rendered by helm: lint, the CRD's single source, hardening, RBAC, alerts.

What the API server makes of the rendered chart, and an operator running with exactly its
permissions, are in tests/e2e/operator/test_scenario_chart.py.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml
from tests.chart.helm import CHART, REPO, container_env, find, helm, one, render

from migration_rollback.metrics import REGISTRY
from migration_rollback.settings import POD_OVERRIDE_FIELDS, Settings

CRD_SOURCE = REPO / "crds" / "rollback.migrations.dev_migrationrollbacks.yaml"
EVERYTHING_ON = {
    "metrics": {"serviceMonitor": {"enabled": True}, "prometheusRule": {"enabled": True}},
    "grafanaDashboard": {"enabled": True},
    "networkPolicy": {"enabled": True},
    "podDisruptionBudget": {"enabled": True},
}


def metric_names() -> set[str]:
    """Every series name the operator exports, also for labelled families with no sample yet."""
    suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"], "gauge": [""]}
    return {
        family.name + suffix
        for family in REGISTRY.collect()
        for suffix in suffixes.get(family.type, [""])
    }


def metrics_in(expr: str) -> set[str]:
    return set(re.findall(r"\bmigration_rollback_[a-z_]+", expr))


def test_helm_lint_passes_in_both_rbac_modes() -> None:
    for extra in ([], ["--set", "watchNamespaces={shop,billing}"]):
        out = helm("lint", "--strict", str(CHART), *extra)
        assert out.returncode == 0, out.stdout + out.stderr
        assert "0 chart(s) failed" in out.stdout


def test_the_crd_is_the_one_in_crds() -> None:
    source = yaml.safe_load(CRD_SOURCE.read_text())
    rendered = one(render(), "CustomResourceDefinition")
    # Compared as JSON so that 5 and 5.0, or "5" and 5, would differ.
    assert json.dumps(rendered["spec"], sort_keys=True) == json.dumps(
        source["spec"], sort_keys=True
    )
    assert rendered["metadata"]["name"] == source["metadata"]["name"]
    assert rendered["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"


def test_the_crd_can_be_left_out_or_left_to_go() -> None:
    assert not find(render({"crds": {"install": False}}), "CustomResourceDefinition")
    crd = one(render({"crds": {"keep": False}}), "CustomResourceDefinition")
    assert "helm.sh/resource-policy" not in (crd["metadata"].get("annotations") or {})


def test_the_operator_pod_is_hardened() -> None:
    deployment = one(render(), "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    (container,) = pod["containers"]
    sc = container["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"]["drop"] == ["ALL"]
    assert container["args"] == ["operator"]
    assert container["resources"]["requests"]["memory"]
    assert container["resources"]["limits"]["memory"]
    health = next(p for p in container["ports"] if p["name"] == "health")
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "health"}
    env = container_env(deployment)
    assert int(env["HEALTH_PORT"]) == health["containerPort"]


def test_the_operator_reads_exactly_the_settings_the_chart_gives_it() -> None:
    values = {
        "watchNamespaces": ["shop", "billing"],
        "operator": {
            "maxConcurrentRollbacks": 7,
            "leaderElection": False,
            "jobPodOverrides": {"nodeSelector": {"pool": "db-tools"}},
        },
        "ports": {"metrics": 9100, "health": 9101},
        "image": {"repository": "registry.example/mr", "tag": "1.2.3"},
    }
    env = container_env(one(render(values), "Deployment"))
    settings = Settings.from_env(env)
    assert settings.watch_namespaces == ("shop", "billing")
    assert settings.max_workers == 7
    assert settings.leader_election is False
    assert settings.job_pod_overrides == {"nodeSelector": {"pool": "db-tools"}}
    assert (settings.metrics_port, settings.health_port) == (9100, 9101)
    assert settings.image == "registry.example/mr:1.2.3"
    assert settings.job_service_account == "migration-rollback-job"


ONE_OF_EACH_OVERRIDE: dict[str, Any] = {
    "affinity": {"nodeAffinity": {}},
    "dnsConfig": {"options": [{"name": "ndots", "value": "2"}]},
    "dnsPolicy": "ClusterFirst",
    "hostAliases": [{"ip": "10.0.0.9", "hostnames": ["db.internal"]}],
    "imagePullSecrets": [{"name": "registry"}],
    "nodeName": "node-1",
    "nodeSelector": {"pool": "db-tools"},
    "preemptionPolicy": "Never",
    "priority": 1000,
    "priorityClassName": "tools",
    "runtimeClassName": "gvisor",
    "schedulerName": "default-scheduler",
    "tolerations": [{"key": "tools", "operator": "Exists"}],
    "topologySpreadConstraints": [],
}


def test_the_chart_allows_exactly_the_pod_overrides_the_operator_takes() -> None:
    # The schema allowed 5 fields and the operator 14: a chart user could not set the other
    # nine, and a field the schema allowed but the operator refused would stop it at start.
    schema = json.loads((CHART / "values.schema.json").read_text(encoding="utf-8"))
    overrides = schema["properties"]["operator"]["properties"]["jobPodOverrides"]
    assert set(overrides["properties"]) == POD_OVERRIDE_FIELDS == set(ONE_OF_EACH_OVERRIDE)
    assert overrides["additionalProperties"] is False
    env = container_env(
        one(render({"operator": {"jobPodOverrides": ONE_OF_EACH_OVERRIDE}}), "Deployment")
    )
    assert Settings.from_env(env).job_pod_overrides == ONE_OF_EACH_OVERRIDE


def test_the_chart_refuses_a_pod_override_the_operator_would_refuse() -> None:
    with pytest.raises(ValueError, match="hostUsers"):
        render({"operator": {"jobPodOverrides": {"hostUsers": False}}})


def test_a_digest_pins_the_image_for_the_operator_and_its_jobs() -> None:
    digest = "sha256:" + "a" * 64
    deployment = one(render({"image": {"digest": digest}}), "Deployment")
    image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image.endswith("@" + digest)
    assert container_env(deployment)["JOB_IMAGE"] == image


def rules_of(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return list(doc.get("rules") or [])


def test_cluster_wide_mode_binds_one_cluster_role() -> None:
    docs = render()
    (role,) = find(docs, "ClusterRole")
    assert one(docs, "ClusterRoleBinding")["roleRef"]["name"] == role["metadata"]["name"]
    # The only Role is the Lease role in the operator's own namespace.
    assert [r["metadata"]["name"] for r in find(docs, "Role")] == ["mr-migration-rollback-leases"]
    assert "JOB_SERVICE_ACCOUNT" not in container_env(one(docs, "Deployment"))


def test_namespaced_mode_has_no_cluster_wide_permission() -> None:
    docs = render({"watchNamespaces": ["shop", "billing"]})
    assert not find(docs, "ClusterRole")
    assert not find(docs, "ClusterRoleBinding")
    roles = {(r["metadata"]["namespace"], r["metadata"]["name"]) for r in find(docs, "Role")}
    assert roles == {
        ("shop", "mr-migration-rollback"),
        ("billing", "mr-migration-rollback"),
        ("migration-rollback-system", "mr-migration-rollback-leases"),
    }
    job_accounts = [
        sa
        for sa in find(docs, "ServiceAccount")
        if sa["metadata"]["name"] == "migration-rollback-job"
    ]
    assert {sa["metadata"]["namespace"] for sa in job_accounts} == {"shop", "billing"}
    assert all(sa["automountServiceAccountToken"] is False for sa in job_accounts)


@pytest.mark.parametrize("values", [{}, {"watchNamespaces": ["shop"]}])
def test_rbac_is_least_privilege(values: dict[str, Any]) -> None:
    docs = render(values)
    for doc in find(docs, "Role") + find(docs, "ClusterRole"):
        for rule in rules_of(doc):
            assert "*" not in rule["verbs"], rule
            assert "*" not in rule["resources"], rule
            assert "*" not in rule["apiGroups"], rule
            if "secrets" in rule["resources"]:
                assert rule["verbs"] == ["get"], "Secrets: get only, never list or watch"
            for forbidden in ("escalate", "bind", "impersonate"):
                assert forbidden not in rule["verbs"], rule
            assert not {"roles", "clusterroles", "rolebindings", "nodes"} & set(rule["resources"])


def test_alerts_use_metrics_the_operator_exports() -> None:
    rule = one(render(EVERYTHING_ON), "PrometheusRule")
    alerts = {r["alert"]: r for g in rule["spec"]["groups"] for r in g["rules"]}
    assert {
        "MigrationRollbackFailed",
        "MigrationRollbackStuck",
        "MigrationRollbackAppHeldDown",
    } <= set(alerts)
    exported = metric_names()
    for name, alert in alerts.items():
        for metric in metrics_in(alert["expr"]):
            assert metric in exported, f"{name} uses {metric}, which the operator does not export"
        assert alert["annotations"]["runbook_url"].split("#")[1] == name.lower()


def test_alert_thresholds_follow_the_values() -> None:
    values = {
        "metrics": {"prometheusRule": {"enabled": True, "stuckMinutes": 45, "appDownMinutes": 5}}
    }
    rule = one(render(values), "PrometheusRule")
    alerts = {r["alert"]: r["expr"] for g in rule["spec"]["groups"] for r in g["rules"]}
    assert alerts["MigrationRollbackStuck"].rstrip().endswith("> 2700")
    assert 'phase!="AwaitingApproval"' in alerts["MigrationRollbackStuck"]
    assert alerts["MigrationRollbackAppHeldDown"].rstrip().endswith("> 300")


def test_the_dashboard_is_valid_and_uses_exported_metrics() -> None:
    cm = one(render(EVERYTHING_ON), "ConfigMap")
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    dashboard = json.loads(cm["data"]["migration-rollback.json"])
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = set().union(*(metrics_in(e) for e in exprs))
    assert used, "the dashboard queries no metric"
    assert used <= metric_names(), used - metric_names()
    assert {"migration_rollback_app_down_seconds", "migration_rollback_runs_total"} <= used


def test_optional_objects_appear_only_when_asked_for() -> None:
    kinds = {d["kind"] for d in render()}
    assert kinds.isdisjoint(
        {"ServiceMonitor", "PrometheusRule", "NetworkPolicy", "PodDisruptionBudget"}
    )
    all_on = render(EVERYTHING_ON)
    monitor = one(all_on, "ServiceMonitor")
    service = one(all_on, "Service")
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    assert monitor["spec"]["endpoints"][0]["port"] == service["spec"]["ports"][0]["name"]
    pdb = one(all_on, "PodDisruptionBudget")
    pod_labels = one(all_on, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    policy = one(all_on, "NetworkPolicy")
    assert policy["spec"]["policyTypes"] == ["Ingress"], "egress stays open unless rules are given"


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"operator": {"replcas": 2}}, "'replcas' not allowed"),
        ({"watchNamespaces": ["Shop_Prod"]}, "/watchNamespaces/0"),
        ({"operator": {"maxConcurrentRollbacks": 0}}, "/operator/maxConcurrentRollbacks"),
        ({"image": {"digest": "latest"}}, "/image/digest"),
        ({"metrics": {"prometheusRule": {"stuckMinutes": "soon"}}}, "stuckMinutes"),
    ],
)
def test_bad_values_are_refused_with_the_field_named(
    values: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(complaint)):
        render(values)


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        # Two operators without a leader Lease would both act on every MigrationRollback.
        (
            {"operator": {"replicas": 2, "leaderElection": False}},
            "operator.replicas is 2 but operator.leaderElection is false",
        ),
        # The operator refuses one port for both at start: a CrashLoopBackOff after the install.
        ({"ports": {"metrics": 8081, "health": 8081}}, "ports.metrics and ports.health are both"),
    ],
)
def test_values_the_operator_cannot_run_with_fail_the_install(
    values: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(complaint)):
        render(values)


def test_one_replica_may_run_without_leader_election() -> None:
    docs = render({"operator": {"replicas": 1, "leaderElection": False}})
    assert one(docs, "Deployment")["spec"]["replicas"] == 1
