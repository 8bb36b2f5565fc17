"""Absurd durations are refused with the option named; a version's recorded name is matched."""

from __future__ import annotations

from datetime import timedelta

import pytest

from migration_rollback.runner.options import (
    MigrationId,
    RunOptions,
    check_timeout,
    parse_duration,
)


@pytest.mark.parametrize("text", ["9" * 400, "99999999999999999999999d", "1" + "0" * 30 + "h"])
def test_overflowing_durations_are_value_errors(text: str) -> None:
    with pytest.raises(ValueError, match="duration out of range"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (timedelta(0), "must be at least 1ms"),
        (timedelta(microseconds=400), "must be at least 1ms"),
        (timedelta(hours=24, seconds=1), "must be at most 24h"),
    ],
)
def test_timeouts_outside_the_range_are_refused(value: timedelta, message: str) -> None:
    with pytest.raises(ValueError, match=f"--lock-timeout: {message}"):
        check_timeout("--lock-timeout", value)


def test_the_edges_are_accepted() -> None:
    check_timeout("--lock-timeout", timedelta(milliseconds=1))
    check_timeout("--lock-timeout", timedelta(hours=24))


@pytest.mark.parametrize(
    ("field", "option"),
    [("lock_timeout", "--lock-timeout"), ("statement_timeout", "--statement-timeout"),
     ("max_age", "--max-age")],
)  # fmt: skip
def test_run_options_refuse_a_zero_timeout(field: str, option: str) -> None:
    with pytest.raises(ValueError, match=f"{option}: must be at least 1ms"):
        RunOptions(database_url="postgresql://x/y", to_version="1", **{field: timedelta(0)})  # type: ignore[arg-type]


def test_recorded_names_match_the_title_or_the_full_name() -> None:
    migration = MigrationId.parse("20251113000001_timeline_social")
    assert migration.title == "timeline_social"
    assert migration.same_name("timeline_social")
    assert migration.same_name("20251113000001_timeline_social")
    assert not migration.same_name("other_feature")
    assert not migration.same_name("timeline")
