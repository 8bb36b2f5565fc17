"""What a drop took with it besides the object named, put back after the object is.

PostgreSQL drops more than a DROP names: a view's triggers and rules go with the view; a
column's indexes and constraints go with the column (and its comment); with CASCADE, every
view, trigger, policy, index and constraint whose expression uses the object (of a column:
the views, policies and triggers that read it). Recreating only the object from its last
CREATE left those missing, and nothing said so: a trigger silently gone after a `DROP FUNCTION
… CASCADE` was undone, a RESTRICTIVE policy after a `DROP COLUMN … CASCADE`. The earlier
migrations' texts (history.py) tell what hung on it, by the schema-qualified names and column
references of their trees (dependent_uses.py); each is recreated from its own text after the
object, and what cannot be (a routine that used it, a text renamed since) is a MANUAL item.
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
from migration_rollback.sql.rules.dependent_uses import index_columns, uses_column, uses_object

if TYPE_CHECKING:
    from migration_rollback.sql.history import Definition

# A view's members, dropped with it (a table's go with its rows: a human rebuilds it).
_MEMBERS = frozenset({"trigger", "rule", "policy"})
# Column-level constraints whose text does not name their column: ADD CONSTRAINT names it.
_KEYED = {ConstrType.CONSTR_PRIMARY: "keys", ConstrType.CONSTR_UNIQUE: "keys",
          ConstrType.CONSTR_EXCLUSION: "keys", ConstrType.CONSTR_FOREIGN: "fk_attrs"}  # fmt: skip
# Dependents whose own statement recreates them (a constraint's is its table's; a view's is
# its CREATE, what hangs on it recreated after it by after_drop).
_STATEMENTS = (LEAVES - {"constraint"}) | {"view"}
_ADDABLE = frozenset({ConstrType.CONSTR_CHECK, *_KEYED})
# What a DROP COLUMN … CASCADE takes that uses the column (besides indexes and constraints).
_USERS = frozenset({"view", "materialized view", "policy", "trigger", "rule"})


def after_drop(ref: ObjectRef, ctx: Context, *, cascade: bool) -> Iterator[Inverse]:
    """The members of a dropped relation and, with CASCADE, what used `ref`: recreated after
    it from their last CREATE, in the order they were made."""
    history = ctx.history
    if history is None:
        return
    taken = [d for d in history.on(ref.schema or "", ref.name) if _member_of(d, ref)]
    if cascade:
        names = {ref.name.lower()}
        taken += [d for d in history.definitions.values()
                  if d not in taken and _uses(d, names, ref)]  # fmt: skip
    for definition in taken:
        yield from _again(definition, ctx, f"went with {ref.describe()}")


def after_drop_column(
    schema: str, table: str, column: str, ctx: Context, *, cascade: bool = False
) -> Iterator[Inverse]:
    """The indexes and constraints on the column, and its comment, after it is added back;
    with CASCADE, the views, policies and triggers that used it too."""
    history = ctx.history
    why = f"went with column {column} of {schema}.{table}"
    if history is None:
        yield from cascade_unknown(schema, table, column, cascade=cascade)
        return
    for definition in history.on(schema, table):
        if _on_column(definition, schema, table, column):
            yield from _again(definition, ctx, why)
    if cascade:
        yield from _column_users(schema, table, column, ctx)
    ref = ObjectRef("column", table, schema, column=column)
    known, text = history.comment(ref)
    if known and text is not None:
        target = sql("{}.{}", qualified(schema, table), Identifier(column))
        yield Inverse(sql("COMMENT ON COLUMN {} IS {}", SQL(target), Literal(text)),
                      notes=("the comment an earlier migration gave the column",))  # fmt: skip


def _column_users(schema: str, table: str, column: str, ctx: Context) -> Iterator[Inverse]:
    """What a DROP COLUMN … CASCADE took besides indexes and constraints: the views, policies
    and triggers that used the column (and what hung on such a view), or a MANUAL item when
    the table was made outside the migrations (what used it there is not known)."""
    history = ctx.history
    assert history is not None
    if not history.knows(ObjectRef("table", table, schema)):
        yield from cascade_unknown(schema, table, column, cascade=True)
        return
    why = f"used column {column} of {schema}.{table} (dropped with CASCADE)"
    users = [d for d in history.definitions.values() if d.ref.kind in _USERS]
    for definition in [d for d in users if uses_column(d, schema, table, column)]:
        yield from _again(definition, ctx, why)
        if definition.ref.kind in ("view", "materialized view"):
            yield from after_drop(definition.ref, ctx, cascade=True)


def cascade_unknown(schema: str, table: str, column: str, *, cascade: bool) -> Iterator[Inverse]:
    """With CASCADE, a MANUAL item for what may have used the column unseen."""
    if cascade:
        ref = ObjectRef("column", table, schema, column=column)
        yield manual(ManualNeed.RECREATE_DROPPED,
                     f"DROP COLUMN {column} … CASCADE may have removed views, policies and "
                     f"triggers that used it on {schema}.{table}, made outside the migrations: "
                     "recreate them", ref)  # fmt: skip


def _member_of(definition: Definition, ref: ObjectRef) -> bool:
    """A trigger, rule or policy on the view `ref` (a materialized view's indexes are made
    again by matviews.recreated_indexes: only those made since its CREATE)."""
    if ref.kind not in ("view", "materialized view"):
        return False
    found = definition.ref
    return found.kind in _MEMBERS and found.table == ref.name and found.schema == ref.schema


def _uses(definition: Definition, names: set[str], ref: ObjectRef) -> bool:
    """Whether `definition` names `ref` (its words first: the tree is read for few)."""
    if definition.ref.kind in KEPT or mentions(definition).isdisjoint(names):
        return False
    return uses_object(definition, ref.schema or DEFAULT_SCHEMA, ref.name)


def _on_column(definition: Definition, schema: str, table: str, column: str) -> bool:
    found = definition.ref
    if found.kind == "index":
        on = _index_on(definition) == (schema, table)
        return on and column.lower() in index_columns(definition.tree)
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
