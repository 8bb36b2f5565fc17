"""`ALTER TABLE ONLY` undone with the same scope, proven on a real PostgreSQL: an inheritance
parent with a child, a partitioned table with a partition, each child holding settings of
its own that a recursing undo (`ALTER TABLE parent …` without ONLY) would overwrite.

Each migration is generated with `generate --verify`: the round trip must leave the children
as they were, and each rollback must say ONLY where the forward did.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pglast.enums.parsenodes import AlterTableType as AT
from tests.unit.sql.test_only_scope import BASE as TABLES
from tests.unit.sql.test_only_scope import CASES, CHILD, COLUMNS, HISTORY, Case
from verify_support import (
    assert_verified,
    body_of,
    explain,
    generate_replays,
    statuses,
    write_project,
)

from migration_rollback.sql import build_history, generate_rollback, parse_script
from migration_rollback.sql.rules.only import Reach
from migration_rollback.verify import GeneratedRollback, verify_project

pytestmark = pytest.mark.integration

# Each child differs from its parent: its own default, NOT NULL and trigger switch.
BASE = r"""
create table public.par (id int, b int, c int);
create table public.ch (b int default 3, c int not null) inherits (public.par);
create table public.pt (id int not null, b int, c int) partition by range (id);
create table public.pt1 partition of public.pt (b default 3, c not null)
  for values from (0) to (100);
create function public.touch() returns trigger language plpgsql as $$ begin return new; end $$;
create trigger pt_touch before insert on public.pt for each row execute function public.touch();
alter table public.pt1 disable trigger pt_touch;
"""

MIGRATIONS = [
    ("inherited_default", "alter table only public.par alter column b set default 7;\n"),
    ("inherited_not_null", "alter table only public.par alter column c set not null;\n"),
    ("partitioned_default", "alter table only public.pt alter column b set default 7;\n"),
    ("partitioned_trigger", "alter table only public.pt disable trigger pt_touch;\n"),
    # pg_dump's way: the parent's index alone, the partition's, then one attached to the other
    (
        "index_attached",
        "create index pt_b_idx on only public.pt (b);\n"
        "create index pt1_b_idx on public.pt1 (b);\n"
        "alter index public.pt_b_idx attach partition public.pt1_b_idx;\n",
    ),
]
VERIFIED = [name for name, _ in MIGRATIONS]
# Last: it changes the base for good. The child keeps the column as its own; no undo keeps
# to the parent alone (ADD COLUMN ONLY is refused while the child exists).
MIGRATIONS.append(("inherited_drop_column", "alter table only public.par drop column c;\n"))


@pytest.fixture(scope="module")
def generated(
    tmp_path_factory: pytest.TempPathFactory, pg_server: object
) -> dict[str, GeneratedRollback]:
    root = tmp_path_factory.mktemp("only_scope")
    return generate_replays(root, BASE, MIGRATIONS, str(pg_server.admin_url))  # type: ignore[attr-defined]


@pytest.mark.parametrize("case", VERIFIED)
def test_the_undo_leaves_the_children_alone(
    generated: dict[str, GeneratedRollback], case: str
) -> None:
    assert_verified(generated[case])


@pytest.mark.parametrize(
    ("case", "undo"),
    [
        ("inherited_default", "ALTER TABLE ONLY public.par ALTER COLUMN b DROP DEFAULT"),
        ("inherited_not_null", "ALTER TABLE ONLY public.par ALTER COLUMN c DROP NOT NULL"),
        ("partitioned_default", "ALTER TABLE ONLY public.pt ALTER COLUMN b DROP DEFAULT"),
        ("partitioned_trigger", "ALTER TABLE ONLY public.pt ENABLE TRIGGER pt_touch"),
    ],
)
def test_the_undo_says_only(generated: dict[str, GeneratedRollback], case: str, undo: str) -> None:
    """The static undo alone: no repair of a child the round trip found changed."""
    body = body_of(generated, case)
    assert [line for line in body.splitlines() if not line.startswith("--")] == [undo + ";"]


def test_an_attached_index_goes_with_its_parent(generated: dict[str, GeneratedRollback]) -> None:
    body = body_of(generated, "index_attached")
    assert body.index("DROP INDEX IF EXISTS public.pt_b_idx;") < body.index("pt1_b_idx;")


def test_a_column_dropped_from_an_inheritance_parent_alone_is_left_to_a_human(
    generated: dict[str, GeneratedRollback],
) -> None:
    g = generated["inherited_drop_column"]
    assert any("ONLY public.par DropColumn" in str(m) for m in g.still_manual), g.still_manual
    # Not the form PostgreSQL refuses while the child exists (the verifier's own fill, which
    # merges with the child's column, may follow).
    assert "ALTER TABLE ONLY public.par ADD COLUMN" not in (g.sql_body or "")


@pytest.mark.parametrize("child", ["public.ch", "public.pt1"])
def test_a_rollback_that_changes_a_child_is_not_verified(
    tmp_path: Path, shadow_url: str, child: str
) -> None:
    """Written by hand without ONLY, the undo recurses into the child and drops its own
    default: the check reads the child too (the event triggers name only the parent)."""
    parent = "public.par" if child == "public.ch" else "public.pt"
    forward = f"alter table only {parent} alter column b set default 7;\n"
    rollback = f"alter table {parent} alter column b drop default;\n"
    pairs = write_project(tmp_path, [("base", BASE, None), ("default", forward, rollback)])
    results = verify_project(pairs, shadow_url)
    assert statuses(results)[-1] != "verified", explain(results)
    assert f"{child}" in explain(results)


# --- every row of ONLY_UNDO, forward then back, on a real server ---------------------------

# The unit cases' forwards that no table of this reach accepts at all.
NEVER_RUNS = {
    (AT.AT_AttachPartition, Reach.TABLE),  # not partitioned
    (AT.AT_AttachPartition, Reach.INHERITED),
    (AT.AT_AddConstraint, Reach.PARTITIONED),  # NO INHERIT on a partitioned table
    (AT.AT_SetRelOptions, Reach.PARTITIONED),  # a partitioned table takes no parameters
    (AT.AT_ResetRelOptions, Reach.PARTITIONED),
}
_FUNCTION = (
    "create function public.f() returns trigger language plpgsql as $$ begin return new; end $$;\n"
)
_PARTITION = f"create table public.t2 {COLUMNS};\n"  # for ATTACH PARTITION

# What an undo must give back: every table's columns, constraints, triggers, row security,
# replica identity and storage parameters.
CATALOG = """
select c.relname, c.relrowsecurity, c.relforcerowsecurity, c.relreplident, c.reloptions::text,
  (select array_agg(row(a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
     pg_get_expr(d.adbin, d.adrelid), a.attislocal, a.attinhcount, a.attidentity)::text
     order by a.attname)
   from pg_attribute a left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
   where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped),
  (select array_agg(row(conname, pg_get_constraintdef(k.oid), conislocal, coninhcount)::text
     order by conname) from pg_constraint k where k.conrelid = c.oid),
  (select array_agg(row(tgname, tgenabled)::text order by tgname)
   from pg_trigger g where g.tgrelid = c.oid)
from pg_class c where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')
order by 1"""


@pytest.fixture(scope="module")
def only_db(pg_server: object) -> Iterator[str]:
    name = pg_server.create_database("only")  # type: ignore[attr-defined]
    try:
        yield pg_server.url_for(name)  # type: ignore[attr-defined]
    finally:
        pg_server.drop_database(name)  # type: ignore[attr-defined]


def _run(conn: psycopg.Connection[Any], *scripts: str) -> str | None:
    """Run the scripts in a savepoint: None, or the first error PostgreSQL gave."""
    try:
        with conn.transaction():
            for script in scripts:
                conn.execute(script.encode())
    except psycopg.Error as e:
        return str(e).splitlines()[0]
    return None


def _after(conn: psycopg.Connection[Any], *scripts: str) -> Any:
    """The catalog after the scripts (rolled back), or PostgreSQL's refusal."""
    with conn.transaction(force_rollback=True):
        refused = _run(conn, *scripts)
        return refused if refused is not None else conn.execute(CATALOG).fetchall()


@pytest.mark.parametrize("reach", list(Reach), ids=lambda r: r.name)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.subtype.name)
def test_each_row_runs_forward_and_back(only_db: str, case: Case, reach: Reach) -> None:
    """With the child there before the forward, or (where PostgreSQL refused the forward with
    the child there) attached after it: PostgreSQL accepts the undo and it leaves every table
    as it was; an undo left to a human is one no form of which would."""
    base = _FUNCTION + TABLES[reach] + case.setup + _PARTITION
    forward = f"alter table only public.t {case.forward};"
    history = build_history([parse_script(HISTORY[reach] + case.setup, "earlier.sql")])
    plan = generate_rollback(parse_script(forward, "m.sql"), "m", history)
    undo = ";\n".join(s.sql for s in plan.sql_steps if s.sql)
    with psycopg.connect(only_db, autocommit=True) as conn:
        before = _after(conn, base, CHILD[reach])
        orders = [(base, CHILD[reach], forward), (base, forward, CHILD[reach])]
        ran = [order for order in orders if _run_rolled_back(conn, *order) is None][:1]
        if (case.subtype, reach) in NEVER_RUNS:
            assert not ran
            return
        assert ran, f"{forward} never runs on {reach.value}"
        if reach in case.refused:
            assert not undo, undo
            for alone in ("ONLY ", ""):
                other = f"alter table {alone}public.t {case.undo}"
                assert any(_after(conn, *order, other) != before for order in ran), other
            return
        for order in ran:
            assert _after(conn, *order, undo) == before, (order, undo)


def _run_rolled_back(conn: psycopg.Connection[Any], *scripts: str) -> str | None:
    with conn.transaction(force_rollback=True):
        return _run(conn, *scripts)


@pytest.mark.parametrize(
    "forward",
    [
        "create table public.kid () inherits (public.t); alter table only public.t drop column e;",
        "create table public.kid (like public.t including all);"
        "alter table public.kid inherit public.t;"
        "alter table only public.t drop column e;",
        "alter table only public.t add column d int;"
        "create table public.kid () inherits (public.t);",
    ],
)
def test_children_made_in_the_migration_itself_are_reached(only_db: str, forward: str) -> None:
    """The undo runs while the children this migration made still exist (they are dropped
    after it): PostgreSQL accepts every step, and the table ends as it began but for what a
    human is told to restore."""
    earlier = _FUNCTION + HISTORY[Reach.TABLE]
    history = build_history([parse_script(earlier, "earlier.sql")])
    plan = generate_rollback(parse_script(forward, "m.sql"), "m", history)
    undo = ";\n".join(s.sql for s in plan.sql_steps if s.sql)
    with psycopg.connect(only_db, autocommit=True) as conn:
        before = _after(conn, earlier)
        after = _after(conn, earlier, forward, undo)
    assert not isinstance(after, str), after  # PostgreSQL's refusal
    told = [i.reason for _, i in plan.manual_items if i.reason.startswith("ALTER TABLE ONLY")]
    assert after == before or told, undo
