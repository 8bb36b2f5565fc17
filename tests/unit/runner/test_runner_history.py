"""Which versions a run removes from the history table, and which stay."""

from __future__ import annotations

import pytest

from migration_rollback.runner.errors import PreconditionError
from migration_rollback.runner.history import later_versions, versions_to_roll_back

APPLIED = ["20251101000000", "20251113000001", "20251201000000", "20251202000000"]


def test_single_migration_must_be_applied() -> None:
    assert versions_to_roll_back(APPLIED, single="20251113000001", to=None) == ["20251113000001"]
    with pytest.raises(PreconditionError, match=r"not recorded as applied.*20251202000000"):
        versions_to_roll_back(APPLIED, single="20251114000000", to=None)


def test_to_version_is_every_newer_one_newest_first() -> None:
    assert versions_to_roll_back(APPLIED, single=None, to="20251113000001") == [
        "20251202000000",
        "20251201000000",
    ]
    assert versions_to_roll_back(APPLIED, single=None, to="0") == list(reversed(APPLIED))
    assert versions_to_roll_back(APPLIED, single=None, to="000") == list(reversed(APPLIED))
    with pytest.raises(PreconditionError, match="nothing to roll back"):
        versions_to_roll_back(APPLIED, single=None, to="20251202000000")


@pytest.mark.parametrize(
    "target", ["2025", "20251113000000", "2025111300000", "abc", "\u0660", "0\u0660"]
)
def test_a_target_that_is_not_applied_is_refused_not_read_as_a_bound(target: str) -> None:
    # "2025" rolled back all four, "20251113000000" (a typo) three.
    with pytest.raises(PreconditionError, match=rf"--to {target} is not an applied version"):
        versions_to_roll_back(APPLIED, single=None, to=target)


def test_a_target_with_a_migration_file_is_a_target_though_not_applied() -> None:
    # Applied 1, 2, 4 and a file for 3: --to 3 rolls back 4 (it refused, exit 3).
    applied = ["1", "2", "4"]
    assert versions_to_roll_back(applied, single=None, to="3", has_file={"3"}.__contains__) == ["4"]
    with pytest.raises(PreconditionError, match="no migration file has it"):
        versions_to_roll_back(applied, single=None, to="5", has_file={"3"}.__contains__)


def test_later_versions_stay_applied() -> None:
    assert later_versions(APPLIED, ["20251113000001"]) == ["20251201000000", "20251202000000"]
    assert later_versions(APPLIED, ["20251202000000"]) == []
