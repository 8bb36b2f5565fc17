"""`ALTER TABLE ONLY`'s undo, row by row of `rules/only.ONLY_UNDO`: each subcommand written with
ONLY, on a plain table, an inheritance parent and a partitioned table. The undo keeps ONLY,
goes without it (where ONLY changed nothing in the forward), or is a MANUAL item saying why;
tests/integration/verify/test_verify_only_scope.py runs every row on a real server."""

from __future__ import annotations

from typing import NamedTuple

import pytest
from pglast import parse_sql
from pglast.enums.parsenodes import AlterTableType as AT
from pglast.stream import RawStream

from migration_rollback.sql import ManualNeed, build_history, generate_rollback, parse_script
from migration_rollback.sql.inverse import invert
from migration_rollback.sql.rules.context import Context
from migration_rollback.sql.rules.only import ONLY_UNDO, Reach
from migration_rollback.sql.rules.only import reach as only_reach

COLUMNS = "(a int, b int default 1, c int not null, e int, constraint k check (a > 0))"
_TRIGGER = "create trigger tg before insert on public.t for each row execute function public.f();\n"
_PLAIN = f"create table public.t {COLUMNS};\n{_TRIGGER}"
BASE = {  # the table, without its child
    Reach.TABLE: _PLAIN,
    Reach.INHERITED: _PLAIN,
    Reach.PARTITIONED: f"create table public.t {COLUMNS} partition by range (a);\n{_TRIGGER}",
}
CHILD = {  # with settings of its own, which an undo reaching it would overwrite
    Reach.TABLE: "",
    Reach.INHERITED: "create table public.kid (a int not null, b int default 3)"
    " inherits (public.t);\n",
    Reach.PARTITIONED: "create table public.t1 partition of public.t (a not null, b default 3)"
    " for values from (0) to (10);\n",
}
HISTORY = {reach: BASE[reach] + CHILD[reach] for reach in Reach}


class Case(NamedTuple):
    subtype: AT
    forward: str  # after `ALTER TABLE ONLY public.t`
    undo: str | None  # after `ALTER TABLE ONLY public.t`; None: its undo is no SQL
    refused: tuple[Reach, ...] = ()  # where the undo is a MANUAL item instead
    setup: str = ""  # more history
    widened: tuple[Reach, ...] = ()  # where the undo goes without ONLY


ALL = tuple(Reach)


CASES = [
    Case(AT.AT_AddColumn, "add column d int", "DROP COLUMN IF EXISTS d", widened=ALL),
    Case(AT.AT_AlterColumnType, "alter column e type bigint",
         "ALTER COLUMN e TYPE int USING e::int", widened=ALL),
    Case(AT.AT_DropColumn, "drop column e", "ADD COLUMN IF NOT EXISTS e int", (Reach.INHERITED,),
         widened=(Reach.PARTITIONED,)),
    Case(AT.AT_ColumnDefault, "alter column b set default 2", "ALTER COLUMN b SET DEFAULT 1"),
    Case(AT.AT_SetNotNull, "alter column a set not null", "ALTER COLUMN a DROP NOT NULL",
         (Reach.PARTITIONED,)),
    Case(AT.AT_DropNotNull, "alter column c drop not null", "ALTER COLUMN c SET NOT NULL",
         widened=(Reach.PARTITIONED,)),
    Case(AT.AT_AddConstraint, "add constraint k2 check (a > 1) no inherit",
         "DROP CONSTRAINT IF EXISTS k2", (Reach.PARTITIONED,)),
    Case(AT.AT_DropConstraint, "drop constraint k", "ADD CONSTRAINT k CHECK (a > 0)",
         (Reach.INHERITED,), widened=(Reach.PARTITIONED,)),
    Case(AT.AT_EnableTrig, "enable trigger tg", "DISABLE TRIGGER tg",
         setup="alter table public.t disable trigger tg;"),
    Case(AT.AT_DisableTrig, "disable trigger tg", "ENABLE TRIGGER tg"),
    Case(AT.AT_EnableRowSecurity, "enable row level security", "DISABLE ROW LEVEL SECURITY"),
    Case(AT.AT_DisableRowSecurity, "disable row level security", "ENABLE ROW LEVEL SECURITY",
         setup="alter table public.t enable row level security;"),
    Case(AT.AT_ForceRowSecurity, "force row level security", "NO FORCE ROW LEVEL SECURITY"),
    Case(AT.AT_NoForceRowSecurity, "no force row level security", "FORCE ROW LEVEL SECURITY",
         setup="alter table public.t force row level security;"),
    Case(AT.AT_AddIdentity, "alter column c add generated always as identity",
         "ALTER COLUMN c DROP IDENTITY IF EXISTS"),
    Case(AT.AT_AttachPartition, "attach partition public.t2 for values from (10) to (20)",
         "DETACH PARTITION public.t2"),
    Case(AT.AT_ValidateConstraint, "validate constraint k", None),
    Case(AT.AT_ChangeOwner, "owner to bob", None, setup="create role bob;"),
    Case(AT.AT_ReplicaIdentity, "replica identity full", "REPLICA IDENTITY DEFAULT"),
    Case(AT.AT_EnableAlwaysTrig, "enable always trigger tg", "ENABLE TRIGGER tg"),
    Case(AT.AT_EnableReplicaTrig, "enable replica trigger tg", "DISABLE TRIGGER tg",
         setup="alter table public.t disable trigger tg;"),
    Case(AT.AT_SetRelOptions, "set (fillfactor = 50)", "RESET (fillfactor)"),
    Case(AT.AT_ResetRelOptions, "reset (fillfactor)", "SET (fillfactor = 70)",
         setup="alter table public.t set (fillfactor = 70);"),
]  # fmt: skip


def _normalize(text: str) -> str:
    return str(RawStream()(parse_sql(text)[0].stmt))


@pytest.mark.parametrize("reach", list(Reach), ids=lambda r: r.name)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.subtype.name)
def test_only_undo(case: Case, reach: Reach) -> None:
    history = build_history([parse_script(HISTORY[reach] + case.setup, "earlier.sql")])
    forward = parse_script(f"alter table only public.t {case.forward};", "m.sql")
    assert forward.statements[0].node.cmds[0].subtype == case.subtype
    plan = generate_rollback(forward, "m", history)
    refused = reach in case.refused
    prefix = "ALTER TABLE public.t" if reach in case.widened else "ALTER TABLE ONLY public.t"
    wanted = [] if refused or case.undo is None else [f"{prefix} {case.undo}"]
    assert [_normalize(s.sql or "") for s in plan.sql_steps] == [_normalize(w) for w in wanted]
    scoped = [i for _, i in plan.manual_items if i.reason.startswith("ALTER TABLE ONLY")]
    assert [i.need for i in scoped] == ([ManualNeed.UNSUPPORTED] if refused else [])
    for item in scoped:  # says what, where, and why
        assert (
            f"public.t {case.subtype.name.removeprefix('AT_')}, on {reach.value}: " in item.reason
        )


def test_every_row_of_the_table_has_cases() -> None:
    assert sorted(c.subtype for c in CASES) == sorted(ONLY_UNDO)


def test_without_only_the_undo_reaches_the_children_as_the_forward_did() -> None:
    history = build_history([parse_script(HISTORY[Reach.INHERITED], "earlier.sql")])
    forward = parse_script("alter table public.t alter column b set default 2;", "m.sql")
    (step,) = generate_rollback(forward, "m", history).sql_steps
    assert step.sql == "ALTER TABLE public.t ALTER COLUMN b SET DEFAULT 1"


@pytest.mark.parametrize(
    ("forward", "says"),
    [
        ("truncate only public.t, public.kid", "(public.t ONLY: not its children or partitions)"),
        ("truncate public.t", "(public.t with its children or partitions)"),
        ("delete from only public.t", "rows of public.t (ONLY: not its children or partitions)"),
        ("update public.t set a = 1", "rows of public.t (with its children or partitions)"),
        ("delete from public.kid", "rows of public.kid: restore"),  # no children known
    ],
)
def test_a_data_change_says_which_tables_rows_to_restore(forward: str, says: str) -> None:
    history = build_history([parse_script(HISTORY[Reach.INHERITED], "earlier.sql")])
    plan = generate_rollback(parse_script(forward + ";", "m.sql"), "m", history)
    ((_, item),) = plan.manual_items
    assert item.need == ManualNeed.DATA_CHANGE
    assert says in item.reason


def test_an_attached_index_not_new_here_is_left_to_a_human() -> None:
    forward = parse_script("alter index public.p_idx attach partition public.p1_idx;", "m.sql")
    plan = generate_rollback(forward, "m", None)
    assert not plan.sql_steps  # PostgreSQL has no DETACH PARTITION for an index
    ((_, item),) = plan.manual_items
    assert "public.p1_idx was attached to public.p_idx: PostgreSQL cannot detach" in item.reason


@pytest.mark.parametrize(
    ("earlier", "reach"),
    [
        ("create table public.t (a int); create table public.kid () inherits (public.t);",
         Reach.INHERITED),
        ("create table public.t (a int); create table public.kid (a int);"
         "alter table public.kid inherit public.t;", Reach.INHERITED),
        ("create table public.t (a int) partition by list (a);", Reach.PARTITIONED),
        # The parent made outside the known migrations (a baseline): its partition tells.
        ("create table public.t1 partition of public.t for values in (1);", Reach.PARTITIONED),
        ("create table public.t (a int) partition by list (a); drop table public.t;"
         "create table public.t (a int);", Reach.TABLE),  # dropped: a new table of the name
        ("create table public.t (a int); create table public.u (a int);", Reach.TABLE),
    ],
)  # fmt: skip
def test_what_earlier_migrations_tell_of_a_tables_children(earlier: str, reach: Reach) -> None:
    history = build_history([parse_script(earlier, "earlier.sql")])
    assert only_reach(Context(history), "public", "t") is reach


@pytest.mark.parametrize(
    ("here", "reach"),
    [
        ("create table public.kid () inherits (public.t);", Reach.INHERITED),
        ("create table public.kid (a int); alter table public.kid inherit public.t;",
         Reach.INHERITED),
        ("create table public.t1 partition of public.t for values in (1);", Reach.PARTITIONED),
        ("create table public.t2 (a int);"
         "alter table public.t attach partition public.t2 for values in (2);", Reach.PARTITIONED),
        ("set search_path = s; create table kid () inherits (t);", Reach.TABLE),  # s.t's child
        ("create table public.u (a int);", Reach.TABLE),
    ],
)  # fmt: skip
def test_what_this_migrations_statements_so_far_tell(here: str, reach: Reach) -> None:
    """Learned as the statements are inverted: an undo runs while the children made here
    still exist (they are dropped after it)."""
    ctx = Context(build_history([parse_script("create table public.t (a int);", "e.sql")]))
    for statement in parse_script(here, "m.sql").statements:
        invert(statement, ctx)
    assert only_reach(ctx, "public", "t") is reach


def test_a_table_renamed_here_is_known_by_its_earlier_name() -> None:
    earlier = "create table public.t (a int) partition by list (a);"
    ctx = Context(build_history([parse_script(earlier, "e.sql")]))
    for statement in parse_script("alter table public.t rename to u;", "m.sql").statements:
        invert(statement, ctx)
    assert only_reach(ctx, "public", "u") is Reach.PARTITIONED
    assert only_reach(ctx, "public", "t") is Reach.TABLE  # gone: a new table of the name


def test_a_child_made_earlier_in_the_migration_keeps_the_undo_off_its_parent() -> None:
    """`ADD COLUMN ONLY` back is refused while the child made here exists: the undo of the
    ONLY runs before the child is dropped."""
    history = build_history([parse_script("create table public.t (a int);", "e.sql")])
    forward = (
        "create table public.kid () inherits (public.t); alter table only public.t drop column a;"
    )
    plan = generate_rollback(parse_script(forward, "m.sql"), "m", history)
    assert [s.sql for s in plan.sql_steps] == ["DROP TABLE IF EXISTS public.kid"]
    assert any("ONLY public.t DropColumn, on an inheritance parent" in i.reason
               for _, i in plan.manual_items)  # fmt: skip


def test_an_only_undo_on_a_table_new_here_is_left_to_its_drop() -> None:
    forward = (
        "create table public.p (a int) partition by list (a);"
        "create table public.p1 partition of public.p for values in (1);"
        "alter table only public.p add constraint p_pk primary key (a);"
    )
    plan = generate_rollback(parse_script(forward, "m.sql"), "m", None)
    assert [s.sql for s in plan.sql_steps] == [
        "DROP TABLE IF EXISTS public.p1", "DROP TABLE IF EXISTS public.p"
    ]  # fmt: skip
    assert not plan.manual_items


def test_a_parent_known_only_by_its_partitions_is_partitioned_for_the_undo() -> None:
    """The parent made outside the known migrations, a partition made in one: dropping the
    ONLY primary key back would take the partition's attached key with it."""
    earlier = "create table public.p1 partition of public.p for values in (1);"
    history = build_history([parse_script(earlier, "e.sql")])
    forward = "alter table only public.p add constraint p_pk primary key (a);"
    plan = generate_rollback(parse_script(forward, "m.sql"), "m", history)
    assert not plan.sql_steps
    assert plan.manual_items
