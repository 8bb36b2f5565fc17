"""The undo of a DO block, as far as its code shows what it drops (do_drops.py).

A block is code the generator does not run: its undo is a human's. The common one on real
projects drops policies (`DROP POLICY IF EXISTS …`, plain or by EXECUTE of a constant) before
the migration creates them again. Each policy or trigger it drops that an earlier migration
defined is made again from that text, after `DROP … IF EXISTS` of it: the block may not have
dropped it (an IF, an EXCEPTION that undid the block), then it still stands as defined and is
made again the same. A block that does nothing else needs no human; otherwise the MANUAL item
names what it drops, and where each was defined.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from migration_rollback.sql._ast import ast
from migration_rollback.sql.do_drops import (
    ANY_NAME,
    block_drops,
    block_statements,
    drops,
    only_drops,
    templated_drops,
)
from migration_rollback.sql.model import ManualNeed, ObjectRef, Statement
from migration_rollback.sql.rules.context import Context, Inverse, drop, manual
from migration_rollback.sql.rules.data import dynamic
from migration_rollback.sql.rules.settings import recreated_settings

# What is made again in place: nothing depends on these, and they hold no rows.
_REMADE = frozenset({"policy", "trigger"})


def do_block(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    """Recreate what the block drops when it can be, say the rest (module docstring)."""
    from migration_rollback.sql.classify import classify

    inner = block_statements(node, st)
    made = {t for s in inner if not drops(s.node) for t in classify(s).targets}
    remade: list[Inverse] = []
    unsaid: list[str] = []
    for dropping in reversed(block_drops(node, st)):
        if not isinstance(dropping.node, ast.DropStmt):  # an ALTER TABLE … DROP
            unsaid.append(dropping.first_line)
            continue
        for ref in classify(dropping).targets:
            again = None if ref in made else _again(ref, ctx)
            remade += again or []
            unsaid += [] if again else [_defined(ref, ctx)]
    for templated in templated_drops(node, st):
        unsaid += [_any(ref) for ref in classify(templated).targets]
    yield from remade
    if not unsaid and only_drops(node):
        return
    if not unsaid and not remade:
        yield from dynamic(node, st, ctx)
        return
    said = "; ".join(unsaid) if unsaid else "nothing else"
    yield manual(
        ManualNeed.DYNAMIC,
        f"DO at line {st.location.line} runs code the generator cannot see into; undo its "
        f"effects by hand. Its code drops (if it ran that far): {said}",
    )


def _again(ref: ObjectRef, ctx: Context) -> list[Inverse] | None:
    """`DROP … IF EXISTS` and the earlier CREATE of a policy or trigger; None when not known."""
    previous = ctx.previous(ref)
    if ref.kind not in _REMADE or previous is None or ctx.renamed_since(previous):
        return None
    where = previous.statement.location
    note = f"the block may have dropped {ref.describe()}: made again from {where}"
    return [
        drop(ref, notes=(note,)),
        Inverse(previous.text, notes=(note,), tree=previous.tree),
        *recreated_settings(ref, previous, ctx),
    ]


def _any(ref: ObjectRef) -> str:
    """A DROP built at run time: `policy * on *` says any policy of any table."""
    return f"{ref.describe().replace(ANY_NAME, '*')} (a name built at run time)"


def _defined(ref: ObjectRef, ctx: Context) -> str:
    previous = ctx.previous(ref)
    if previous is None:
        return ref.describe()
    return f"{ref.describe()} (defined by {previous.statement.location})"
