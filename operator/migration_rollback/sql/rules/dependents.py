"""What a drop took with it besides the object named, put back after the object is.

PostgreSQL drops more than a DROP names: a view's triggers and rules go with the view; a
column's indexes and constraints go with the column (and its comment); with CASCADE, every
trigger, policy, index and constraint whose expression uses the object. Recreating only the
object from its last CREATE left those missing, and nothing said so: a trigger silently gone
after a `DROP FUNCTION … CASCADE` was undone. The earlier migrations' texts (history.py) tell
what hung on it, as far as the words of their text do (history_cascade.py's rule); each is
recreated from its own text after the object, and what cannot be (a view or routine that used
it, a text renamed since) is a MANUAL item.
"""

from __future__ import annotations

from collections.abc import Iterator
from copy import copy
from typing import TYPE_CHECKING, Any

from pglast.enums.parsenodes import ConstrType

from migration_rollback.sql._ast import ast
from migration_rollback.sql.compose import SQL, Identifier, Literal, qualified, sql
from migration_rollback.sql.created import constraint_name
from migration_rollback.sql.history_cascade import KEPT, LEAVES, mentions, words
from migration_rollback.sql.model import ManualNeed, ObjectRef
from migration_rollback.sql.names import DEFAULT_SCHEMA, deparse, strings
from migration_rollback.sql.rules.context import Context, Inverse, manual

if TYPE_CHECKING:
    from migration_rollback.sql.history import Definition

# A view's members, dropped with it (a table's go with its rows: a human rebuilds it).
_MEMBERS = frozenset({"trigger", "rule", "policy"})
# Column-level constraints whose text does not name their column: ADD CONSTRAINT names it.
_KEYED = {ConstrType.CONSTR_PRIMARY: "keys", ConstrType.CONSTR_UNIQUE: "keys",
          ConstrType.CONSTR_EXCLUSION: "keys", ConstrType.CONSTR_FOREIGN: "fk_attrs"}  # fmt: skip
# Members whose own statement recreates them (a constraint's is its table's).
_STATEMENTS = LEAVES - {"constraint"}
_ADDABLE = frozenset({ConstrType.CONSTR_CHECK, *_KEYED})


def after_drop(ref: ObjectRef, ctx: Context, *, cascade: bool) -> Iterator[Inverse]:
    """The members of a dropped relation and, with CASCADE, what used `ref`: recreated after
    it from their last CREATE, in the order they were made."""
    history = ctx.history
    if history is None:
        return
    taken = [d for d in history.definitions.values() if _member_of(d, ref)]
    if cascade:
        names = {ref.name.lower()}
        taken += [d for d in history.definitions.values()
                  if d not in taken and _uses(d, names)]  # fmt: skip
    for definition in taken:
        yield from _again(definition, ctx, f"went with {ref.describe()}")


def after_drop_column(schema: str, table: str, column: str, ctx: Context) -> Iterator[Inverse]:
    """The indexes and constraints on the column, and its comment, after it is added back."""
    history = ctx.history
    if history is None:
        return
    for definition in list(history.definitions.values()):
        if _on_column(definition, schema, table, column):
            yield from _again(definition, ctx, f"went with column {column} of {schema}.{table}")
    ref = ObjectRef("column", table, schema, column=column)
    known, text = history.comment(ref)
    if known and text is not None:
        target = sql("{}.{}", qualified(schema, table), Identifier(column))
        yield Inverse(sql("COMMENT ON COLUMN {} IS {}", SQL(target), Literal(text)),
                      notes=("the comment an earlier migration gave the column",))  # fmt: skip


def _member_of(definition: Definition, ref: ObjectRef) -> bool:
    """A trigger, rule or policy on the view `ref` (a materialized view's indexes are made
    again by matviews.recreated_indexes: only those made since its CREATE)."""
    if ref.kind not in ("view", "materialized view"):
        return False
    found = definition.ref
    return found.kind in _MEMBERS and found.table == ref.name and found.schema == ref.schema


def _uses(definition: Definition, names: set[str]) -> bool:
    return definition.ref.kind not in KEPT and not mentions(definition).isdisjoint(names)


def _on_column(definition: Definition, schema: str, table: str, column: str) -> bool:
    found = definition.ref
    if found.kind == "index":
        text = definition.text  # what follows the table: the keys, INCLUDE, WHERE
        used = words(text[text.find("(") :])
        return _index_on(definition) == (schema, table) and column.lower() in used
    if found.kind != "constraint" or (found.schema, found.table) != (schema, table):
        return False
    declared = _declared(definition)
    if declared is not None:
        return declared[0] == column
    return not definition.is_statement and column.lower() in _columns_used(definition.fragment)


def _columns_used(node: Any) -> frozenset[str]:
    """The words naming this table's columns in a table constraint: a foreign key's own
    columns (not those it references), a key's columns, a CHECK's expression."""
    if node.contype == ConstrType.CONSTR_FOREIGN:
        return words(" ".join(strings(node.fk_attrs)))
    if node.contype == ConstrType.CONSTR_CHECK:
        return words(deparse(node.raw_expr))
    return words(" ".join(strings(node.keys) + strings(node.including)))


def _index_on(definition: Definition) -> tuple[str, str] | None:
    tree = definition.tree
    if not isinstance(tree, ast.IndexStmt):
        return None
    rel = tree.relation
    return (str(rel.schemaname or DEFAULT_SCHEMA), str(rel.relname))


def _declared(definition: Definition) -> tuple[str, Any] | None:
    """A column-level constraint (kept as its whole statement): its column and its node."""
    if not definition.is_statement:
        return None
    node, table = definition.statement.node, str(definition.ref.table)
    elements = getattr(node, "tableElts", None) or [
        cmd.def_ for cmd in getattr(node, "cmds", None) or ()
    ]
    for element in elements:
        if not isinstance(element, ast.ColumnDef):
            continue
        for c in element.constraints or ():
            if (
                c.contype in _ADDABLE
                and constraint_name(table, c, element.colname) == definition.ref.name
            ):
                return str(element.colname), c
    return None


def _again(definition: Definition, ctx: Context, why: str) -> Iterator[Inverse]:
    """`definition` recreated from its text, or a MANUAL item where it cannot be."""
    ref, history = definition.ref, ctx.history
    if ref.key in ctx.dropped_here or (ref.kind == "index" and (ref.schema or "", ref.name)
                                       in ctx.gone_here):  # fmt: skip
        return  # this migration's own DROP of it is undone too
    ctx.dropped_here.add(ref.key)
    usable = history is not None and history.definition(ref) is definition
    renamed = ctx.renamed_since(definition)
    if usable and renamed is None and ref.kind in _STATEMENTS:
        where = definition.statement.location
        note = f"recreates {ref.describe()} from {where}: it {why}"
        yield Inverse(definition.text, notes=(note,), recreates=ref, tree=definition.tree)
    elif usable and renamed is None and ref.kind == "constraint":
        text = _constraint_text(definition, ref)
        if text is not None:
            yield Inverse(text, notes=(f"recreates {ref.describe()}: it {why}",), recreates=ref)
            return
        yield _by_hand(ref, why)
    else:
        yield _by_hand(ref, why)


def _by_hand(ref: ObjectRef, why: str) -> Inverse:
    return manual(ManualNeed.RECREATE_DROPPED, f"{ref.describe()} {why}; recreate it", ref)


def _constraint_text(definition: Definition, ref: ObjectRef) -> str | None:
    """`ALTER TABLE … ADD CONSTRAINT name …`: a column-level one with its column named."""
    declared = _declared(definition)
    node = definition.fragment if declared is None else copy(declared[1])
    if node is None or node.contype not in _ADDABLE:
        return None
    field = _KEYED.get(node.contype)
    if declared is not None and field is not None:
        setattr(node, field, (ast.String(sval=declared[0]),))
    body = copy(node)
    body.conname = None
    return sql("ALTER TABLE {} ADD CONSTRAINT {} {}", qualified(ref.schema, str(ref.table)),
               Identifier(ref.name), SQL(deparse(body)))  # fmt: skip
