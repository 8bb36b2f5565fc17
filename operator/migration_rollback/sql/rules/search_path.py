"""The search_path lookup (sql/search_path.py) over what the rules know at this point of the
migration: what it made, and what earlier migrations made that it did not drop."""

from __future__ import annotations

from typing import Any

from migration_rollback.sql.model import ObjectRef
from migration_rollback.sql.rules.context import Context
from migration_rollback.sql.search_path import Lookup


def lookup(ctx: Context) -> Lookup:
    return Lookup(
        ctx.default_schema,
        ctx.search_path,
        ctx.relation_taken,
        lambda schema, name: _routine_there(ctx, schema, name),
        lambda schema, name: _type_there(ctx, schema, name),
    )


def home_schema(ctx: Context, node: Any) -> str:
    """The schema a statement's bare name of an existing relation (its table's, for a column,
    trigger or policy) or routine resolves to: along the path (a RENAME or SET SCHEMA of
    public.t after SET search_path TO app, public is public.t's); else the default schema."""
    return lookup(ctx).home(node)


def _routine_there(ctx: Context, schema: str, name: str) -> bool:
    """A routine of that name made here, or by an earlier migration and not dropped here."""
    ref = ObjectRef("function", name, schema)
    if ctx.created_here.has_name(ref):
        return True
    if ctx.history is None or ctx.gone(ref):
        return False
    return ctx.history.holds_routine(schema, name)


def _type_there(ctx: Context, schema: str, name: str) -> bool:
    """A type or domain of that name made here, or by an earlier migration and not dropped."""
    kinds = (ObjectRef("type", name, schema), ObjectRef("domain", name, schema))
    if ctx.created_here.has_name(kinds[0]):  # one namespace for both
        return True
    history = ctx.history
    return history is not None and any(history.knows(r) and not ctx.gone(r) for r in kinds)
