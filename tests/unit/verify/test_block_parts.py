"""Which DO block owns a part of a table a plain statement made (verify/stateful/block_parts.py):
pure, over hand-made differences."""

from __future__ import annotations

from migration_rollback.verify.diff import EXISTS, Difference
from migration_rollback.verify.snapshot import ObjectId, Snapshot, SnapshotObject
from migration_rollback.verify.stateful.block_parts import blocks_own, defaults_set, typed_columns

OLD = ObjectId("table", "public.parent")
NEW = ObjectId("table", "public.child")
STATIC = {OLD, NEW}  # both named by plain statements of the migration
BEFORE_OLD = Snapshot({OLD: None})  # type: ignore[dict-item]  # only OLD was there before
BLOCKS = [  # their code in lower case, as dynamic.py reads it
    (3, "begin alter table public.child add constraint child_fk foreign key (p) "
        "references public.parent (id, org); end"),
    (5, "begin alter table public.child alter column n set default nextval('s'); end"),
    (7, 'begin alter table public.child alter "code" set default public.f(); end'),
]  # fmt: skip


def added(kind: str, name: str, parent: ObjectId) -> Difference:
    return Difference(ObjectId(kind, name), EXISTS, False, True, parent)


def test_a_named_constraint_or_index_on_a_new_table_is_the_blocks() -> None:
    fk = added("constraint", "public.child.child_fk", NEW)
    assert blocks_own(fk, STATIC, BEFORE_OLD, BLOCKS)


def test_what_no_block_names_or_an_older_table_holds_goes_with_the_table() -> None:
    inline = added("constraint", "public.child.child_pkey", NEW)
    assert not blocks_own(inline, STATIC, BEFORE_OLD, BLOCKS)
    on_old = added("constraint", "public.parent.child_fk", OLD)
    assert not blocks_own(on_old, STATIC, BEFORE_OLD, BLOCKS)  # not new: dynamic.py's rules
    column = added("column", "public.child.child_fk", NEW)
    assert not blocks_own(column, STATIC, BEFORE_OLD, BLOCKS)


def test_a_default_a_block_sets_on_a_new_tables_column_is_the_blocks() -> None:
    delta = [
        added("column", "public.child.n", NEW),
        added("column", 'public.child."Code"', NEW),
        added("column", "public.child.m", NEW),  # no block sets its default
        added("column", "public.parent.n", OLD),  # an older table's: not this rule's
    ]
    found = list(defaults_set(delta, STATIC, BEFORE_OLD, BLOCKS))
    assert [(block, d.object.name, d.attribute) for block, d in found] == [
        (5, "public.child.n", "default"),
        (7, 'public.child."Code"', "default"),
    ]


def test_a_column_a_block_adds_of_a_type_the_migration_made_is_the_blocks() -> None:
    mood, posint = ObjectId("type", "public.mood"), ObjectId("type", "public.posint")
    columns = {
        name: SnapshotObject(ObjectId("column", f"public.child.{name}"), {"type": typ}, NEW, {})
        for name, typ in (("mood", "public.mood[]"), ("qty", "public.posint"), ("n", "integer"))
    }
    after = Snapshot({mood: None, posint: None, **{c.id: c for c in columns.values()}})  # type: ignore[dict-item]
    before = Snapshot({OLD: None, posint: None})  # type: ignore[dict-item]  # posint was there
    blocks = [(4, "begin alter table child add column if not exists mood public.mood; end"),
              (6, 'begin alter table child add "qty" public.posint, add n int; end')]  # fmt: skip
    delta = [added("column", c.id.name, NEW) for c in columns.values()]
    found = list(typed_columns(delta, STATIC, before, after, blocks))
    assert [(block, d.object.name) for block, d in found] == [(4, "public.child.mood")]
