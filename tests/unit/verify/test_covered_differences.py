"""MANUAL items' targets against the shadow's differences (verify/covered.py), and the verdict
they give (verify/verdict.py). Pure: plans from the generator, differences written by hand."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from migration_rollback.project.artifacts import RollbackHeader, body_sha256, compose
from migration_rollback.sql import (
    History,
    ObjectRef,
    RollbackPlan,
    generate_rollback,
)
from migration_rollback.sql import parse_script as parse
from migration_rollback.verify.covered import Cover, covers_of, matches, split
from migration_rollback.verify.diff import Difference
from migration_rollback.verify.rollback_source import Prepared
from migration_rollback.verify.snapshot import ObjectId
from migration_rollback.verify.verdict import Outcome, VerifyResult, verdict_of


@pytest.mark.parametrize(
    ("ref", "oid", "same"),
    [
        (ObjectRef("column", "t", "public", column="id"), ObjectId("column", "public.t.id"), True),
        (ObjectRef("column", "t", "public", column="id"), ObjectId("column", "public.u.id"), False),
        (ObjectRef("policy", "p", "public", table="t"), ObjectId("policy", "public.t.p"), True),
        (ObjectRef("trigger", "p", "public", table="t"), ObjectId("policy", "public.t.p"), False),
        (ObjectRef("index", "t_i", "public"), ObjectId("index", "public.t_i"), True),
        (ObjectRef("table", "Mixed", "app"), ObjectId("table", 'app."Mixed"'), True),
        (ObjectRef("table", "t", None), ObjectId("table", "public.t"), True),
        (ObjectRef("table", "t", "public"), ObjectId("type", "public.t"), False),
        (ObjectRef("enum", "mood", "public"), ObjectId("type", "public.mood"), True),
        (ObjectRef("extension", "pg_trgm"), ObjectId("extension", "pg_trgm"), True),
        (ObjectRef("schema", "app"), ObjectId("table", "app"), False),
        # A constraint without its table is no one name: it covers nothing.
        (ObjectRef("constraint", "c", "public"), ObjectId("constraint", "public.t.c"), False),
        (
            ObjectRef("function", "f", "public", args="int4, varchar"),
            ObjectId("function", "public.f(integer, character varying)"),
            True,
        ),
        (
            ObjectRef("function", "f", "public", args="int"),
            ObjectId("function", "public.f(text)"),
            False,
        ),
        (ObjectRef("function", "f", "public", args=""), ObjectId("function", "public.fg()"), False),
    ],
)
def test_a_reference_names_one_snapshot_identity(ref: ObjectRef, oid: ObjectId, same: bool) -> None:
    assert matches(ref, oid) is same


def _added(kind: str, name: str, parent: ObjectId | None = None) -> Difference:
    return Difference(ObjectId(kind, name), "exists", False, True, parent)


def test_a_part_of_a_target_left_behind_whole_is_covered() -> None:
    table = ObjectId("table", "public.t")
    cover = Cover("r.sql:9", "keep it", (ObjectRef("table", "t", "public"),))
    whole = frozenset({table})
    assert cover.covers(_added("index", "public.t_i", table), whole)
    assert cover.covers(Difference(table, "row_security", False, True))
    assert not cover.covers(_added("index", "public.u_i", ObjectId("table", "public.u")), whole)


def test_a_part_of_a_target_that_is_there_on_both_sides_is_the_rollbacks_own() -> None:
    # An IF NOT EXISTS table that did exist, and a column the migration added to it that the
    # rollback forgot: the table's item does not excuse the column.
    table = ObjectId("table", "public.t")
    cover = Cover("r.sql:9", "keep it", (ObjectRef("table", "t", "public"),))
    column = _added("column", "public.t.c", table)
    assert not cover.covers(column)
    uncovered, covered = split([column], [cover])
    assert uncovered == [column]
    assert covered == []
    left = Difference(table, "exists", False, True)
    uncovered, covered = split([left, column], [cover])
    assert uncovered == []
    assert [c.difference for c in covered] == [left, column]


def test_an_attribute_item_covers_that_attribute_only() -> None:
    table = ObjectId("table", "public.t")
    rls = frozenset({"row security", "force row security"})
    cover = Cover("r.sql:9", "set it back", (ObjectRef("table", "t", "public"),), rls)
    assert cover.covers(Difference(table, "row security", False, True))
    assert not cover.covers(Difference(table, "exists", False, True))  # left behind: wrong
    assert not cover.covers(_added("column", "public.t.id", table))


FORWARD = (
    "create table if not exists public.t (id int);\n"
    "create index if not exists t_i on public.t (id);\n"
    "update public.t set id = 1;\n"
)


def _generated(forward: str = FORWARD) -> tuple[str, RollbackPlan]:
    """The rollback file `generate` writes for `forward`, and the plan it wrote it from."""
    plan = generate_rollback(parse(forward, "1_m.sql"), "1_m", History())
    body = plan.render_body()
    header = RollbackHeader("1_m", "2025-01-01T00:00:00Z", "1_m.sql", "0", body_sha256(body), "t")
    return compose(header, body), plan


def test_the_generators_file_covers_its_targets_data_covers_nothing() -> None:
    text, plan = _generated()
    covers = covers_of(plan, text, "1_m_rollback.sql")
    targets = {ref.name for c in covers for ref in c.targets}
    assert targets == {"t", "t_i"}  # the UPDATE's MANUAL item is data: no target
    lines = text.splitlines()
    for cover in covers:
        number = int(cover.where.rsplit(":", 1)[1])
        assert lines[number - 1] == f"-- MANUAL: {cover.item}"


@pytest.mark.parametrize(
    "edit",
    [
        lambda text: text + "-- reviewed\n",  # hand-edited: the body's hash no longer matches
        lambda text: text.split("\n\n", 1)[1],  # no header
        lambda text: text.replace("Body-SHA256: ", "Body-SHA256: 0"),  # hash of another body
    ],
)
def test_a_file_not_as_generated_covers_nothing(edit: Callable[[str], str]) -> None:
    text, plan = _generated()
    assert covers_of(plan, text, "r.sql")  # as generated: it covers
    assert covers_of(plan, edit(text), "r.sql") == ()


def test_another_plans_file_covers_nothing() -> None:
    text, _ = _generated()
    _, other = _generated("create table if not exists public.x (id int);\n")
    assert covers_of(other, text, "r.sql") == ()
    assert covers_of(None, text, "r.sql") == ()


def _verdict(differences: list[Difference]) -> VerifyResult:
    cover = Cover("r.sql:9", "keep it", (ObjectRef("index", "t_i", "public"),))
    script = parse("select 1;\n", "r.sql")
    prepared = Prepared(script, "select 1;\n", ["r.sql:9: keep it"], covers=(cover,))
    return verdict_of("1_m", Outcome(prepared, differences=differences), lambda d: False)


def test_only_covered_differences_are_manual_with_the_item() -> None:
    result = _verdict([_added("index", "public.t_i")])
    assert (result.status, result.differences, len(result.covered)) == ("manual", [], 1)
    assert not result.schema_restored
    assert result.message == (
        "the schema differs only where MANUAL items leave the step to a human: index "
        "public.t_i: left behind by the rollback (it did not exist before) (MANUAL at r.sql:9)"
    )
    assert result.to_json()["covered"][0]["manual"] == "r.sql:9: keep it"


def test_one_uncovered_difference_is_a_mismatch_naming_it() -> None:
    result = _verdict([_added("index", "public.t_i"), _added("table", "public.dyn")])
    assert result.status == "mismatch"
    assert [str(d.object) for d in result.differences] == ["table public.dyn"]
    assert result.message.startswith("the rollback does not restore the schema: 1 object(s)")
    assert result.message.endswith(
        "; 1 more difference(s) where MANUAL items leave the step to a human"
    )
    report = result.report().splitlines()
    dyn = next(i for i, line in enumerate(report) if "table public.dyn" in line)
    covered = report.index("  left to a human by MANUAL items:")
    assert dyn < covered, report
    assert report[covered + 1] == (
        "    index public.t_i: left behind by the rollback (it did not exist before) "
        "(MANUAL at r.sql:9)"
    )


# --- what an item does not excuse (review37) ------------------------------------------------


def _generated_after(earlier: str | None, forward: str) -> tuple[str, RollbackPlan]:
    """The rollback file `generate` writes for `forward`, `earlier` a migration before it
    (None: earlier migrations not known)."""
    history = None
    if earlier is not None:
        history = History()
        history.begin_file()
        for st in parse(earlier, "0_h.sql").statements:
            history.observe(st)
    plan = generate_rollback(parse(forward, "1_m.sql"), "1_m", history)
    body = plan.render_body()
    header = RollbackHeader("1_m", "2025-01-01T00:00:00Z", "1_m.sql", "0", body_sha256(body), "t")
    return compose(header, body), plan


def test_a_readded_columns_values_item_does_not_excuse_its_structure() -> None:
    # The rollback re-adds the dropped column itself, then a MANUAL item asks for its values
    # (and NOT NULL after them). A re-added column of another type or collation is the
    # rollback's own mistake, not the values' item's.
    text, plan = _generated_after(
        'create table public.t (id int, c text collate "C" not null);',
        "alter table public.t drop column c;",
    )
    covers = covers_of(plan, text, "r.sql")
    assert covers, plan.render_body()
    table, column = ObjectId("table", "public.t"), ObjectId("column", "public.t.c")
    not_null = Difference(column, "not null", True, False, table)
    collation = Difference(column, "collation", '"C"', None, table)
    kind = Difference(column, "type", "text", "character varying", table)
    gone = Difference(column, "exists", True, False, table)
    uncovered, covered = split([not_null, collation, kind, gone], covers)
    assert uncovered == [collation, kind, gone]
    assert [c.difference for c in covered] == [not_null]


def test_a_dropped_column_nobody_can_readd_is_covered_whole() -> None:
    text, plan = _generated("alter table public.t drop column c;\n")
    table, column = ObjectId("table", "public.t"), ObjectId("column", "public.t.c")
    gone = Difference(column, "exists", True, False, table)
    uncovered, _ = split([gone], covers_of(plan, text, "r.sql"))
    assert uncovered == []


def test_an_enum_value_item_excuses_the_labels_only() -> None:
    text, plan = _generated("alter type public.mood add value 'b';\n")
    covers = covers_of(plan, text, "r.sql")
    assert covers
    mood = ObjectId("type", "public.mood")
    labels = Difference(mood, "labels", ("a",), ("a", "b"))
    owner = Difference(mood, "owner", "postgres", "bob")
    gone = Difference(mood, "exists", True, False)
    uncovered, _ = split([labels, owner, gone], covers)
    assert uncovered == [owner, gone]


def test_an_if_not_exists_item_does_not_excuse_dropping_what_existed() -> None:
    # The item leaves a table that may have been there before; a rollback that drops a table
    # which was there before (its rows with it) is wrong, whatever the item says.
    text, plan = _generated()
    covers = covers_of(plan, text, "r.sql")
    table = ObjectId("table", "public.t")
    dropped = Difference(table, "exists", True, False)
    left = Difference(table, "exists", False, True)
    uncovered, _ = split([dropped], covers)
    assert uncovered == [dropped]
    uncovered, _ = split([left], covers)
    assert uncovered == []


def test_an_alter_with_no_inverse_does_not_excuse_its_tables_existence() -> None:
    # `SET STATISTICS` has no automatic inverse: its item is about the table's settings, and a
    # rollback that drops the table (or one that left it behind) is not its doing.
    text, plan = _generated("alter table public.t alter column c set statistics 10;\n")
    covers = covers_of(plan, text, "r.sql")
    assert covers
    table = ObjectId("table", "public.t")
    gone = Difference(table, "exists", True, False)
    left = Difference(table, "exists", False, True)
    setting = Difference(table, "options", None, ("fillfactor=50",))
    uncovered, _ = split([gone, left, setting], covers)
    assert uncovered == [gone, left]


def test_an_if_not_exists_item_leaves_whether_it_stays_not_how_it_is() -> None:
    # A column there before made IF NOT EXISTS a no-op: whatever else differs on it is some
    # other step's doing (a type the rollback changed), never this item's. It leaves only
    # whether to keep the column (or the table) the statement may have made.
    text, plan = _generated("alter table public.t add column if not exists c int;\n")
    covers = covers_of(plan, text, "r.sql")
    assert covers
    table, column = ObjectId("table", "public.t"), ObjectId("column", "public.t.c")
    retyped = Difference(column, "type", "character varying(10)", "integer", table)
    left = Difference(column, "exists", False, True, table)
    uncovered, _ = split([retyped, left], covers)
    assert uncovered == [retyped]
    text, plan = _generated()
    owner = Difference(table, "owner", "dashboard", "postgres")
    assert split([owner], covers_of(plan, text, "r.sql"))[0] == [owner]
