"""The full snapshot's staged read covers every kind exactly once, whatever the server's major."""

from __future__ import annotations

import dataclasses

import pytest

from migration_rollback.verify.snapshot import kinds_for
from migration_rollback.verify.snapshot.read import stages_of as stages


@pytest.mark.parametrize("version", [140000, 150000, 170000])
def test_every_kind_is_read_in_exactly_one_stage(version: int) -> None:
    kinds = kinds_for(version)
    read = [kind for stage in stages(kinds) for kind in stage]
    assert sorted(k.label for k in read) == sorted(k.label for k in kinds)
    assert len(read) == len(set(read))


def test_a_kind_without_a_stage_is_read_last() -> None:
    new = dataclasses.replace(kinds_for(170000)[0], label="a kind added later")
    assert new in stages((*kinds_for(170000), new))[-1]


def test_the_kinds_with_most_rows_are_not_read_last() -> None:
    # Nothing overlaps the conversion of the last stage's rows.
    last = {k.label for k in stages(kinds_for(170000))[-1]}
    assert last.isdisjoint({"relation", "column"})
