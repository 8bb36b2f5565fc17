"""Which rollback steps `execute` keeps, not run: those of an `-- undoes` group whose forward IF
NOT EXISTS apply saw meet an existing object (pure: captures and rollback text only)."""

from __future__ import annotations

from typing import Any

from migration_rollback.runner.capture_plan import CaptureKind
from migration_rollback.runner.options import MigrationId
from migration_rollback.runner.plan import build_plan, keeping
from migration_rollback.runner.restore import DataRestore
from migration_rollback.runner.restore_captures import Capture, groups_in
from migration_rollback.runner.rollback_file import parse_rollback
from migration_rollback.sql import parse_script

FORWARD = (
    "alter table public.t add column if not exists c text;\n"
    "create index if not exists by_name on public.t (name);\n"
)
ROLLBACK = """-- ROLLBACK: 20250102000000_x
-- undoes m.sql:2: create index if not exists by_name on public.t (name)
DROP INDEX IF EXISTS public.by_name;

-- undoes m.sql:1: alter table public.t add column if not exists c text
ALTER TABLE public.t DROP COLUMN IF EXISTS c;
"""
INDEX_STEP, COLUMN_STEP = 3, 6
V = "20250102000000"


def _capture(line: int, kind: CaptureKind, detail: dict[str, Any], xid: int | None = 7) -> Capture:
    return Capture(
        id=line, version=V, statement=line, line=line, kind=kind, status="captured",
        reason=None, schema="public", table="t", key=(), columns=(), types=(),
        capture_table=None, rows=0, xid=xid, detail={"object": "c on public.t", **detail},
    )  # fmt: skip


def _restore(*captures: Capture) -> DataRestore:
    restore = DataRestore(captures=list(captures))
    forward = {s.location.line: s for s in parse_script(FORWARD).statements}
    steps = [s.location.line for s in parse_script(ROLLBACK).statements]
    restore.add(V, groups_in(ROLLBACK, V), forward, (), steps)
    return restore


EXISTED = {"existed": True, "absent": False, "restore": []}


def test_the_step_undoing_what_existed_is_kept_the_others_run() -> None:
    restore = _restore(
        _capture(1, CaptureKind.ADD_COLUMN, EXISTED),
        _capture(2, CaptureKind.CREATE_INDEX, {"absent": True, "restore": ["DROP INDEX i"]}),
    )
    assert restore.keeps(V, COLUMN_STEP)
    assert not restore.keeps(V, INDEX_STEP)  # the statement made the index: dropped
    assert not restore.keeps("20250103000000", COLUMN_STEP)  # another migration's rollback


def test_an_index_that_existed_is_kept_too() -> None:
    restore = _restore(_capture(2, CaptureKind.CREATE_INDEX, EXISTED))
    assert restore.keeps(V, INDEX_STEP)
    assert not restore.keeps(V, COLUMN_STEP)  # no capture: history says new, dropped


def test_a_capture_that_is_not_usable_keeps_nothing() -> None:
    """No transaction id: the capture's own transaction never committed, it proves nothing."""
    restore = _restore(_capture(1, CaptureKind.ADD_COLUMN, EXISTED, xid=None))
    assert not restore.keeps(V, COLUMN_STEP)


def test_the_kept_capture_is_answered_where_the_step_would_have_run() -> None:
    """Its restore (which says `kept`) is scheduled, not left to a group that runs SQL."""
    restore = _restore(_capture(1, CaptureKind.ADD_COLUMN, EXISTED))
    plan = keeping(_plan(), restore.keeps_step)
    restore.schedule(plan)
    assert [c.line for c in restore.definitions_due] == [1]


def _plan() -> Any:
    source = parse_rollback(MigrationId.parse("20250102000000_x"), "x.sql", ROLLBACK.encode())
    return build_plan([source], purge=True)


def test_kept_statements_leave_the_plan_and_its_data_loss_gate() -> None:
    plan = _plan()
    assert [p.statement.location.line for p in plan.destructive] == [COLUMN_STEP]
    restore = _restore(_capture(1, CaptureKind.ADD_COLUMN, EXISTED))

    kept = keeping(plan, restore.keeps_step)

    assert [p.statement.location.line for p in kept.statements] == [INDEX_STEP]
    assert [p.statement.location.line for p in kept.kept] == [COLUMN_STEP]
    assert kept.destructive == ()


def test_without_captures_nothing_is_kept() -> None:
    plan = _plan()
    assert keeping(plan, DataRestore().keeps_step) == plan


def test_two_statements_on_the_captured_line_keep_nothing() -> None:
    """The capture names the line, not which of its statements: the table the other one made
    must still be dropped, so neither group's steps are kept."""
    forward = (
        "alter table public.t add column if not exists c text; create table public.u (id int);\n"
    )
    rollback = """-- ROLLBACK: 20250102000000_x
-- undoes m.sql:1: create table public.u (id int)
DROP TABLE public.u;

-- undoes m.sql:1: alter table public.t add column if not exists c text
ALTER TABLE public.t DROP COLUMN IF EXISTS c;
"""
    restore = DataRestore(captures=[_capture(1, CaptureKind.ADD_COLUMN, EXISTED)])
    by_line = {s.location.line: s for s in parse_script(forward).statements}
    steps = [s.location.line for s in parse_script(rollback).statements]
    restore.add(V, groups_in(rollback, V), by_line, (), steps)
    assert not restore.keeps(V, 3)
    assert not restore.keeps(V, 6)


def _keeps_on(forward: str, rollback: str, *captures: Capture) -> list[int]:
    restore = DataRestore(captures=list(captures))
    by_line = {s.location.line: s for s in parse_script(forward).statements}
    steps = [s.location.line for s in parse_script(rollback).statements]
    restore.add(V, groups_in(rollback, V), by_line, (), steps)
    return [line for line in steps if restore.keeps(V, line)]


def test_another_subcommand_of_the_statement_is_still_undone() -> None:
    """The column existed, so ADD COLUMN IF NOT EXISTS did nothing; the constraint and the
    default the same statement added are new all the same: their undo runs (nothing of the
    group is kept: its steps are not told apart)."""
    forward = (
        "alter table public.t add column if not exists c text, add constraint k check (c <> '');\n"
        "alter table public.t add column if not exists d text, alter column id set default 1;\n"
    )
    rollback = """-- ROLLBACK: 20250102000000_x
-- undoes m.sql:2: alter table public.t add column if not exists d text, alter column id ...
ALTER TABLE public.t ALTER COLUMN id DROP DEFAULT;
ALTER TABLE public.t DROP COLUMN IF EXISTS d;

-- undoes m.sql:1: alter table public.t add column if not exists c text, add constraint k ...
ALTER TABLE public.t DROP CONSTRAINT IF EXISTS k;
ALTER TABLE public.t DROP COLUMN IF EXISTS c;
"""
    kept = _keeps_on(
        forward,
        rollback,
        _capture(1, CaptureKind.ADD_COLUMN, EXISTED),
        _capture(2, CaptureKind.ADD_COLUMN, EXISTED),
    )
    assert kept == []


def test_every_column_of_the_statement_existed_keeps_its_steps() -> None:
    forward = (
        "alter table public.t add column if not exists c text, add column if not exists d int;\n"
    )
    rollback = """-- ROLLBACK: 20250102000000_x
-- undoes m.sql:1: alter table public.t add column if not exists c text, ...
ALTER TABLE public.t DROP COLUMN IF EXISTS d;
ALTER TABLE public.t DROP COLUMN IF EXISTS c;
"""
    one = _capture(1, CaptureKind.ADD_COLUMN, EXISTED)
    both = [one, _capture(1, CaptureKind.ADD_COLUMN, EXISTED)]
    assert _keeps_on(forward, rollback, *both) == [3, 4]
    assert _keeps_on(forward, rollback, one) == []  # d's capture missing: d may be new
