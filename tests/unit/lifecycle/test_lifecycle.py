"""The operator's pure decisions: conditions, approval, health verdicts, Job verdicts, names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from migration_rollback import api
from migration_rollback.kube.jobs import JobRequest, build_job, job_args, sql_config_map
from migration_rollback.lifecycle import analysis, approval, conditions, health, outcomes
from migration_rollback.lifecycle.durations import human, parse_duration
from migration_rollback.lifecycle.phases import Phase, Reason

CRD = (
    Path(__file__).resolve().parents[3] / "crds" / "rollback.migrations.dev_migrationrollbacks.yaml"
)


def crd_version() -> dict[str, object]:
    doc = yaml.safe_load(CRD.read_text())
    return doc["spec"]["versions"][0]  # type: ignore[no-any-return]


def test_crd_phase_enum_is_the_phase_enum() -> None:
    schema = crd_version()["schema"]["openAPIV3Schema"]  # type: ignore[index]
    assert schema["properties"]["status"]["properties"]["phase"]["enum"] == [str(p) for p in Phase]


def test_crd_names_come_from_the_api_module() -> None:
    doc = yaml.safe_load(CRD.read_text())
    assert doc["spec"]["group"] == api.GROUP
    assert doc["spec"]["names"]["kind"] == api.KIND
    assert doc["spec"]["names"]["plural"] == api.PLURAL
    assert api.SHORT_NAME in doc["spec"]["names"]["shortNames"]
    assert crd_version()["name"] == api.VERSION
    columns = [c["name"] for c in crd_version()["additionalPrinterColumns"]]  # type: ignore[index]
    assert columns[:6] == ["Migration", "Target", "Phase", "Ready", "Downtime", "Age"]


@pytest.mark.parametrize(
    ("phase", "ready", "reconciling", "stalled"),
    [
        (Phase.VALIDATING, "False", "True", "False"),
        (Phase.AWAITING_APPROVAL, "False", "False", "True"),
        (Phase.ROLLING_BACK, "False", "True", "False"),
        (Phase.SUCCEEDED, "True", "False", "False"),
        (Phase.FAILED, "False", "False", "True"),
    ],
)
def test_kstatus_conditions(phase: Phase, ready: str, reconciling: str, stalled: str) -> None:
    got = {c["type"]: c["status"] for c in conditions.desired_conditions(phase, "R", "m", 3)}
    assert (got["Ready"], got["Reconciling"], got["Stalled"]) == (ready, reconciling, stalled)
    assert got["Succeeded"] == ("True" if phase is Phase.SUCCEEDED else "False")
    assert got["Failed"] == ("True" if phase is Phase.FAILED else "False")


def test_transition_time_kept_while_status_unchanged() -> None:
    first = conditions.merge_conditions(
        None, conditions.desired_conditions(Phase.VALIDATING, "a", "", 1), "t1"
    )
    second = conditions.merge_conditions(
        first, conditions.desired_conditions(Phase.PREPARING, "b", "", 1), "t2"
    )
    third = conditions.merge_conditions(
        second, conditions.desired_conditions(Phase.SUCCEEDED, "c", "", 1), "t3"
    )
    by_type = {c["type"]: c for c in second}
    assert by_type["Reconciling"]["lastTransitionTime"] == "t1"
    by_type = {c["type"]: c for c in third}
    assert by_type["Reconciling"]["lastTransitionTime"] == "t3"
    assert by_type["Ready"]["lastTransitionTime"] == "t3"
    assert by_type["Stalled"]["lastTransitionTime"] == "t1"


SHA = "a" * 64


def summary(manual: int = 0, loss: bool = False) -> approval.PlanSummary:
    return approval.PlanSummary(5, manual, loss, 0, "ACCESS EXCLUSIVE")


def test_no_approval_needed_for_a_clean_rollback() -> None:
    decision = approval.decide(summary(), SHA, None, allow_data_loss=False)
    assert (decision.approved, decision.needed) == (True, False)


def test_manual_items_wait_for_the_exact_sha() -> None:
    waiting = approval.decide(summary(manual=2), SHA, {}, allow_data_loss=False)
    assert not waiting.approved
    assert f"{api.APPROVAL_ANNOTATION}={SHA}" in waiting.message
    wrong = approval.decide(summary(manual=2), SHA, {api.APPROVAL_ANNOTATION: "b" * 64}, False)
    assert not wrong.approved
    assert "but the SQL is" in wrong.message
    ok = approval.decide(summary(manual=2), SHA, {api.APPROVAL_ANNOTATION: SHA}, False)
    assert ok.approved


def test_data_loss_needs_the_flag_as_well_as_the_annotation() -> None:
    annotated = {api.APPROVAL_ANNOTATION: SHA}
    assert not approval.decide(summary(loss=True), SHA, annotated, allow_data_loss=False).approved
    assert approval.decide(summary(loss=True), SHA, annotated, allow_data_loss=True).approved


def test_health_tracker_thresholds_and_json_field() -> None:
    spec = health.CheckSpec(
        "api", "http://x", json_field="status.db", expect_value="ok", success_threshold=2,
        failure_threshold=2,
    )  # fmt: skip
    tracker = health.Tracker(spec)
    assert tracker.record(health.Probe(200, '{"status": {"db": "ok"}}')) is health.Verdict.PENDING
    assert tracker.record(health.Probe(200, '{"status": {"db": "ok"}}')) is health.Verdict.HEALTHY
    bad = health.Tracker(spec)
    bad.record(health.Probe(200, '{"status": {"db": "down"}}'))
    assert bad.record(health.Probe(None, error="ConnectError")) is health.Verdict.UNHEALTHY
    assert "ConnectError" in bad.last
    # A flapping check ends: failures count in all, passes only in a row.
    flapping = health.Tracker(spec)
    up, down = health.Probe(200, '{"status": {"db": "ok"}}'), health.Probe(503)
    assert flapping.record(down) is health.Verdict.PENDING
    assert flapping.record(up) is health.Verdict.PENDING
    assert flapping.record(down) is health.Verdict.UNHEALTHY


def test_job_verdicts() -> None:
    ok = outcomes.judge(
        True,
        {"outcome": "succeeded", "exit_name": "OK", "committed": True,
         "steps": [{"step": "transaction", "outcome": "ok", "duration_ms": 420}],
         "statements": [{}, {}, {}]},
        "",
    )  # fmt: skip
    assert (ok.succeeded, ok.database_changed, ok.sql_seconds, ok.statements) == (
        True, True, 0.42, 3,
    )  # fmt: skip
    failed = outcomes.judge(
        False,
        {
            "exit_name": "SQL_ERROR",
            "committed": False,
            "error": {"message": "boom", "statement": 2},
        },
        "",
    )
    assert failed.reason is Reason.SQL_ERROR
    assert failed.database_changed is False
    assert "statement 2" in failed.message
    cut = outcomes.judge(
        True, {"exit_name": "OK", "statements": [{}], "statements_omitted": 15}, ""
    )
    assert cut.statements == 16
    lost = outcomes.judge(False, None, "DeadlineExceeded")
    assert lost.database_changed is None
    assert "DeadlineExceeded" in lost.message
    # The connection broke during COMMIT: the runner cannot know, so neither can we.
    unknown = outcomes.judge(False, {"exit_name": "COMMIT_UNKNOWN", "committed": False}, "")
    assert unknown.database_changed is None


@pytest.mark.parametrize("exit_name", ["CONNECTION_FAILED", "CONNECTION_LOST"])
def test_a_connection_failure_names_the_secret_key_holding_the_url(exit_name: str) -> None:
    where = "Secret shop-db key url (spec.database.urlSecretRef)"
    verdict = outcomes.judge(
        False,
        {"exit_name": exit_name, "committed": False,
         "error": {"message": "connection refused", "statement": 3}},
        "", where,
    )  # fmt: skip
    assert verdict.reason is Reason.CONNECTION_FAILED
    assert verdict.database_changed is False
    assert verdict.message == f"{exit_name} with the URL in {where}: connection refused"


@pytest.mark.parametrize(
    ("text", "named"),
    [("the database URL now leads to a, not to the rehearsed b (--expect-database; the "
      "cluster (system identifier) differs)", True),
     ("syntax error at or near SELEC", False)],
)  # fmt: skip
def test_a_refused_pin_names_the_secret_key_holding_the_url(text: str, named: bool) -> None:
    """The pin's refusal is about where the URL came from; another precondition is not."""
    where = "Secret shop-db key url (spec.database.urlSecretRef)"
    verdict = outcomes.judge(
        False,
        {"exit_name": "PRECONDITION_FAILED", "committed": False, "error": {"message": text}},
        "", where,
    )  # fmt: skip
    assert verdict.reason is Reason.PRECONDITION_FAILED
    assert (f"PRECONDITION_FAILED with the URL in {where}: " in verdict.message) is named


def test_the_crd_refuses_names_longer_than_the_labels_derived_from_them() -> None:
    """The Job and ConfigMap labels carry the resource's name, and label values stop at 63."""
    version: Any = crd_version()
    name = version["schema"]["openAPIV3Schema"]["properties"]["metadata"]["properties"]["name"]
    (rule,) = name["x-kubernetes-validations"]
    limit = int(rule["rule"].removeprefix("self.size() <= "))
    assert limit == 63
    longest = "u" * limit
    owner = {"apiVersion": api.API_VERSION, "kind": api.KIND, "name": longest, "uid": "u1"}
    job = build_job(request(owner=owner, name=analysis.child_name(longest, "dryrun", SHA)))
    config_map = sql_config_map(analysis.child_name(longest, "sql", SHA), "shop", owner, "")
    for manifest in (job, config_map):
        assert len(manifest["metadata"]["name"]) <= 63
        assert all(len(v) <= 63 for v in manifest["metadata"]["labels"].values())
    assert all(len(v) <= 63 for v in job["spec"]["template"]["metadata"]["labels"].values())


def test_durations() -> None:
    assert parse_duration("5s") == 5
    assert parse_duration("10m") == 600
    assert parse_duration("250ms") == 0.25
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("5 minutes")
    assert human(12.84) == "12.8s"
    assert human(125) == "2m05s"


def test_analysis_of_rollback_sql() -> None:
    sql = (
        "-- MANUAL: restore the rows\n"
        "DROP INDEX CONCURRENTLY IF EXISTS public.i;\n"
        "ALTER TABLE public.t DROP COLUMN IF EXISTS c;\n"
    )
    result = analysis.analyze(sql, "r.sql")
    assert result.summary.manual_items == 1
    assert result.summary.destroys_data
    assert result.summary.non_transactional == 1
    assert result.summary.strongest_lock == "ACCESS EXCLUSIVE"
    assert result.sha256 == analysis.sha256_text(sql)


def test_child_names_fit_dns_limits() -> None:
    name = analysis.child_name("Undo_" + "x" * 80, "rollback", SHA)
    assert len(name) <= 63
    assert name.endswith("-rollback-aaaaaaaa")


def request(**overrides: object) -> JobRequest:
    base: dict[str, object] = {
        "name": "undo-rollback-aaaaaaaa",
        "namespace": "shop",
        "owner": {"apiVersion": api.API_VERSION, "kind": api.KIND, "name": "undo", "uid": "u1"},
        "image": "migration-rollback:1",
        "migration": "20251113000001_x",
        "sql_config_map": "undo-sql",
        "sha256": SHA,
        "url_secret": "shop-db",
        "url_key": "url",
        "history_table": "supabase_migrations.schema_migrations",
        "dry_run": False,
        "backup_mode": "pgDump",
        "backup_pvc": None,
        "max_age": "1h",
        "lock_timeout": "5s",
        "statement_timeout": "10m",
        "allow_data_loss": False,
        "allow_manual": False,
        "purge": False,
        "timeout_seconds": 900,
        "actor": "operator:shop/undo",
    }
    base.update(overrides)
    return JobRequest(**base)  # type: ignore[arg-type]


def test_job_manifest_is_safe_by_construction() -> None:
    job = build_job(request())
    spec = job["spec"]
    pod = spec["template"]["spec"]
    container = pod["containers"][0]
    assert spec["backoffLimit"] == 0
    assert spec["activeDeadlineSeconds"] == 900
    assert job["metadata"]["ownerReferences"][0]["uid"] == "u1"
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert pod["securityContext"]["runAsNonRoot"] is True
    env = {e["name"]: e for e in container["env"]}
    assert env["MIGRATION_ROLLBACK_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == "shop-db"
    assert not any("postgres" in a for a in container["args"])
    assert container["terminationMessagePath"] == "/dev/termination-log"
    args = container["args"]
    assert args[:2] == ["execute", "20251113000001_x"]
    assert args[args.index("--expect-sha256") + 1] == SHA
    assert "--dry-run" not in args


def test_job_args_follow_the_spec() -> None:
    args = job_args(request(dry_run=True, allow_data_loss=True, backup_mode="requireRecent"))
    assert "--dry-run" in args
    assert "--allow-data-loss" in args
    assert args[args.index("--backup") + 1] == "require-recent"
    assert args[args.index("--max-age") + 1] == "1h"
    none = job_args(request(backup_mode="none"))
    assert "--backup-dir" not in none


def test_the_job_runs_execute_to_over_every_file_pinned_by_the_set_digest() -> None:
    req = request(target_version="20251101000001", migration="")
    args = job_args(req)
    assert args[:7] == [
        "execute", "--to", "20251101000001", "--dir", "/rollback", "--expect-set-sha256", SHA
    ]  # fmt: skip
    assert "--rollback-file" not in args
    assert "--expect-sha256" not in args
    volume = build_job(req)["spec"]["template"]["spec"]["volumes"][0]
    assert volume == {"name": "sql", "configMap": {"name": "undo-sql"}}  # every key, no items
    files = {"20251113000001_x_rollback.sql": "DROP TABLE a;"}
    cm = sql_config_map("undo-sql", "shop", req.owner, files)
    assert cm["data"] == files
    assert cm["immutable"] is True
