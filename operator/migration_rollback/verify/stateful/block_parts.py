"""Which DO block a part of the migration's delta is, by the names its code mentions.

dynamic.py gives each object of the delta to the last DO block naming it. On a table a plain
statement of the same migration made, most parts go with the table: its DROP takes them. Not
all: the rollback reaches that DROP only after the undo of everything later statements made,
and a part a DO block added may depend on one of those: a foreign key to a key another table
got later; a CHECK, an expression index, a policy, a trigger or a column default calling a
function or sequence made later; a column of a type made later, or whose default, generated
expression or CHECK calls one; an index the block built with EXECUTE under a name made at run
time. "cannot drop ... because other objects depend on it": such a part is the block's, undone
at the block's place, before what it depends on goes. Undone early, the table's DROP finds it
gone. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from migration_rollback.verify.diff import Difference
from migration_rollback.verify.snapshot import ObjectId, Snapshot
from migration_rollback.verify.stateful.lookups import unquote

# (forward index of a DO block, its code in lower case)
Blocks = Sequence[tuple[int, str]]

# What a CREATE TABLE never makes by itself: on a table a statement made, still a DO block's.
NEVER_WITH_TABLE = frozenset({"policy", "trigger", "rule"})
# What a CREATE TABLE may make, but a DO block naming it did (or found made: harmless).
_BLOCKS_OWN_WHEN_NAMED = frozenset({"constraint", "index"})


def last_naming(blocks: Blocks, name: str) -> int | None:
    """The last block whose code mentions `name` (None: none does)."""
    found = [index for index, body in blocks if _mentions(body, name)]
    return max(found) if found else None


def simple_name(oid: ObjectId) -> str:
    """The object's own name, unquoted: `public.t.c` → `c`, `public.f(integer)` → `f`."""
    name = oid.name.split("(", 1)[0]
    parts = re.findall(r'"(?:[^"]|"")*"|[^.]+', name)
    return unquote(parts[-1]).lower() if parts else name.lower()


def _mentions(body: str, name: str) -> bool:
    return re.search(rf"(?<![\w$]){re.escape(name)}(?![\w$])", body) is not None


def _on_new_table(d: Difference, static: set[ObjectId], before: Snapshot) -> bool:
    """Added on a table a statement of the migration made (the table's DROP takes it)."""
    table = d.parent
    return d.added and table is not None and table in static and table not in before.objects


def blocks_own(
    d: Difference, static: set[ObjectId], before: Snapshot, after: Snapshot, blocks: Blocks
) -> bool:
    """A constraint or index a DO block names, added on a table a statement made (sprintable:
    a block's FK on a new table to the UNIQUE another block added to an older one); an index
    no statement made that backs no constraint (a block's EXECUTE format('CREATE INDEX %I')
    names it at run time), undone with the last block naming its table."""
    if not _on_new_table(d, static, before) or d.object in static:
        return False
    named = last_naming(blocks, simple_name(d.object)) is not None
    if d.object.kind in _BLOCKS_OWN_WHEN_NAMED and named:
        return True
    return d.object.kind == "index" and not _backs_a_constraint(after, d.object)


def _backs_a_constraint(after: Snapshot, index: ObjectId) -> bool:
    obj = after.objects.get(index)
    return obj is None or obj.text("constraint") is not None


def defaults_set(
    delta: Sequence[Difference], static: set[ObjectId], before: Snapshot, blocks: Blocks
) -> Iterator[tuple[int, Difference]]:
    """(block, its default) for each column of a table a statement made whose default a DO
    block sets (`ALTER [COLUMN] c SET DEFAULT`): the column goes with its table, its default
    at the block's place (it may call a sequence or function made later)."""
    for d in delta:
        if d.object.kind != "column" or not _on_new_table(d, static, before):
            continue
        setter = re.compile(
            rf"\balter\s+(?:column\s+)?\"?{re.escape(simple_name(d.object))}\"?\s+set\s+default\b"
        )
        found = [index for index, body in blocks if setter.search(body)]
        if found:
            yield max(found), Difference(d.object, "default", None, True, d.parent)


def added_columns(
    delta: Sequence[Difference], static: set[ObjectId], before: Snapshot, blocks: Blocks
) -> Iterator[tuple[int, Difference]]:
    """(block, column) for each column a DO block adds (`ADD [COLUMN] c`) to a table a
    statement made, its CREATE TABLE not declaring it: of a type the migration made, or with
    a default, a generated expression or a CHECK calling a function it made, the column
    depends on what the rollback drops before the table. Its DROP COLUMN takes those with it."""
    for d in delta:
        if d.object.kind != "column" or d.object in static or not _on_new_table(d, static, before):
            continue
        if d.parent is None or d.parent.kind != "table":
            continue  # a new view's columns come with its definition
        adder = re.compile(
            rf"\badd\s+(?:column\s+)?(?:if\s+not\s+exists\s+)?\"?"
            rf"{re.escape(simple_name(d.object))}\"?(?![\w$])"
        )
        found = [index for index, body in blocks if adder.search(body)]
        if found:
            yield max(found), d
