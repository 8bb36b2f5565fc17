"""A materialized view dropped here and recreated from its earlier CREATE.

DROP MATERIALIZED VIEW takes its indexes with it: a unique one is what REFRESH … CONCURRENTLY
needs, so the platform's refresh job fails without it. The indexes earlier migrations made on
it are made again from their CREATE INDEX, after the view. Its rows need no backup: they are
its query's, and the recreating CREATE … AS runs the query (unless its text says WITH NO
DATA, then a REFRESH fills it, as it did after the earlier CREATE).
"""

from __future__ import annotations

from collections.abc import Iterator

from migration_rollback.sql._ast import ast
from migration_rollback.sql.model import ObjectRef
from migration_rollback.sql.names import relation
from migration_rollback.sql.rules.context import Context, Inverse


def recreated_indexes(ref: ObjectRef, ctx: Context) -> Iterator[Inverse]:
    """The CREATE INDEX of each index earlier migrations made on the materialized view since
    its CREATE (one made on an earlier view of the name went with that one)."""
    history = ctx.history
    if history is None or ref.kind != "materialized view":
        return
    definitions = list(history.definitions.values())
    made = next((i for i, d in enumerate(definitions) if d.ref == history.identity(ref)), None)
    for known in definitions[made or 0 :] if made is not None else ():
        tree = known.tree
        if known.ref.kind != "index" or not isinstance(tree, ast.IndexStmt):
            continue
        on = relation(tree.relation, known.search_path)
        definition = history.definition(known.ref)
        if (on.schema, on.name) == (ref.schema, ref.name) and definition is not None:
            where = definition.statement.location
            note = f"the index {ref.describe()} had, from {where} (its DROP took it)"
            yield Inverse(definition.text, notes=(note,), tree=definition.tree)
