"""DO blocks, undone from the shadow's catalog delta.

The static generator cannot see into a DO block; the shadow can see what it left. The schema
after the migration minus the schema before it is what the whole migration did; the part of it
that no statement outside a DO block names (and that a DO block's text does name, the object or
the table it lives on) is what the DO blocks did; each object is given to the last block naming
it. `repair` writes the SQL that takes each block's part back (dependents dropped first, parents
created first), at that block's place in the rollback: after the inverses of what later
statements built on it, before those of what it built on. The round trip then proves it. A
DO block that did nothing lasting (an `IF NOT EXISTS` guard, an `EXCEPTION WHEN
duplicate_object`) needs nothing. Rows a DO block writes are data: those stay a MANUAL item,
unless they all go into tables the same migration creates (they go with the tables) or are
UPDATEs of columns it adds to a table without triggers or rules (the values go with the
columns; a trigger could write the row's other columns).

Part of the state-aware rollbacks (see the package's docstring); pure, no database.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pglast import parse_sql
from pglast.parser import ParseError

from migration_rollback.sql import ObjectRef, RollbackPlan, RollbackStep, classify
from migration_rollback.sql._ast import ast
from migration_rollback.sql.compose import Identifier
from migration_rollback.sql.created import simple_object_ref
from migration_rollback.sql.names import qualified_name, relation
from migration_rollback.sql.plpgsql_writes import Write, rows_written
from migration_rollback.verify.diff import EXISTS, Difference, diff_objects
from migration_rollback.verify.snapshot import ObjectId, Snapshot, SnapshotObject
from migration_rollback.verify.stateful.block_parts import (
    NEVER_WITH_TABLE,
    added_columns,
    blocks_own,
    defaults_set,
    last_naming,
    simple_name,
)
from migration_rollback.verify.stateful.lookups import Unknown, find, strings
from migration_rollback.verify.stateful.renames import find_renames, split_replaced
from migration_rollback.verify.stateful.repair import repair

_WRITES_ROWS = re.compile(
    r"\b(insert\s+into|delete\s+from|truncate|merge\s+into|update\s+[\w.\"]+\s+(\w+\s+)?set)\b",
    re.IGNORECASE,
)

_TRIGGER_ON_UPDATE = 1 << 4  # TRIGGER_TYPE_UPDATE in PostgreSQL's pg_trigger.h


def is_do_block(step: RollbackStep) -> bool:
    return step.forward.kind == "DoStmt"


def do_body(step: RollbackStep) -> str:
    """The code of a DO block (its `AS` argument)."""
    return _do_option(step, "as")


def writes_rows(
    step: RollbackStep, before: Snapshot | None = None, after: Snapshot | None = None
) -> bool:
    """Whether a DO block's code writes rows (INSERT, UPDATE … SET, DELETE, TRUNCATE, MERGE)
    that the rollback cannot know: rows that go only into tables the migration creates (absent
    from `before`) go with those tables, and values an UPDATE sets only in columns the
    migration adds go with those columns."""
    body = do_body(step)
    if not code_writes_rows(body):
        return False
    writes = rows_written(body, _do_option(step, "language") or "plpgsql")
    if before is None or writes is None:
        return True
    return any(_lasting(w, before, after) for w in writes)


def _lasting(write: Write, before: Snapshot, after: Snapshot | None) -> bool:
    """The write changes what existed before the migration (the rollback keeps it)."""
    if not _existed(write.table, before):
        return False
    if write.columns is None or after is None:
        return True
    table = _one_table(write.table, before)
    if table is None or table not in after.objects:
        return True
    # A trigger or rule may write the row's other columns (updated_at) or other tables.
    hooks = [*before.children(table, "trigger", "rule"), *after.children(table, "trigger", "rule")]
    if any(o.id.kind == "rule" or _fires_on_update(o.text("definition")) for o in hooks):
        return True
    old = {o.extra_text("column") for o in before.children(table, "column")}
    new = {o.extra_text("column") for o in after.children(table, "column")}
    return not all(c not in old and c in new for c in write.columns)


def _fires_on_update(definition: str | None) -> bool:
    """The trigger (its pg_get_triggerdef text) fires on UPDATE; True when that is unknown."""
    try:
        node = parse_sql(definition or "")[0].stmt
    except (ParseError, IndexError):
        return True
    return not isinstance(node, ast.CreateTrigStmt) or bool(node.events & _TRIGGER_ON_UPDATE)


def _one_table(table: tuple[str, ...], before: Snapshot) -> ObjectId | None:
    """The table's id in `before`; None when an unqualified name fits several schemas."""
    if len(table) == 2:
        return ObjectId("table", qualified_name(*table))
    bare = Identifier(table[-1]).as_string()
    found = [o for o in before.objects if o.kind == "table" and o.name.rsplit(".", 1)[-1] == bare]
    return found[0] if len(found) == 1 else None


def _do_option(step: RollbackStep, name: str) -> str:
    for arg in getattr(step.forward.node, "args", None) or ():
        if getattr(arg, "defname", None) == name:
            return str(getattr(arg.arg, "sval", ""))
    return ""


def code_writes_rows(code: str) -> bool:
    """Whether code (a DO block's) has a statement that writes rows."""
    return _WRITES_ROWS.search(code) is not None


def _existed(table: tuple[str, ...], before: Snapshot) -> bool:
    """The table existed before the migration (an unqualified name: in any schema)."""
    if len(table) == 2:
        return ObjectId("table", qualified_name(*table)) in before.objects
    bare = Identifier(table[-1]).as_string()
    return any(o.kind == "table" and o.name.rsplit(".", 1)[-1] == bare for o in before.objects)


@dataclass
class DoBlocks:
    """The inverses of one migration's DO blocks: the delta split between them (each object to
    the last block that names it), each part undone at its own block's place."""

    plan: RollbackPlan
    before: Snapshot
    after: Snapshot | None
    creator: str | None
    created: set[ObjectId]  # what the rest of the rollback recreates (Writer.created)
    data_loss: list[str] = field(default_factory=list, init=False)
    _parts: dict[int, list[Difference]] | None = field(default=None, init=False)

    def renamed_tables(self) -> dict[str, list[int]]:
        """Tables (by their name before) a DO block renamed, or renamed columns of: the
        block's index (what the rollback recreates on them waits for the rename back)."""
        if self.after is None:
            return {}
        if self._parts is None:
            self._parts = split_delta(self.plan, self.before, self.after)
        out: dict[str, list[int]] = {}
        for index, part in self._parts.items():
            for rename in find_renames(part, self.before, self.after):
                was = rename.was
                table = was.parent if was.id.kind == "column" else was.id
                if table is not None:
                    out.setdefault(table.name, []).append(index)
        return out

    def fill(self, step: RollbackStep) -> tuple[list[str], str]:
        if self.after is None:
            raise Unknown("the state after the migration is not known")
        if self._parts is None:
            self._parts = split_delta(self.plan, self.before, self.after)
        delta = self._parts.get(step.forward.index, [])
        if not delta:
            return [], "the DO block left nothing in the schema to undo"
        statements, done, failed = repair(
            delta, self.before, self.after, creator=self.creator, created=self.created
        )
        if failed:
            raise Unknown("; ".join(failed))
        self.data_loss += [
            f"{what} (a DO block's effect undone)" for what in done if _holds_data(what)
        ]
        return statements, "undoes what the DO block did (shadow's delta): " + "; ".join(done)


def split_delta(
    plan: RollbackPlan, before: Snapshot, after: Snapshot
) -> dict[int, list[Difference]]:
    """The DO blocks' part of the migration's delta, by the forward index of the block that
    did it: the last block naming the object, else the last naming the table it lives on."""
    blocks = [(s.forward.index, do_body(s).lower()) for s in plan.steps if is_do_block(s)]
    static = _named_outside_do_blocks(plan.steps, before, after)
    every = split_replaced(diff_objects(before.objects, after.objects), before, after)
    delta = [
        d
        for d in every
        if not _static(d, static, before, after) or blocks_own(d, static, before, after, blocks)
    ]
    delta = _without_rename_echoes(delta, before, after)
    chosen: dict[ObjectId, int | None] = {}
    for d in delta:
        block = last_naming(blocks, simple_name(d.object))
        if block is None and d.parent is not None:
            block = last_naming(blocks, simple_name(d.parent))
        chosen[d.object] = block
    reused = {d.object for d in delta if d.added}  # a name renamed away and made again
    gone: dict[ObjectId, int | None] = {}
    for rename in find_renames(delta, before, after):
        # undone with the last block naming the new name: the rollback reaches it first, so
        # what later blocks and statements built on the old name comes back after it
        (gone if rename.was.id in reused else chosen)[rename.was.id] = chosen.get(rename.now.id)
    _with_their_columns(delta, before, chosen)
    for d in delta:
        constraint = _backed(d, before, after)
        if constraint is not None:  # an index goes and comes with the constraint it backs
            chosen[d.object] = None if constraint in static else chosen.get(constraint)
    whole = {d.object for d in delta if d.attribute == EXISTS or d.object.kind != "table"}
    for d in delta:
        if d.parent is not None and d.parent in whole:
            chosen[d.object] = chosen.get(d.parent)  # a view's columns go with the view
    parts: dict[int, list[Difference]] = {}
    for d in delta:
        block = (gone if d.removed and d.object in gone else chosen).get(d.object)
        if block is not None:
            parts.setdefault(block, []).append(d)
    for block, part in [
        *defaults_set(every, static, before, blocks),
        *added_columns(every, static, before, blocks),
    ]:
        parts.setdefault(block, []).append(part)
    return parts


def _without_rename_echoes(
    delta: list[Difference], before: Snapshot, after: Snapshot
) -> list[Difference]:
    """Without what changed only because a column was renamed (an index's or policy's text
    now naming the new name): the rename back restores it, and a restore of its own would
    run before the rename back in an earlier block's undo ("column … does not exist")."""
    renamed: dict[ObjectId, list[tuple[str, str]]] = {}
    for rename in find_renames(delta, before, after):
        table = rename.was.parent
        if rename.was.id.kind == "column" and table is not None:
            pair = (simple_name(rename.was.id), simple_name(rename.now.id))
            renamed.setdefault(table, []).append(pair)
    return [d for d in delta if not _echo(d, renamed.get(d.parent) if d.parent else None)]


def _echo(d: Difference, pairs: list[tuple[str, str]] | None) -> bool:
    if not pairs or d.attribute == EXISTS:
        return False
    now = d.after
    if isinstance(now, str):
        now = _echo_text(now, pairs)
    elif isinstance(now, tuple):
        now = tuple(_echo_text(str(v), pairs) for v in now)
    return now == d.before


def _echo_text(text: str, pairs: list[tuple[str, str]]) -> str:
    for old, new in pairs:
        text = re.sub(rf"(?<![\w\"]){re.escape(new)}(?![\w\"])", old, text)
    return text


def _backed(d: Difference, before: Snapshot, after: Snapshot) -> ObjectId | None:
    """The constraint an index backs (primary key, unique, exclusion), if any."""
    obj = after.objects.get(d.object) or before.objects.get(d.object)
    name = obj.text("constraint") if obj is not None and d.object.kind == "index" else None
    if obj is None or name is None or obj.parent is None:
        return None
    return ObjectId("constraint", f"{obj.parent.name}.{name}")


def _with_their_columns(
    delta: Sequence[Difference], before: Snapshot, chosen: dict[ObjectId, int | None]
) -> None:
    """A removed index or constraint over a removed column went with the column (a DROP
    COLUMN takes them): it comes back with the column, in that column's block."""
    columns: dict[tuple[ObjectId, str | None], ObjectId] = {}
    for d in delta:
        col = before.objects.get(d.object) if d.removed and d.object.kind == "column" else None
        if col is not None and col.parent is not None:
            columns[(col.parent, col.extra_text("attnum"))] = d.object
    for d in delta:
        obj = before.objects.get(d.object) if d.removed else None
        if obj is None or obj.parent is None or obj.id.kind not in ("index", "constraint"):
            continue
        for number in strings(obj.extra.get("column numbers")):
            column = columns.get((obj.parent, number))
            if column is not None:
                chosen[d.object] = chosen.get(column)
                break


def _named_outside_do_blocks(
    steps: Sequence[RollbackStep], before: Snapshot, after: Snapshot
) -> set[ObjectId]:
    out: set[ObjectId] = set()
    for step in steps:
        if is_do_block(step):
            continue
        made = simple_object_ref(_SIMPLE_KIND, step.forward.node, "public")
        refs = (*classify(step.forward).targets, *_table_parts(step.forward.node))
        for ref in (*refs, *((made,) if made is not None else ())):
            for state in (after, before):
                obj = find(state, ref)
                if obj is not None:
                    out.add(obj.id)
    return out


# The kind simple_object_ref gives an enum or a composite type (a domain, sequence, schema...
# carries its own); the snapshot holds all of them as "type".
_SIMPLE_KIND = "type"


def _table_parts(node: Any) -> list[ObjectRef]:
    """Columns and constraints an ALTER TABLE adds, drops or changes, the columns a CREATE
    TABLE declares (the hazard classification names only the table and the columns it
    rewrites)."""
    if type(node).__name__ == "CreateStmt" and node.relation is not None:
        table = relation(node.relation, "public")
        return [
            ObjectRef("column", table.name, table.schema, column=str(elt.colname))
            for elt in node.tableElts or ()
            if isinstance(elt, ast.ColumnDef)
        ]
    if type(node).__name__ != "AlterTableStmt" or getattr(node, "relation", None) is None:
        return []
    table = relation(node.relation, "public")
    out: list[ObjectRef] = []
    for cmd in getattr(node, "cmds", None) or ():
        definition = getattr(cmd, "def_", None)
        column = getattr(definition, "colname", None) or getattr(cmd, "name", None)
        constraint = getattr(definition, "conname", None)
        if constraint:
            out.append(ObjectRef("constraint", str(constraint), table.schema, table=table.name))
        elif column:  # `name` is a column, or the constraint DROP CONSTRAINT drops: look up both
            out.append(ObjectRef("column", table.name, table.schema, column=str(column)))
            out.append(ObjectRef("constraint", str(column), table.schema, table=table.name))
    return out


def _static(d: Difference, static: set[ObjectId], before: Snapshot, after: Snapshot) -> bool:
    """Named by a statement outside the DO blocks, or part of an object one made or dropped
    (it comes back, or goes, with it)."""
    if d.object in static or d.attribute == "position":
        return True  # (a column's place moves when an earlier one goes: it comes back with it)
    if d.parent is not None and d.parent.kind in ("view", "materialized view"):
        return True  # a view's columns come with its definition, whoever changed it
    if d.object.kind == "publication table" and d.removed:
        table = ObjectId("table", d.object.name.partition(":")[2])
        return table in static and table not in after.objects  # went with a dropped table
    if d.parent is None or d.parent not in static:
        return False
    if d.parent not in after.objects:
        return True  # dropped with its table, recreated with it
    if _foreign_key(after.objects.get(d.object)):
        return False  # refers to a key the rollback may drop before the new table goes
    return d.object.kind not in NEVER_WITH_TABLE and d.parent not in before.objects


def _foreign_key(obj: SnapshotObject | None) -> bool:
    """A foreign key (sprintable: added by a DO block to a new table, over a unique key an
    earlier block's undo drops first: "other objects depend on it")."""
    text = obj.text("definition") if obj is not None and obj.id.kind == "constraint" else None
    return text is not None and text.upper().startswith("FOREIGN KEY")


_DATA_HOLDERS = ("table ", "column ", "sequence ")


def _holds_data(what: str) -> bool:
    """A repair line that drops or recreates rows' home: "drops table …", "recreates column …"."""
    verb, _, rest = what.partition(" ")
    return verb in ("drops", "recreates") and rest.startswith(_DATA_HOLDERS)
