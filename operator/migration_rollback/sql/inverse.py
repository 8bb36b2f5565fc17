"""Inverse rules: for each forward statement, the SQL that undoes it, or why a human must.

Rules never use CASCADE (it silently drops objects later migrations built on); they rely on
the rollback running in reverse statement order, so a migration's own dependents are dropped
before what they depend on. Every name is schema-qualified and every DROP says IF EXISTS, so a
rollback can be re-run after a partial manual repair.

This module holds the top table, keyed by the statement's parse-tree class; each family of
statements has its own module under `rules/` with its own table keyed by pglast's enums.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pglast.enums.parsenodes import DropBehavior

from migration_rollback.sql import kinds
from migration_rollback.sql._ast import ast
from migration_rollback.sql.compose import Identifier, sql
from migration_rollback.sql.model import ManualItem, ManualNeed, ObjectRef, Statement
from migration_rollback.sql.names import (
    DEFAULT_SCHEMA,
    deparse,
    resets_search_path,
    search_path_schema,
    search_path_schemas,
)
from migration_rollback.sql.renamed import TYPE_KINDS
from migration_rollback.sql.rules import (
    attributes,
    blocks,
    data,
    dependents,
    matviews,
    privileges,
    redefine,
    renames,
    settings,
)
from migration_rollback.sql.rules.alter_table import alter_table
from migration_rollback.sql.rules.context import (
    Context,
    Inverse,
    Rule,
    manual,
    nothing,
    renamed_manual,
)
from migration_rollback.sql.rules.create import CREATES, create
from migration_rollback.sql.rules.search_path import lookup

__all__ = ["RULES", "Context", "Inverse", "invert"]


def _drop(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    from migration_rollback.sql.classify import classify

    cascade = node.behavior == DropBehavior.DROP_CASCADE
    where = lookup(ctx)
    for obj, target in zip(node.objects or (), classify(st).targets, strict=True):
        ref = where.drop_target(obj, target)
        if node.missing_ok and ref.table is None and ctx.gone(ref) and not ctx.remade(ref):
            yield nothing(f"{ref.describe()} was gone already: IF EXISTS dropped nothing")
            continue
        made = ctx.made_again_by(ref) if ref.table is None else None
        if ref.table is None and ref.column is None:
            ctx.note_gone(ref)
        if node.missing_ok and ref.key in ctx.dropped_here and not ctx.is_new(ref):
            yield nothing(f"{ref.describe()} was gone already: an earlier drop took it")
            continue
        ctx.dropped_here.add(ref.key)
        if made is not None:  # not what earlier migrations made: that one went before
            yield remade_dropped(ref, made, cascade=cascade)
            continue
        recreated = recreate(ref, ctx, cascade=cascade)
        yield recreated
        if recreated.recreates is not None:  # as the history followed it since (settings.py)
            yield from settings.recreated_settings(ref, ctx.previous(ref), ctx)
            yield from matviews.recreated_indexes(ref, ctx)
            yield from settings.recreated_attributes(ref, ctx)
            yield from privileges.recreated_privileges(ref, ctx)
            yield from dependents.after_drop(ref, ctx, cascade=cascade)


def recreate(ref: ObjectRef, ctx: Context, *, cascade: bool) -> Inverse:
    """Recreate what was dropped from the statement that defined it, unless rows went with
    it: then a human restores it, and its data from the backup. A type this migration renamed
    (an enum renamed aside to be swapped) is made again from its CREATE under the name it had
    when dropped."""
    previous = ctx.previous(ref)
    before = ctx.was_named(ref) if previous is None and ref.kind in TYPE_KINDS else None
    if before is not None:
        previous = ctx.previous_as(before, ref)
    kind = kinds.KINDS.get(ref.kind)
    loses_rows = kind is not None and kind.drop_loses_rows(cascade=cascade)
    renamed = ctx.renamed_since(previous) if previous is not None else None
    if renamed is not None and not loses_rows and previous.is_statement:
        now = ctx.called_now(previous)
        if now is None:
            return renamed_manual(ManualNeed.RECREATE_DROPPED, ref, previous, renamed)
        where = previous.statement.location
        note = f"recreates {ref.describe()} from {where}, naming what was renamed since as now"
        return Inverse(now, notes=(note,), recreates=ref)
    if previous is not None and not loses_rows and previous.is_statement:
        where = previous.statement.location
        return Inverse(previous.text, notes=(f"recreates {ref.describe()} from {where}",),
                       recreates=ref, tree=previous.tree)  # fmt: skip
    reason = f"{ref.describe()} was dropped; recreate it"
    if loses_rows:
        reason += " and restore its data from the backup taken before the migration"
    return Inverse(manual=ManualItem(ManualNeed.RECREATE_DROPPED, reason, ref, ctx.was_named(ref)))


def remade_dropped(ref: ObjectRef, made: Statement, *, cascade: bool) -> Inverse:
    """Recreate what was dropped, which this migration had dropped before and made again by
    `made`: from that statement, not from the earlier migrations' (what they made, with its
    settings and dependents, is restored by the undo of the first DROP)."""
    kind = kinds.KINDS.get(ref.kind)
    if kind is not None and kind.drop_loses_rows(cascade=cascade):
        reason = (
            f"{ref.describe()} was dropped after {made.location} made it again; recreate it "
            f"as that statement made it, with any rows written to it since"
        )
        return Inverse(manual=ManualItem(ManualNeed.RECREATE_DROPPED, reason, ref))
    note = f"recreates {ref.describe()} as {made.location} made it again"
    return Inverse(made.text, notes=(note,), tree=made.node)


def _no_undo(reason: str) -> Rule:
    def rule(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
        yield nothing(reason)

    return rule


def _explain(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    """EXPLAIN plans a statement; EXPLAIN ANALYZE runs it, so its effects need the undo."""
    analyze = any(str(getattr(o, "defname", "")).lower() == "analyze" for o in node.options or ())
    if not analyze:
        yield nothing("EXPLAIN without ANALYZE runs nothing")
        return
    inner = Statement(deparse(node.query), st.location, st.index, node.query)
    yield from invert(inner, ctx)


def _set(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    schema = search_path_schema(node)
    if schema:
        ctx.default_schema = schema
        ctx.search_path = search_path_schemas(node)
    elif resets_search_path(node):
        ctx.default_schema, ctx.search_path = DEFAULT_SCHEMA, ()
    yield nothing("session setting; nothing to undo")


def _create_role(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    yield Inverse(
        sql("DROP ROLE IF EXISTS {}", Identifier(str(node.role))),
        notes=("roles are cluster-wide: make sure no other database uses it",),
    )


RULES: dict[type, Rule] = {
    **dict.fromkeys(CREATES, create),
    ast.AlterPolicyStmt: redefine.alter_policy,
    ast.AlterFunctionStmt: redefine.alter_function,
    ast.AlterSeqStmt: redefine.alter_sequence,
    ast.AlterEnumStmt: redefine.alter_enum,
    ast.AlterPublicationStmt: redefine.alter_publication,
    ast.AlterTableStmt: alter_table,
    ast.RenameStmt: renames.rename,
    ast.AlterObjectSchemaStmt: renames.set_schema,
    ast.AlterOwnerStmt: attributes.alter_owner,
    ast.GrantStmt: attributes.grant,
    ast.GrantRoleStmt: attributes.grant_role,
    ast.AlterDefaultPrivilegesStmt: attributes.default_privileges,
    ast.CommentStmt: attributes.comment,
    ast.InsertStmt: data.insert,
    ast.UpdateStmt: data.data_change,
    ast.DeleteStmt: data.data_change,
    ast.TruncateStmt: data.data_change,
    ast.MergeStmt: data.data_change,
    ast.DoStmt: blocks.do_block,
    ast.SelectStmt: data.select,
    ast.DropStmt: _drop,
    ast.VariableSetStmt: _set,
    ast.ExplainStmt: _explain,
    ast.CreateRoleStmt: _create_role,
    ast.TransactionStmt: _no_undo("transaction control; the rollback runs in its own transaction"),
    ast.VacuumStmt: _no_undo("maintenance; nothing to undo"),
    ast.ReindexStmt: _no_undo("maintenance; nothing to undo"),
    ast.RefreshMatViewStmt: _no_undo("refreshing a materialized view needs no undo"),
    ast.LockStmt: _no_undo("a lock ends with its transaction"),
    ast.NotifyStmt: _no_undo("a notification already sent; nothing lasting to undo"),
    ast.ListenStmt: _no_undo("LISTEN ends with the session"),
    ast.UnlistenStmt: _no_undo("UNLISTEN ends with the session"),
    ast.VariableShowStmt: _no_undo("SHOW changes nothing"),
    ast.DiscardStmt: _no_undo("DISCARD affects only the session"),
    ast.CheckPointStmt: _no_undo("a checkpoint changes no schema or data"),
    ast.PrepareStmt: _no_undo("a prepared statement ends with the session"),
    ast.DeallocateStmt: _no_undo("a prepared statement ends with the session"),
}


def invert(statement: Statement, ctx: Context) -> list[Inverse]:
    """The inverses of one forward statement, in the order they must run."""
    rule = RULES.get(type(statement.node))
    if rule is None:
        return [
            manual(
                ManualNeed.UNSUPPORTED,
                f"{statement.kind} ({statement.first_line}) has no automatic inverse",
            )
        ]
    return list(rule(statement.node, statement, ctx))
