"""Validators of names, versions and durations match the whole text in ASCII: `^...$` read
with `.match` let a final newline through (a label value "web\\n" reached the selector), and
`\\d` took any Unicode digit ("٣" read as the version 3)."""

from __future__ import annotations

import pytest

from migration_rollback.jobresult import version_key
from migration_rollback.lifecycle.durations import parse_duration
from migration_rollback.project.manifests import manifest_problem
from migration_rollback.runner.errors import PreconditionError
from migration_rollback.runner.options import MigrationId


@pytest.mark.parametrize("text", ["5s\n5s", "\u0663s", "1\u0660m"])
def test_a_duration_is_ascii_digits_and_a_unit_only(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


def test_a_duration_still_reads() -> None:
    assert parse_duration(" 250ms ") == 0.25
    assert parse_duration("2m") == 120


@pytest.mark.parametrize("stem", ["\u0663_init", "\u0661\u0662_init"])
def test_a_migration_version_is_ascii_digits(stem: str) -> None:
    with pytest.raises(PreconditionError, match="does not start with a version"):
        MigrationId.parse(stem)


def test_a_manifest_name_with_a_final_newline_is_refused() -> None:
    assert manifest_problem("20250101000001_init\n") is not None
    assert manifest_problem("20250101000001_init") is None


def test_a_unicode_digit_version_sorts_as_text_not_as_its_number() -> None:
    assert version_key("\u0663") == (1, "\u0663")
    assert version_key("3") == (0, 3)
