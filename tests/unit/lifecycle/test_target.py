"""spec.targetVersion: the set, its digest, its refusals and its status entries (pure)."""

from __future__ import annotations

import hashlib

import pytest

from migration_rollback.jobresult import JobResult, MigrationState, SetMember, set_sha256
from migration_rollback.lifecycle import target
from migration_rollback.lifecycle.analysis import summarize
from migration_rollback.lifecycle.phases import Reason

BASE = "20251101000001_initial_schema"
EVENTS = "20251105000001_timeline_events"
SOCIAL = "20251113000001_timeline_social_features"


def directory(*rollbacks: str, forward: tuple[str, ...] = (BASE, EVENTS, SOCIAL)) -> dict[str, str]:
    """A migrations directory as a ConfigMap's data: forward files and the named rollbacks."""
    data = {f"{name}.sql": f"CREATE TABLE t_{name[-6:]} ();\n" for name in forward}
    data.update(
        {f"{n}_rollback.sql": f"-- ROLLBACK: {n}\nDROP TABLE t_{n[-6:]};\n" for n in rollbacks}
    )
    data["README.md"] = "not a migration"
    return data


def test_the_set_is_every_newer_migration_newest_first_with_its_rollback() -> None:
    data = directory(EVENTS, SOCIAL)
    chosen = target.resolve(data, "20251101000001", "dir")
    assert [r.member.name for r in chosen.rollbacks] == [SOCIAL, EVENTS]
    assert chosen.files == {f"{SOCIAL}_rollback.sql": data[f"{SOCIAL}_rollback.sql"],
                            f"{EVENTS}_rollback.sql": data[f"{EVENTS}_rollback.sql"]}  # fmt: skip
    social = chosen.rollbacks[0].member
    assert social.sha256 == hashlib.sha256(data[f"{SOCIAL}_rollback.sql"].encode()).hexdigest()
    # The same digest the runner computes over the files it loads (--expect-set-sha256).
    assert chosen.sha256 == set_sha256([r.member for r in chosen.rollbacks])
    assert [e["state"] for e in chosen.status_entries()] == ["Pending", "Pending"]
    assert chosen.status_entries()[0] == {
        "version": "20251113000001", "name": SOCIAL, "sha256": social.sha256, "state": "Pending",
    }  # fmt: skip


def test_the_digest_changes_with_any_file_the_order_or_the_membership() -> None:
    a, b = SetMember("2", "2_b", "0" * 64), SetMember("1", "1_a", "1" * 64)
    digest = set_sha256([a, b])
    assert set_sha256([b, a]) != digest
    assert set_sha256([a]) != digest
    assert set_sha256([a, SetMember("1", "1_a", "2" * 64)]) != digest
    assert set_sha256([a, SetMember("1", "1_other", "1" * 64)]) != digest


@pytest.mark.parametrize(
    ("data", "version", "reason", "words"),
    [
        (directory(EVENTS, SOCIAL), "20251102000000", Reason.UNKNOWN_TARGET_VERSION,
         "spec.targetVersion 20251102000000 is not a migration in ConfigMap dir"),
        (directory(EVENTS, SOCIAL), "20251113000001", Reason.NOTHING_TO_ROLL_BACK,
         "nothing is newer"),
        (directory(SOCIAL), "20251101000001", Reason.ROLLBACK_MISSING,
         "no <version>_<name>_rollback.sql for 20251105000001"),
        ({**directory(EVENTS, SOCIAL), "20251113000001_other_rollback.sql": "SELECT 1;"},
         "20251101000001", Reason.INVALID_SPEC, "several rollbacks for version 20251113000001"),
    ],
)  # fmt: skip
def test_a_set_that_cannot_be_chosen_is_refused_with_its_reason(
    data: dict[str, str], version: str, reason: Reason, words: str
) -> None:
    with pytest.raises(target.TargetError) as caught:
        target.resolve(data, version, "dir")
    assert caught.value.reason is reason
    assert words in caught.value.message


def test_the_unknown_target_message_lists_the_versions_there_are() -> None:
    with pytest.raises(target.TargetError) as caught:
        target.resolve(directory(EVENTS, SOCIAL), "1", "dir")
    assert "20251101000001, 20251105000001, 20251113000001" in caught.value.message


def test_a_rollback_file_alone_makes_its_version_known() -> None:
    """A ConfigMap of rollback files only: the target need not have a rollback of its own."""
    data = {k: v for k, v in directory(EVENTS, SOCIAL).items() if k.endswith("_rollback.sql")}
    with pytest.raises(target.TargetError) as caught:
        target.resolve(data, "20251101000001", "dir")
    assert caught.value.reason is Reason.UNKNOWN_TARGET_VERSION
    chosen = target.resolve(data, "20251105000001", "dir")
    assert [r.member.name for r in chosen.rollbacks] == [SOCIAL]


def test_a_forward_migration_named_rollback_is_not_taken_for_one() -> None:
    odd = "20251120000001_undo_rollback"
    data = directory(EVENTS, SOCIAL, odd, forward=(BASE, EVENTS, SOCIAL, odd))
    chosen = target.resolve(data, "20251105000001", "dir")
    assert [r.key for r in chosen.rollbacks] == [
        f"{odd}_rollback.sql", f"{SOCIAL}_rollback.sql"
    ]  # fmt: skip


def test_the_plan_sums_every_file_of_the_set() -> None:
    summary = summarize([
        ("-- MANUAL: data\nDROP TABLE a;\n", "a_rollback.sql"),
        ("CREATE INDEX CONCURRENTLY i ON t (c);\nALTER TABLE t ADD COLUMN c int;", "b.sql"),
    ])  # fmt: skip
    assert (summary.statements, summary.manual_items, summary.non_transactional) == (3, 1, 1)
    assert summary.destroys_data
    assert summary.strongest_lock == "ACCESS EXCLUSIVE"


def test_states_from_the_result_replace_pending_and_keep_the_rest() -> None:
    entries = target.resolve(directory(EVENTS, SOCIAL), BASE[:14], "dir").status_entries()
    result = JobResult.from_dict({
        "exit_name": "SQL_ERROR",
        "migration_states": {"20251105000001": "Failed", "20251113000001": "Skipped"},
    })  # fmt: skip
    states = target.with_states(entries, result.migration_states)
    assert [(e["name"], e["state"]) for e in states] == [(SOCIAL, "Skipped"), (EVENTS, "Failed")]
    assert target.with_states(entries, {}) == entries


def test_an_unknown_state_from_a_newer_runner_reads_as_pending() -> None:
    result = JobResult.from_dict({"exit_name": "OK", "migration_states": {"1": "Exploded"}})
    assert result.migration_states == {"1": MigrationState.PENDING}
