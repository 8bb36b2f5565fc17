"""Markers, `-- undoes` groups and statements are numbered alike, whatever breaks a line.

Statement locations count `\\n` lines; `str.splitlines()` also breaks at a form feed, U+2028,
U+0085... A rollback holding one of those (a page break in a comment, a pasted character) had
its MANUAL markers and restore groups numbered past its statements: messages named the wrong
line and restores were placed after the statements that follow their group.
"""

from __future__ import annotations

import pytest

from migration_rollback.runner.options import MigrationId
from migration_rollback.runner.restore_captures import groups_in
from migration_rollback.runner.rollback_file import parse_rollback

BREAKS = ["\x0c", "\x0b", "\x1c", "\x85", "\u2028", "\u2029"]


def rollback(extra: str) -> str:
    return (
        "-- ROLLBACK: 20250102000000_x\n"
        f"-- reviewed{extra * 4}\n"
        "-- undoes m.sql:2: update t set x = 1\n"
        "-- MANUAL: UPDATE changed rows of public.t\n"
        "-- undoes m.sql:1: alter table t rename a to b\n"
        "ALTER TABLE t RENAME COLUMN b TO a;\n"
    )


@pytest.mark.parametrize("extra", BREAKS, ids=[f"U+{ord(b):04X}" for b in BREAKS])
def test_markers_groups_and_statements_share_line_numbers(extra: str) -> None:
    text = rollback(extra)
    source = parse_rollback(MigrationId.parse("20250102000000_x"), "x.sql", text.encode())

    assert [m.line for m in source.manual] == [4]
    assert [(g.start, g.end) for g in groups_in(text, "1")] == [(3, 5), (5, 10**9)]
    assert [s.location.line for s in source.script.statements] == [6]


def test_a_marker_after_another_break_is_still_found() -> None:
    text = "DROP TABLE t;\n-- note\u2028-- MANUAL: restore the rows\n"
    source = parse_rollback(MigrationId.parse("20250102000000_x"), "x.sql", text.encode())

    assert [(m.line, m.text) for m in source.manual] == [(2, "restore the rows")]
