"""The history's reading of what a DO block's code drops (do_drops.py).

Each DROP the code shows is read as the statement would be at the top level (the observers of
history_observers.py): what it names is gone, and with CASCADE what depends on it. A policy or
trigger it creates where none stood is learned from its text: if the block's IF skipped it,
one stood, made outside the migrations (the engine's assumption everywhere: they are
complete). Anything else it makes over a known object stands with a definition not known
(stale: a later undo is a human's). A DROP built from a format() template forgets every
definition the template may name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from migration_rollback.sql._ast import ast
from migration_rollback.sql.do_drops import ANY_NAME, block_statements, drops, templated_drops
from migration_rollback.sql.model import ObjectRef, Statement
from migration_rollback.sql.names import deparse

if TYPE_CHECKING:
    from migration_rollback.sql.history import History

# What a block's code makes that the history learns, when nothing stood under its name.
_LEARNED = (ast.CreatePolicyStmt, ast.CreateTrigStmt)

# What else a block makes (or, OR REPLACE, makes again).
_MADE = (ast.ViewStmt, ast.CreateFunctionStmt, ast.IndexStmt, ast.RuleStmt, *_LEARNED)

Observer = Callable[["History", Statement, Any], None]


def observe_block_drops(
    h: History, st: Statement, node: Any, observers: Mapping[type, Observer]
) -> None:
    """The statements the block's code shows (do_drops.py), in order: a DROP as if run at the
    top level (what it names is gone); a policy or trigger none stood for is made by the text
    (the common `IF NOT EXISTS (… pg_policies …) THEN EXECUTE 'CREATE POLICY …'`); anything
    else the block makes over a known object leaves its definition unknown."""
    from migration_rollback.sql.classify import classify

    for inner in block_statements(node, st):
        targets = classify(inner).targets
        if drops(inner.node) or (
            isinstance(inner.node, _LEARNED) and not any(h.knows(t) for t in targets)
        ):
            observers[type(inner.node)](h, inner, inner.node)
        elif isinstance(inner.node, _MADE):  # over one that stood, or skipped: which, not known
            h.stale.update(h.identity(t).key for t in targets if _other(h, t, inner.node))
    for templated in templated_drops(node, st):
        for target in classify(templated).targets:
            for known in [d.ref for d in h.definitions.values() if _fills(target, d.ref)]:
                h.forget(known)


def _other(h: History, ref: ObjectRef, node: Any) -> bool:
    """A known object the block's statement may have replaced with another definition (the
    same text again, the common guarded re-run of an earlier block, changes nothing)."""
    known = h.definitions.get(h.identity(ref).key)
    return known is not None and deparse(known.tree) != deparse(node)


def _fills(template: ObjectRef, ref: ObjectRef) -> bool:
    """Whether `ref` may be what a DROP built from a template names (do_drops.ANY_NAME)."""
    pairs = ((template.schema, ref.schema), (template.table, ref.table), (template.name, ref.name))
    return template.kind == ref.kind and all(
        a == ANY_NAME or (a or "").lower() == (b or "").lower() for a, b in pairs
    )
