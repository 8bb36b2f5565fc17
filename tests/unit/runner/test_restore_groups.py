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


DEFINITIONS = """-- ROLLBACK: 20250102000000_x
-- undoes m.sql:1: drop function if exists a(), b()
CREATE FUNCTION public.a() RETURNS int LANGUAGE sql AS 'select 1';
-- MANUAL: function public.b() was dropped; recreate it
-- undoes m.sql:2: drop trigger if exists t on x
-- MANUAL: trigger t on x was dropped; recreate it
"""


def test_a_definition_marker_in_a_group_that_runs_sql_stays_unanswered() -> None:
    """The restore is left to a group that runs SQL of its own (it would collide with what
    the group recreates): its MANUAL marker must then still stop the run, not count as
    answered while nothing is put back (`DROP FUNCTION a(), b()`, a known from history)."""
    forward = parse_script("drop function if exists a(), b();\ndrop trigger if exists t on x;\n")
    rollback = parse_script(DEFINITIONS)
    restore = DataRestore(
        captures=[_capture(1, CaptureKind.DROP_ROUTINE), _capture(2, CaptureKind.DROP_TRIGGER)]
    )
    restore.add(
        "1",
        groups_in(DEFINITIONS, "1"),
        {s.location.line: s for s in forward.statements},
        markers=(4, 6),
        statement_lines=[s.location.line for s in rollback.statements],
    )
    assert not restore.answers("1", 4)  # the group runs CREATE FUNCTION a(): left to it
    assert restore.answers("1", 6)  # the trigger's group says MANUAL and runs nothing
