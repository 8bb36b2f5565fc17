"""The history's reading of what a DO block's code drops (do_drops.py).

Each DROP the code shows is read as the statement would be at the top level (the observers of
history_observers.py): what it names is gone, and with CASCADE what depends on it. One the same
block makes again stands, its definition not known (stale: a later undo is a human's). A DROP
built from a format() template forgets every definition the template may name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from pglast.enums.parsenodes import DropBehavior

from migration_rollback.sql._ast import ast
from migration_rollback.sql.do_drops import ANY_NAME, block_statements, drops, templated_drops
from migration_rollback.sql.model import ObjectRef, Statement

if TYPE_CHECKING:
    from migration_rollback.sql.history import History

Observer = Callable[["History", Statement, Any], None]


def observe_block_drops(
    h: History, st: Statement, node: Any, observers: Mapping[type, Observer]
) -> None:
    """The DROPs the block's code shows (do_drops.py), as if run at the top level: what they
    name is gone, or, made again by the same block, stands with a definition not known."""
    from migration_rollback.sql.classify import classify

    inner = block_statements(node, st)
    made = {h.identity(t).key for s in inner if not drops(s.node) for t in classify(s).targets}
    for dropping in (s for s in inner if drops(s.node)):
        targets = classify(dropping).targets
        again = isinstance(dropping.node, ast.DropStmt) and all(
            h.identity(t).key in made for t in targets
        )
        if again and dropping.node.behavior != DropBehavior.DROP_CASCADE:
            h.stale.update(h.identity(t).key for t in targets if h.knows(t))
        else:
            observers[type(dropping.node)](h, dropping, dropping.node)
    for templated in templated_drops(node, st):
        for target in classify(templated).targets:
            for known in [d.ref for d in h.definitions.values() if _fills(target, d.ref)]:
                h.forget(known)


def _fills(template: ObjectRef, ref: ObjectRef) -> bool:
    """Whether `ref` may be what a DROP built from a template names (do_drops.ANY_NAME)."""
    pairs = ((template.schema, ref.schema), (template.table, ref.table), (template.name, ref.name))
    return template.kind == ref.kind and all(
        a == ANY_NAME or (a or "").lower() == (b or "").lower() for a, b in pairs
    )
