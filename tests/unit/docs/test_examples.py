"""Every YAML file under examples/ is a valid Kubernetes object, and every MigrationRollback
example is one the API server would accept.

The `jsonschema` package is not installed in the project's environment, so the CRD's
openAPIV3Schema is checked by a small structural checker below: types, required fields,
enums, patterns, length, range and item limits, unknown fields (which the API server would
silently prune), and the CRD's CEL rules of the shapes it uses ("exactly one of", a length
limit).
A CEL rule of any other shape fails the test until the checker learns it; transition rules
(those using `oldSelf`) only apply to updates and are skipped.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from migration_rollback import api
from migration_rollback.lifecycle.durations import parse_millis
from migration_rollback.lifecycle.phases import Phase
from migration_rollback.lifecycle.spec_check import url_problem
from migration_rollback.lifecycle.spec_keys import KNOWN
from migration_rollback.limits import MAX_AGE_MS, MAX_TIMEOUT_MS
from migration_rollback.project.manifests import rollback_manifest

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "examples"
CRD = REPO / "crds" / "rollback.migrations.dev_migrationrollbacks.yaml"
HEALTH_LUA = REPO / "gitops" / "argocd" / "health.lua"
GITOPS = EXAMPLES / "gitops"

YAML_FILES = sorted(p for p in EXAMPLES.rglob("*") if p.suffix in (".yaml", ".yml"))


def documents(path: Path) -> list[dict[str, Any]]:
    docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
    assert all(isinstance(d, dict) for d in docs), f"{path}: a document is not a mapping"
    return docs


def schema() -> dict[str, Any]:
    crd = yaml.safe_load(CRD.read_text(encoding="utf-8"))
    version = next(v for v in crd["spec"]["versions"] if v["name"] == api.VERSION)
    return version["schema"]["openAPIV3Schema"]  # type: ignore[no-any-return]


def rollbacks() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in YAML_FILES:
        for doc in documents(path):
            if doc.get("kind") == api.KIND:
                found.append((str(path.relative_to(REPO)), doc))
    return found


# --- the checker -------------------------------------------------------------------------

_HAS = re.compile(r"has\(self\.(\w+)\)")
_ONE_OF_TWO = re.compile(r"^has\(self\.(\w+)\) != has\(self\.(\w+)\)$")
_ONE_OF_MANY = re.compile(
    r"^\(has\(self\.\w+\) \? 1 : 0\)( \+ \(has\(self\.\w+\) \? 1 : 0\))+ == 1$"
)
# Both or neither: `a` on this object and `c` on its child `b` (targetVersion, migrationsFrom).
_BOTH_OR_NEITHER = re.compile(r"^has\(self\.(\w+)\) == has\(self\.(\w+)\.(\w+)\)$")
_SIZE_AT_MOST = re.compile(r"^self\.size\(\) <= (\d+)$")
# `a` needs `b`: expectValue without jsonField would be ignored.
_IMPLIES = re.compile(r"^!has\(self\.(\w+)\) \|\| has\(self\.(\w+)\)$")
# A field declared only to be refused (a reference into another namespace). CEL escapes a
# reserved word as a property name: `namespace` is `__namespace__`.
_ABSENT = re.compile(r"^!has\(self\.(?:__)?(\w+?)(?:__)?\)$")
# `a` other than its default needs `b` to be one value: revision other than current, Deployment.
_NEEDS = re.compile(
    r"^!has\(self\.(\w+)\) \|\| self\.\1 == '(\w+)' \|\| "
    r"!has\(self\.(\w+)\) \|\| self\.\3 == '(\w+)'$"
)


def _url_ok(value: Any) -> bool:
    return url_problem(str(value)) is None


def _duration_ok(value: Any, most: int = MAX_TIMEOUT_MS) -> bool:
    try:
        return parse_millis(str(value)) <= most
    except ValueError:
        return False


# Rules on one scalar, read as the operator reads the value (lifecycle.spec_check).
_SCALAR_RULES: dict[str, Callable[[Any], bool]] = {
    "isURL(self) && url(self).getScheme() in ['http', 'https'] && url(self).getHostname() "
    "!= '' && !self.matches('[\\\\s\\\\x00-\\\\x1f\\\\x7f]')": _url_ok,
    "duration(self) <= duration('24h')": _duration_ok,
    "duration(self) <= duration('8784h')": lambda v: _duration_ok(v, MAX_AGE_MS),
    "self != '.' && !self.startsWith('..')": lambda v: v != "." and not str(v).startswith(".."),
}


def _rule_errors(value: Any, node: Mapping[str, Any], path: str) -> list[str]:
    errors = []
    for entry in node.get("x-kubernetes-validations") or ():
        rule = " ".join(str(entry["rule"]).split())
        if "oldSelf" in rule:
            continue  # a transition rule: only checked on update
        if rule in _SCALAR_RULES:
            if not _SCALAR_RULES[rule](value):
                errors.append(f"{path}: {entry.get('message', rule)}")
            continue
        if _ONE_OF_TWO.match(rule) or _ONE_OF_MANY.match(rule):
            present = [name for name in _HAS.findall(rule) if name in value]
            if len(present) != 1:
                errors.append(f"{path or '<root>'}: {entry.get('message', rule)}")
            continue
        if needs := _NEEDS.match(rule):
            field, default, other, required = needs.groups()
            if value.get(field, default) != default and value.get(other, required) != required:
                errors.append(f"{path}: {entry.get('message', rule)}")
            continue
        if both := _BOTH_OR_NEITHER.match(rule):
            field, child, grandchild = both.groups()
            nested = value.get(child)
            if (field in value) != (isinstance(nested, Mapping) and grandchild in nested):
                errors.append(f"{path}: {' '.join(str(entry['message']).split())}")
            continue
        if implies := _IMPLIES.match(rule):
            if implies.group(1) in value and implies.group(2) not in value:
                errors.append(f"{path}: {entry.get('message', rule)}")
            continue
        if absent := _ABSENT.match(rule):
            if absent.group(1) in value:
                errors.append(f"{path}: {' '.join(str(entry['message']).split())}")
            continue
        if limit := _SIZE_AT_MOST.match(rule):
            if len(value) > int(limit.group(1)):
                errors.append(f"{path}: {' '.join(str(entry['message']).split())}")
            continue
        raise NotImplementedError(f"teach the example checker this CEL rule at {path}: {rule}")
    return errors


def check(value: Any, node: Mapping[str, Any], path: str = "") -> list[str]:
    """What the API server would refuse (or prune) in `value` under `node`."""
    where = path or "<root>"
    kind = node.get("type")
    if kind == "object":
        if not isinstance(value, dict):
            return [f"{where}: expected an object, got {type(value).__name__}"]
        required = node.get("required") or ()
        errors = [f"{where}: missing required field {r!r}" for r in required if r not in value]
        properties = node.get("properties") or {}
        additional = node.get("additionalProperties")
        free = bool(node.get("x-kubernetes-preserve-unknown-fields"))
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if child == "metadata":
                # ObjectMeta is the API server's own; the CRD may only constrain its name.
                named = {
                    k: v for k, v in item.items() if k in properties[key].get("properties", {})
                }
                errors += check(named, properties[key], child)
            elif key in properties:
                errors += check(item, properties[key], child)
            elif isinstance(additional, Mapping):
                errors += check(item, additional, child)
            elif not free:
                errors.append(f"{child}: unknown field (the API server would drop it)")
            elif path in KNOWN:  # kept by the API server for the operator to refuse
                errors.append(f"{child}: unknown field (the operator refuses it)")
        return errors + _rule_errors(value, node, path)
    if kind == "array":
        if not isinstance(value, list):
            return [f"{where}: expected a list, got {type(value).__name__}"]
        errors = []
        if "maxItems" in node and len(value) > node["maxItems"]:
            errors.append(f"{where}: more than {node['maxItems']} items")
        if "minItems" in node and len(value) < node["minItems"]:
            errors.append(f"{where}: fewer than {node['minItems']} items")
        for index, item in enumerate(value):
            errors += check(item, node.get("items") or {}, f"{path}[{index}]")
        return errors
    errors = []
    expected: dict[str, type | tuple[type, ...]] = {
        "string": str,
        "boolean": bool,
        "integer": int,
        "number": (int, float),
    }
    if kind in expected:
        ok = isinstance(value, expected[kind]) and not (
            kind in ("integer", "number") and isinstance(value, bool)
        )
        if not ok:
            return [f"{where}: expected {kind}, got {type(value).__name__} {value!r}"]
    if "enum" in node and value not in node["enum"]:
        errors.append(f"{where}: {value!r} is not one of {node['enum']}")
    if isinstance(value, str):
        if "pattern" in node and not re.search(node["pattern"], value):
            errors.append(f"{where}: {value!r} does not match {node['pattern']}")
        if "maxLength" in node and len(value) > node["maxLength"]:
            errors.append(f"{where}: longer than {node['maxLength']} characters")
        if "minLength" in node and len(value) < node["minLength"]:
            errors.append(f"{where}: shorter than {node['minLength']} characters")
        errors += _rule_errors(value, node, path)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in node and value < node["minimum"]:
            errors.append(f"{where}: {value} is below {node['minimum']}")
        if "maximum" in node and value > node["maximum"]:
            errors.append(f"{where}: {value} is above {node['maximum']}")
    return errors


# --- every example -----------------------------------------------------------------------


def test_there_are_examples_to_check() -> None:
    names = {str(p.relative_to(EXAMPLES)) for p in YAML_FILES}
    assert "manifests/undo-timeline-social.yaml" in names
    assert "gitops/argocd/argocd-cm-health.yaml" in names
    assert "gitops/flux/kustomizations.yaml" in names
    assert len(rollbacks()) >= 2


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_every_document_is_a_named_kubernetes_object(path: Path) -> None:
    docs = documents(path)
    assert docs, f"{path}: no YAML document"
    for doc in docs:
        for key in ("apiVersion", "kind"):
            assert isinstance(doc.get(key), str), f"{path}: {key} missing"
            assert doc[key], f"{path}: {key} empty"
        metadata = doc.get("metadata")
        assert isinstance(metadata, dict), f"{path}: metadata missing"
        assert metadata.get("name"), f"{path}: metadata.name missing"


@pytest.mark.parametrize(("where", "doc"), [pytest.param(w, d, id=w) for w, d in rollbacks()])
def test_every_migration_rollback_example_validates_against_the_crd(
    where: str, doc: dict[str, Any]
) -> None:
    assert doc["apiVersion"] == api.API_VERSION
    assert check(doc, schema()) == [], where


def test_the_emergency_plan_manifest_validates_against_the_crd() -> None:
    manifest = rollback_manifest(
        "20251113000001_timeline_social_features", "0" * 64, namespace="shop", allow_data_loss=True
    )
    assert check(manifest, schema()) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda s: s.update(onFailure="explode"), "spec.onFailure: 'explode' is not one of"),
        (lambda s: s.pop("database"), "spec: missing required field 'database'"),
        (lambda s: s.update(migration="not a migration"), "spec.migration: 'not a migration'"),
        (lambda s: s.update(targetVersion="20251113000000"), "exactly one of migration or"),
        (lambda s: s["rollback"].update(sql="SELECT 1;"), "exactly one of configMapRef, sql"),
        (
            lambda s: (s.pop("migration"), s.update(targetVersion="20251105000001")),
            "targetVersion needs rollback.migrationsFrom",
        ),
        (
            lambda s: s["rollback"].update(migrationsFrom={"configMapRef": {"name": "m"}}),
            "and migrationsFrom needs targetVersion",
        ),
        (lambda s: s.update(allowDataloss=True), "spec.allowDataloss: unknown field"),
        (lambda s: s["maintenance"].update(configMap={"name": "f", "key": "k"}), "one of http"),
        (lambda s: s["workloads"][0].update(selector={}), "exactly one of name or selector"),
        (lambda s: s["job"].update(timeoutSeconds=5), "spec.job.timeoutSeconds: 5 is below 30"),
        (lambda s: s["job"].update(lockTimeout="5 seconds"), "spec.job.lockTimeout"),
        (
            lambda s: s["healthChecks"][0].pop("jsonField"),
            "spec.healthChecks[0]: expectValue needs jsonField",
        ),
        # PostgreSQL reads 0 as no limit; the Job refused it only once the app was down.
        (lambda s: s["job"].update(lockTimeout="0ms"), "spec.job.lockTimeout: '0ms'"),
        (lambda s: s["job"].update(statementTimeout="00s"), "spec.job.statementTimeout: '00s'"),
        (lambda s: s.update(dryRun="yes"), "spec.dryRun: expected boolean"),
        (lambda s: s.update(workloads=[]), "spec.workloads: fewer than 1 items"),
        (lambda s: s.pop("workloads"), "spec: missing required field 'workloads'"),
        (lambda s: s["workloads"][0].update(name=""), "spec.workloads[0].name: shorter than 1"),
        (
            lambda s: s["workloads"].append(
                {"kind": "Deployment", "selector": {"matchLabels": {"app": "shop,tier!=db"}}}
            ),
            "spec.workloads[1].selector.matchLabels.app: 'shop,tier!=db' does not match",
        ),
        (
            lambda s: s["database"]["urlSecretRef"].update(namespace="prod"),
            "spec.database.urlSecretRef: the Secret is the one in the resource's own namespace",
        ),
        (
            lambda s: s["workloads"][0].update(namespace="prod"),
            "spec.workloads[0]: the workload is the one in the resource's own namespace",
        ),
    ],
)
def test_the_checker_refuses_what_the_api_server_refuses(change: Any, expected: str) -> None:
    doc = copy.deepcopy(dict(rollbacks())["examples/gitops/rollbacks/undo-timeline-social.yaml"])
    change(doc["spec"])
    errors = check(doc, schema())
    assert any(expected in e for e in errors), errors


def test_the_checker_refuses_a_name_too_long_for_the_labels() -> None:
    doc = copy.deepcopy(dict(rollbacks())["examples/gitops/rollbacks/undo-timeline-social.yaml"])
    doc["metadata"]["name"] = "x" * 64
    assert any(e.startswith("metadata.name: ") for e in check(doc, schema()))
    doc["metadata"]["name"] = "x" * 63
    assert check(doc, schema()) == []


def test_an_unknown_cel_rule_is_not_silently_passed() -> None:
    node = {"type": "object", "x-kubernetes-validations": [{"rule": "self.size() > 1"}]}
    with pytest.raises(NotImplementedError):
        check({}, node)


# --- the GitOps examples say what the code does ------------------------------------------


def test_the_argocd_cm_patch_carries_the_real_health_check() -> None:
    (cm,) = documents(GITOPS / "argocd" / "argocd-cm-health.yaml")
    key = f"resource.customizations.health.{api.GROUP}_{api.KIND}"
    assert cm["metadata"] == {**cm["metadata"], "name": "argocd-cm", "namespace": "argocd"}
    assert cm["data"][key] == HEALTH_LUA.read_text(encoding="utf-8"), (
        "examples/gitops/argocd/argocd-cm-health.yaml must carry gitops/argocd/health.lua "
        "verbatim: copy it again"
    )


def test_the_argocd_application_points_at_the_chart() -> None:
    (app,) = documents(GITOPS / "argocd" / "migration-rollback-operator.yaml")
    path = app["spec"]["source"]["path"]
    assert path == "helm/migration-rollback"
    assert (REPO / path / "Chart.yaml").is_file()


def test_the_flux_health_expressions_name_real_phases() -> None:
    kustomizations = documents(GITOPS / "flux" / "kustomizations.yaml")
    exprs = [e for k in kustomizations for e in k["spec"].get("healthCheckExprs") or ()]
    (expr,) = [e for e in exprs if e["kind"] == api.KIND]
    assert expr["apiVersion"] == api.API_VERSION
    named = re.findall(r"status\.phase == '(\w+)'", expr["current"] + expr["failed"])
    assert named == [str(Phase.SUCCEEDED), str(Phase.FAILED)]


def test_gitops_rollbacks_are_never_pruned() -> None:
    for where, doc in rollbacks():
        if not where.startswith("examples/gitops/"):
            continue
        annotations = doc["metadata"]["annotations"]
        assert annotations["kustomize.toolkit.fluxcd.io/prune"] == "disabled"
        options = annotations["argocd.argoproj.io/sync-options"].split(",")
        assert {"Prune=false", "Delete=false"} <= set(options)
