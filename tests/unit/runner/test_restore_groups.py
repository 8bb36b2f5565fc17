"""Where restores go in a rollback: its `-- undoes <file>:<line>` groups (pure)."""

from __future__ import annotations

from migration_rollback.runner.capture_plan import CaptureKind
from migration_rollback.runner.restore import DataRestore
from migration_rollback.runner.restore_captures import Capture, Group, groups_in
from migration_rollback.sql import parse_script

ROLLBACK = """-- ROLLBACK: 20250102000000_x
-- undoes m.sql:2: delete from t
-- MANUAL: DELETE changed rows of public.t
-- undoes m.sql:1: alter table t add column c int
ALTER TABLE t DROP COLUMN c;
-- MANUAL: something else
"""


def test_groups_run_to_the_next_group_or_the_end() -> None:
    assert groups_in(ROLLBACK, "1") == [Group("1", 2, 4, 2), Group("1", 4, 10**9, 1)]


def test_a_hand_written_rollback_without_groups_has_none() -> None:
    assert groups_in("drop table t;\n-- MANUAL: rows\n", "1") == []


def _capture(line: int, kind: CaptureKind) -> Capture:
    return Capture(
        id=1, version="1", statement=2, line=line, kind=kind, status="captured", reason=None,
        schema="public", table="t", key=("id",), columns=("id",), types=("integer",),
        capture_table="k", rows=0, xid=7, detail=None,
    )  # fmt: skip


def test_a_capture_answers_the_markers_of_its_statement_only() -> None:
    forward = parse_script("alter table t add column c int;\ndelete from t where id < 0;\n")
    restore = DataRestore(captures=[_capture(2, CaptureKind.DELETE)])
    restore.add("1", groups_in(ROLLBACK, "1"), {s.location.line: s for s in forward.statements})
    assert restore.answers("1", 3)
    assert not restore.answers("1", 6)  # the ADD COLUMN's group: no capture for it
    assert not restore.answers("2", 3)  # another migration
