"""Which status fields an outdated CRD did not keep, and what is said of it (pure)."""

from __future__ import annotations

from migration_rollback.lifecycle import pruning


def test_fields_and_keys_not_stored_are_named() -> None:
    sent = {"phase": "RollingBack", "errorRetries": {"tries": 1}, "jobName": "j",
            "jobStopped": {"job": "j", "watch": "w1"}, "databaseChanged": None}  # fmt: skip
    stored = {"phase": "RollingBack", "jobStopped": {"job": "j"}}
    assert pruning.pruned_fields(sent, stored) == ["errorRetries", "jobName", "jobStopped.watch"]


def test_nothing_pruned_when_all_is_kept() -> None:
    sent = {"phase": "RollingBack", "jobStopped": {"job": "j"}, "databaseChanged": None}
    assert pruning.pruned_fields(sent, dict(sent)) == []


def test_the_message_names_the_fields_the_crd_and_the_fix() -> None:
    said = pruning.outdated_crd(["jobName", "errorRetries"])
    assert "status.errorRetries, status.jobName" in said
    assert f"kubectl apply -f {pruning.CRD_FILE}" in said
    assert "in memory only" in said
