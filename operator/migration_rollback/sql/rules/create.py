"""CREATE statements and their undo: drop exactly the object created, unless it was there
before (IF NOT EXISTS of an existing object changed nothing; OR REPLACE restores the earlier
definition).

One table, keyed by the statement's parse-tree class, says how each CREATE names its object
and what a reviewer should be told; a single rule applies it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pglast.enums.parsenodes import ObjectType

from migration_rollback.sql._ast import ast
from migration_rollback.sql.created import object_key_for_index, simple_object_ref
from migration_rollback.sql.history_observers import learn_created
from migration_rollback.sql.model import Leaves, ManualNeed, ObjectRef, Statement
from migration_rollback.sql.names import function_args, relation, split_qualified, strings
from migration_rollback.sql.rules.context import Context, Inverse, drop, manual, nothing
from migration_rollback.sql.rules.redefine import replaced
from migration_rollback.sql.rules.search_path import lookup

# Extensions a Supabase project has before its first migration (the CREATE EXTENSIONs of
# platform/supabase.sql, and plpgsql); `CREATE EXTENSION IF NOT EXISTS` of one of them changes
# nothing, so dropping it would break the platform (pgsodium: its key table).
PLATFORM_EXTENSIONS = frozenset(
    {"plpgsql", "uuid-ossp", "pgcrypto", "pgjwt", "pg_graphql", "pg_stat_statements",
     "supabase_vault", "pgsodium"}
)  # fmt: skip

Target = Callable[[Any, str], ObjectRef | None]  # (node, default schema) -> what it creates


def changed_nothing(ref: ObjectRef) -> str:
    """IF NOT EXISTS of an object earlier migrations made."""
    return f"{ref.describe()} existed before; IF NOT EXISTS changed nothing"


def _no_notes(node: Any, ref: ObjectRef) -> tuple[str, ...]:
    return ()


@dataclass(frozen=True, slots=True)
class Creates:
    """How one kind of CREATE names its object, and what its undo tells a reviewer."""

    target: Target
    replaceable: bool = False  # CREATE OR REPLACE exists for it
    notes: Callable[[Any, ObjectRef], tuple[str, ...]] = _no_notes

    def if_not_exists(self, node: Any) -> bool:
        base = getattr(node, "base", None)  # CREATE FOREIGN TABLE wraps a CREATE TABLE
        return bool(getattr(base if base is not None else node, "if_not_exists", False))


def _temporary(node: Any) -> bool:
    return isinstance(node, ast.CreateStmt) and node.relation.relpersistence == "t"


def _platform_extension(node: Any, ref: ObjectRef, spec: Creates) -> bool:
    return ref.kind == "extension" and spec.if_not_exists(node) and ref.name in PLATFORM_EXTENSIONS


def create(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    """The undo of any CREATE in `CREATES`."""
    spec = CREATES[type(node)]
    if type(node) is ast.CreateStmt and (node.partspec is not None or node.inhRelations):
        learn_created(ctx.descent, node, ctx.default_schema)  # for only.py: children made here
    if _temporary(node):
        yield nothing("a temporary table ends with the session")
        return
    home = _home(node, ctx)
    ref = spec.target(node, home)
    if isinstance(node, ast.IndexStmt):  # unnamed: the next free name (names.choose_name)
        ref = object_key_for_index(node, home, ctx.relation_taken)
    if ref is None:
        yield manual(ManualNeed.UNSUPPORTED, f"{st.kind} is not understood")
    elif _platform_extension(node, ref, spec):
        yield nothing(f"extension {ref.name} is part of the platform; kept")
    elif spec.replaceable:
        yield from _create_or_replace(node, ref, ctx)
        ctx.note_made(ref, st)  # made, or replaced: its definition is this statement's now
    else:
        yield from _plain(node, ref, spec, ctx, st)


def _home(node: Any, ctx: Context) -> str:
    """Where the CREATE puts its object: the first schema of the search_path; what is made
    on a table (an index, trigger, policy, rule), its table's, found along the path."""
    attr = _ON_TABLE.get(type(node))
    if attr is None:
        return ctx.default_schema
    return str(lookup(ctx).relation(getattr(node, attr)).schema)


_ON_TABLE = {ast.IndexStmt: "relation", ast.CreateTrigStmt: "relation",
             ast.CreatePolicyStmt: "table", ast.RuleStmt: "relation"}  # fmt: skip


def _plain(
    node: Any, ref: ObjectRef, spec: Creates, ctx: Context, st: Statement
) -> Iterator[Inverse]:
    if_not_exists = spec.if_not_exists(node)
    if if_not_exists and ctx.is_new(ref) and (not ctx.gone(ref) or ctx.remade(ref)):
        note = f"{ref.describe()} was made earlier in this migration; IF NOT EXISTS made nothing"
        yield nothing(note)
        return
    existed = ctx.existed_before(ref) if if_not_exists else False
    if existed:
        yield nothing(changed_nothing(ref))
        return
    notes = spec.notes(node, ref)
    concurrently = bool(getattr(node, "concurrent", False))
    dropped = drop(ref, concurrently=concurrently, notes=notes)
    if if_not_exists and not _surely_new(ref, ctx) and not _on_new_table(node, ctx):
        reason = may_have_existed(ref, dropped.sql)
        yield manual(ManualNeed.PRIOR_DEFINITION, reason, ref, Leaves.EXISTENCE)
        return
    ctx.created_here.add(ref)
    ctx.note_made(ref, st)
    yield dropped


def _surely_new(ref: ObjectRef, ctx: Context) -> bool:
    """Not there before this migration: it dropped or renamed away the name, or made its
    schema. Otherwise an IF NOT EXISTS may have met one made in the dashboard or by the
    platform (auth.users, pg_cron), which its DROP would take with its rows."""
    gone = ref in ctx.created_here or (ref.schema or "", ref.name) in ctx.gone_here
    return gone or (ref.schema is not None and ObjectRef("schema", ref.schema) in ctx.created_here)


def _on_new_table(node: Any, ctx: Context) -> bool:
    """An index of a table the migrations made (this one or an earlier one) is taken as new:
    one made in the dashboard beside it is rare, and its DROP loses no row (the note says to
    keep it if it was there). On a table they did not make, it is a human's call."""
    if not isinstance(node, ast.IndexStmt):
        return False
    table = lookup(ctx).relation(node.relation)
    return ctx.is_new(table) or bool(ctx.existed_before(table))


def may_have_existed(ref: ObjectRef, drop_sql: str | None) -> str:
    """IF NOT EXISTS of an object no earlier migration made: dropping it is a human's call."""
    return (
        f"IF NOT EXISTS: no earlier migration made {ref.describe()}, so it may have existed "
        f"before this migration (made in the dashboard or by the platform) and was then left "
        f"as it was: keep it if so; if it did not exist, run: {drop_sql}"
    )


def _create_or_replace(node: Any, ref: ObjectRef, ctx: Context) -> Iterator[Inverse]:
    if node.replace:
        yield from replaced(ref, ctx, drop(ref), node)
    else:
        yield drop(ref)
    if not ctx.existed_before(ref):
        ctx.created_here.add(ref)


# --- what each CREATE creates -----------------------------------------------------------------


def _table(node: Any, schema: str) -> ObjectRef:
    return relation(node.relation, schema)


def _table_notes(node: Any, ref: ObjectRef) -> tuple[str, ...]:
    return ("rows written to it since the migration are lost unless archived",)


def _index_notes(node: Any, ref: ObjectRef) -> tuple[str, ...]:
    return () if node.idxname else (f"index name {ref.name} derived as PostgreSQL names it",)


def _table_as(node: Any, schema: str) -> ObjectRef:
    matview = node.objtype == ObjectType.OBJECT_MATVIEW
    return relation(node.into.rel, schema, "materialized view" if matview else "table")


def _function(node: Any, schema: str) -> ObjectRef:
    schema, name = split_qualified(strings(node.funcname), schema)
    kind = "procedure" if node.is_procedure else "function"
    return ObjectRef(kind, name, schema, args=function_args(node.parameters))


def _on_table(kind: str, name_attr: str, table_attr: str) -> Target:
    def target(node: Any, schema: str) -> ObjectRef:
        rel = relation(getattr(node, table_attr), schema)
        return ObjectRef(kind, str(getattr(node, name_attr)), rel.schema, table=rel.name)

    return target


def _named(kind: str, name_attr: str) -> Target:
    return lambda node, schema: ObjectRef(kind, str(getattr(node, name_attr)))


def _simple(kind: str) -> Creates:
    """Types, sequences, schemas, extensions...: named as the history names them."""
    return Creates(lambda node, schema: simple_object_ref(kind, node, schema))


CREATES: dict[type, Creates] = {
    ast.CreateStmt: Creates(_table, notes=_table_notes),
    ast.IndexStmt: Creates(object_key_for_index, notes=_index_notes),
    ast.CreateForeignTableStmt: Creates(
        lambda node, schema: relation(node.base.relation, schema, "foreign table")
    ),
    ast.CreateForeignServerStmt: Creates(_named("server", "servername")),
    ast.CreateFdwStmt: Creates(_named("foreign data wrapper", "fdwname")),
    ast.CreateTableAsStmt: Creates(_table_as),
    ast.ViewStmt: Creates(
        lambda node, schema: relation(node.view, schema, "view"), replaceable=True
    ),
    ast.CreateFunctionStmt: Creates(_function, replaceable=True),
    ast.CreateTrigStmt: Creates(_on_table("trigger", "trigname", "relation"), replaceable=True),
    ast.CreatePolicyStmt: Creates(_on_table("policy", "policy_name", "table")),
    ast.RuleStmt: Creates(_on_table("rule", "rulename", "relation"), replaceable=True),
    ast.CreateEventTrigStmt: Creates(_named("event trigger", "trigname")),
    ast.CreateEnumStmt: _simple("type"),
    ast.CompositeTypeStmt: _simple("type"),
    ast.CreateDomainStmt: _simple("domain"),
    ast.CreateSeqStmt: _simple("sequence"),
    ast.CreateSchemaStmt: _simple("schema"),
    ast.CreateExtensionStmt: _simple("extension"),
    ast.CreatePublicationStmt: _simple("publication"),
}
