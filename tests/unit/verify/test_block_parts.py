"""Which DO block owns a part of a table a plain statement made (verify/stateful/block_parts.py):
pure, over hand-made differences."""

from __future__ import annotations

from migration_rollback.verify.diff import EXISTS, Difference
from migration_rollback.verify.snapshot import ObjectId, Snapshot, SnapshotObject
from migration_rollback.verify.stateful.block_parts import added_columns, blocks_own, defaults_set

OLD = ObjectId("table", "public.parent")
NEW = ObjectId("table", "public.child")
STATIC = {OLD, NEW}  # both named by plain statements of the migration
BEFORE_OLD = Snapshot({OLD: None})  # type: ignore[dict-item]  # only OLD was there before
AFTER = Snapshot({})
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
    assert blocks_own(fk, STATIC, BEFORE_OLD, AFTER, BLOCKS)


def test_what_no_block_names_or_an_older_table_holds_goes_with_the_table() -> None:
    inline = added("constraint", "public.child.child_pkey", NEW)
    assert not blocks_own(inline, STATIC, BEFORE_OLD, AFTER, BLOCKS)
    on_old = added("constraint", "public.parent.child_fk", OLD)
    assert not blocks_own(on_old, STATIC, BEFORE_OLD, AFTER, BLOCKS)  # not new: dynamic.py's rules
    column = added("column", "public.child.child_fk", NEW)
    assert not blocks_own(column, STATIC, BEFORE_OLD, AFTER, BLOCKS)


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


def test_a_column_a_block_adds_to_a_new_table_is_the_blocks() -> None:
    """Of any type: its default, generated expression or CHECK may call a function the
    migration made after the table (before, only a column of a type made here was)."""
    names = ("mood", "qty", "n", "declared", "other")
    declared = ObjectId("column", "public.child.declared")  # the CREATE TABLE's own
    blocks = [
        (4, "begin alter table child add column if not exists mood public.mood; end"),
        (6, 'begin alter table child add "qty" public.posint, add n int default f(); end'),
        (8, "begin alter table child add column if not exists declared int; end"),
    ]
    view = ObjectId("view", "public.child_view")  # a new view's: with its definition
    delta = [added("column", f"public.child.{name}", NEW) for name in names]
    delta.append(added("column", "public.child_view.qty", view))
    found = list(added_columns(delta, STATIC | {declared, view}, BEFORE_OLD, blocks))
    assert [(block, d.object.name) for block, d in found] == [
        (4, "public.child.mood"),
        (6, "public.child.qty"),
        (6, "public.child.n"),
    ]


def test_an_index_no_statement_names_is_the_blocks_unless_it_backs_a_constraint() -> None:
    """EXECUTE format('CREATE INDEX %I ...', t || '_fx') names it at run time."""
    built = SnapshotObject(ObjectId("index", "public.child_fx"), {}, NEW, {})
    backing = SnapshotObject(ObjectId("index", "public.child_pkey"), {"constraint": "x"}, NEW, {})
    after = Snapshot({built.id: built, backing.id: backing})
    blocks = [(2, "begin execute format('create index %i on %i (f(id))', t || '_fx', t); end")]
    assert blocks_own(added("index", built.id.name, NEW), STATIC, BEFORE_OLD, after, blocks)
    assert not blocks_own(added("index", backing.id.name, NEW), STATIC, BEFORE_OLD, after, blocks)
    on_old = added("index", "public.parent_fx", OLD)
    assert not blocks_own(on_old, STATIC, BEFORE_OLD, after, blocks)
