"""A spec's values checked against what the operator and its Job accept (lifecycle.spec_check):
each value the adversarial review found stuck a resource in its phase now fails validation,
before anything is touched, with its field path; and the CRD enforces the same limits
(migration_rollback.limits is the one source of both)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from migration_rollback import limits
from migration_rollback.lifecycle import actions as a
from migration_rollback.lifecycle import policy
from migration_rollback.lifecycle.decide import decide
from migration_rollback.lifecycle.durations import parse_millis
from migration_rollback.lifecycle.model import RollbackSpec
from migration_rollback.lifecycle.observation import Observation
from migration_rollback.lifecycle.spec_check import problems
from migration_rollback.lifecycle.spec_keys import KNOWN
from migration_rollback.lifecycle.status import RollbackStatus
from migration_rollback.sqltext import NUL_PROBLEM

BIG = 9223372036854775807
CRD = (
    Path(__file__).resolve().parents[3] / "crds" / "rollback.migrations.dev_migrationrollbacks.yaml"
)
NOW = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)


def spec(**fields: Any) -> RollbackSpec:
    base = {
        "migration": "20250101000001_x",
        "rollback": {"sql": "DROP INDEX IF EXISTS i;"},
        "database": {"urlSecretRef": {"name": "db"}},
        "workloads": [{"name": "web"}],
    }
    return RollbackSpec.from_obj({"spec": {**base, **fields}})


def check(**fields: Any) -> dict[str, Any]:
    return {"name": "h", "url": "http://127.0.0.1:9/", **fields}


# field path the message must name -> a spec the CRD accepted before (op_stuck_specs.py and
# the review's other cases)
BAD: dict[str, dict[str, Any]] = {
    "spec.job.serviceAccountName": {"job": {"serviceAccountName": "Not_Valid!"}},
    "spec.maintenance.configMap.key": {"maintenance": {"configMap": {"name": "f", "key": "a/b c"}}},
    "spec.maintenance.configMap.name": {"maintenance": {"configMap": {"name": "F!", "key": "k"}}},
    "spec.maintenance.http.url": {"maintenance": {"http": {"url": "http://[::1"}}},
    "spec.healthChecks[0].timeoutSeconds": {"healthChecks": [check(timeoutSeconds=BIG)]},
    "spec.healthChecks[0].periodSeconds": {"healthChecks": [check(periodSeconds=BIG)]},
    "spec.healthChecks[1].url": {"healthChecks": [check(), check(url="http://h:99999/")]},
    "spec.healthChecks[0].failureThreshold": {"healthChecks": [check(failureThreshold=10**6)]},
    "spec.job.statementTimeout": {"job": {"statementTimeout": "25h"}},
    "spec.job.lockTimeout": {"job": {"lockTimeout": "1500m"}},
    "spec.job.timeoutSeconds": {"job": {"timeoutSeconds": BIG}},
    "spec.scaleDownTimeoutSeconds": {"scaleDownTimeoutSeconds": BIG},
    "spec.backup.maxAge": {"backup": {"mode": "requireRecent", "maxAge": "8785h"}},
}
GOOD: dict[str, dict[str, Any]] = {
    "the defaults": {},
    "every limit at its maximum": {
        "job": {"statementTimeout": "24h", "lockTimeout": "1440m", "timeoutSeconds": 172800,
                "serviceAccountName": "rollback.runner-1"},
        "healthChecks": [check(periodSeconds=300, timeoutSeconds=60, failureThreshold=100,
                               successThreshold=100, url="https://[::1]:8443/healthz")],
        "maintenance": {"configMap": {"name": "flags", "key": "MAINTENANCE_mode.v-1"}},
        "scaleDownTimeoutSeconds": 21600,
    },
}  # fmt: skip


@pytest.mark.parametrize(("path", "fields"), BAD.items(), ids=BAD.keys())
def test_a_value_the_operator_or_job_would_refuse_is_named_by_its_path(
    path: str, fields: dict[str, Any]
) -> None:
    found = problems(spec(**fields))
    assert [p for p in found if p.startswith(f"{path}: ")], found


@pytest.mark.parametrize("fields", GOOD.values(), ids=GOOD.keys())
def test_values_within_the_limits_pass(fields: dict[str, Any]) -> None:
    assert problems(spec(**fields)) == []


def test_an_invalid_spec_fails_validation_before_anything_is_touched() -> None:
    status = RollbackStatus.from_obj({"phase": "Validating", "observedGeneration": 1})
    obs = Observation(resource="undo", sql_text="DROP INDEX IF EXISTS i;")
    decision = decide(spec(job={"serviceAccountName": "Not_Valid!"}), status, obs, NOW)
    assert decision.phase == "Failed"
    assert decision.reason == "InvalidSpec"
    assert "spec.job.serviceAccountName" in decision.patch()["message"]
    touching = (a.CreateJob, a.ScaleTo, a.SetMaintenance, a.EnsureSqlConfigMap, a.AcquireLease)
    assert not [x for x in decision.actions if isinstance(x, touching)]


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"rollback": {"sql": "DROP INDEX i;\n\x00"}}, "spec.rollback.sql: line 2:"),
        ({"rollback": {"configMapRef": {"name": "m", "key": "r.sql"}}},
         "spec.rollback.configMapRef (ConfigMap m key r.sql): line 2:"),
    ],
    ids=["inline", "configMap"],
)  # fmt: skip
def test_sql_with_a_nul_byte_is_refused_as_the_cli_refuses_a_file(
    fields: dict[str, Any], where: str
) -> None:
    status = RollbackStatus.from_obj({"phase": "Validating", "observedGeneration": 1})
    obs = Observation(resource="undo", sql_text="DROP INDEX i;\n\x00")
    decision = decide(spec(**fields), status, obs, NOW)
    assert (decision.phase, decision.reason) == ("Failed", "InvalidRollbackSQL")
    assert decision.patch()["message"] == f"{where} {NUL_PROBLEM}"


def test_retries_double_the_lock_timeout_in_integers_up_to_what_the_job_accepts() -> None:
    # Once a float: 99999999999999m was sent as 5999999999999939584ms (the Job refused it).
    assert policy.attempt_lock_timeout("99999999999999m", 1) == f"{limits.MAX_TIMEOUT_MS}ms"
    assert policy.attempt_lock_timeout("86399999ms", 1) == "86399999ms"
    assert policy.attempt_lock_timeout("1440m", 3) == f"{limits.MAX_TIMEOUT_MS}ms"
    assert policy.attempt_lock_timeout("500ms", 4) == "4000ms"


# --- the CRD says the same -------------------------------------------------------------------


def field(path: str) -> dict[str, Any]:
    doc = yaml.safe_load(CRD.read_text())
    node: dict[str, Any] = doc["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    for part in path.split("."):
        node = node["items"] if part == "[]" else node["properties"][part]
    return node


MAXIMUMS = {
    "spec.job.timeoutSeconds": limits.JOB_TIMEOUT_SECONDS_MAX,
    "spec.healthChecks.[].periodSeconds": limits.HEALTH_PERIOD_SECONDS_MAX,
    "spec.healthChecks.[].timeoutSeconds": limits.HEALTH_TIMEOUT_SECONDS_MAX,
    "spec.healthChecks.[].successThreshold": limits.HEALTH_THRESHOLD_MAX,
    "spec.healthChecks.[].failureThreshold": limits.HEALTH_THRESHOLD_MAX,
    "spec.maintenance.http.timeoutSeconds": limits.HEALTH_TIMEOUT_SECONDS_MAX,
    "spec.scaleDownTimeoutSeconds": limits.SCALE_DOWN_TIMEOUT_SECONDS_MAX,
}
PATTERNS = {
    "spec.job.serviceAccountName": (limits.DNS_SUBDOMAIN, limits.DNS_SUBDOMAIN_MAX_LENGTH),
    "spec.maintenance.configMap.name": (limits.DNS_SUBDOMAIN, limits.DNS_SUBDOMAIN_MAX_LENGTH),
    "spec.maintenance.configMap.key": (limits.CONFIG_MAP_KEY, limits.CONFIG_MAP_KEY_MAX_LENGTH),
}
DURATIONS = {
    "spec.job.lockTimeout": limits.MAX_TIMEOUT_TEXT,
    "spec.job.statementTimeout": limits.MAX_TIMEOUT_TEXT,
    "spec.backup.maxAge": limits.MAX_AGE_TEXT,
}
URLS = ("spec.maintenance.http.url", "spec.healthChecks.[].url")


@pytest.mark.parametrize(("path", "most"), MAXIMUMS.items(), ids=MAXIMUMS.keys())
def test_the_crd_maximum_is_the_operators(path: str, most: int) -> None:
    assert field(path)["maximum"] == most


@pytest.mark.parametrize(("path", "rule"), PATTERNS.items(), ids=PATTERNS.keys())
def test_the_crd_pattern_is_the_operators(path: str, rule: tuple[str, int]) -> None:
    assert (field(path)["pattern"], field(path)["maxLength"]) == rule


@pytest.mark.parametrize(("path", "most"), DURATIONS.items(), ids=DURATIONS.keys())
def test_the_crd_caps_a_duration_where_the_job_does(path: str, most: str) -> None:
    node = field(path)
    rules = [v["rule"] for v in node["x-kubernetes-validations"]]
    assert f"duration(self) <= duration('{most}')" in rules
    # What the texts spell, in the operator's milliseconds.
    assert parse_millis(limits.MAX_TIMEOUT_TEXT) == limits.MAX_TIMEOUT_MS
    assert parse_millis(limits.MAX_AGE_TEXT) == limits.MAX_AGE_MS
    assert node["maxLength"] == limits.DURATION_MAX_LENGTH


@pytest.mark.parametrize("path", URLS)
def test_the_crd_checks_a_url_as_a_url(path: str) -> None:
    rules = " ".join(v["rule"] for v in field(path)["x-kubernetes-validations"])
    assert re.search(r"isURL\(self\)", rules)
    assert "getHostname() != ''" in rules


# --- unknown keys: kept by the CRD at these levels, refused by the operator -------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"dryrun": True}, "spec.dryrun: unknown field (did you mean dryRun?)"),
        ({"rollback": {"sql": "SELECT 1;", "sha265": "a"}}, "spec.rollback.sha265: unknown field"),
        ({"job": {"timeoutSecond": 60}}, "spec.job.timeoutSecond: unknown field"),
        ({"backup": {"Mode": "none"}}, "spec.backup.Mode: unknown field (did you mean mode?)"),
        ({"allow_data_loss": True},
         "spec.allow_data_loss: unknown field (did you mean allowDataLoss?)"),
    ],
    ids=["dryrun", "rollback", "job", "backup", "snake"],
)  # fmt: skip
def test_an_unknown_key_is_refused_by_its_path(fields: dict[str, Any], expected: str) -> None:
    assert expected in problems(spec(**fields))


def test_the_operator_knows_the_keys_the_crd_defines_where_it_keeps_unknown_ones() -> None:
    doc = yaml.safe_load(CRD.read_text())
    root: dict[str, Any] = doc["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    preserved = {
        path: frozenset(node["properties"])
        for path, node in _objects(root["properties"]["spec"], "spec")
        if node.get("x-kubernetes-preserve-unknown-fields")
    }
    assert preserved == KNOWN


def _objects(node: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if "properties" in node:
        yield path, node
        for key, child in node["properties"].items():
            yield from _objects(child, f"{path}.{key}")
    if "items" in node:
        yield from _objects(node["items"], f"{path}[]")


@pytest.mark.parametrize(
    "url",
    ["https://admin:se cretPW12@host/", "https://admin:Qw9z%zzPW@host:99999/", "ftp://u:Qw9zPW@h/"],
)
def test_a_bad_url_is_quoted_without_its_credentials(url: str) -> None:
    """Masked before it is quoted: a password holding a space stops later masks short."""
    (found,) = problems(spec(maintenance={"http": {"url": url}}))
    assert found.startswith("spec.maintenance.http.url: ")
    assert "admin" not in found
    assert "Qw9z" not in found
    assert "cretPW12" not in found
