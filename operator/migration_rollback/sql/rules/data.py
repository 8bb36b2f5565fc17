"""Statements that change rows or run code rather than schema: INSERT, UPDATE, DELETE,
TRUNCATE, MERGE, SELECT (of platform functions, or of anything), DO.

Rows inserted with literal keys are deleted by those keys; any other change of rows is for a
human with the backup. A known platform call (pg_cron, Vault) is undone by the call's own
inverse; code the generator cannot see into is a MANUAL item.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from migration_rollback.sql import effects, platform_calls, platform_keys
from migration_rollback.sql._ast import ast
from migration_rollback.sql.compose import SQL, Composable, Identifier, name_of, sql
from migration_rollback.sql.model import ManualItem, ManualNeed, ObjectRef, Statement
from migration_rollback.sql.names import RUN_TIME, deparse, relation, set_config_schemas
from migration_rollback.sql.rules import only
from migration_rollback.sql.rules.context import Context, Inverse, drop, manual, nothing


def insert(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    rel = relation(node.relation, ctx.default_schema)
    if ctx.is_new(rel):
        yield nothing(f"rows go with {rel.qualified}, which the rollback drops")
        return
    rows, cols = _literal_rows(node), [str(c.name) for c in node.cols or ()]
    keys = _row_key(ctx, rel, cols, rows)
    if not keys or rows is None or not cols:
        yield manual(
            ManualNeed.DATA_CHANGE,
            f"review data inserted into {rel.qualified}: no literal primary key to delete by",
            rel,
        )
    elif any(k not in cols for k in keys):
        yield manual(ManualNeed.DATA_CHANGE, f"review data inserted into {rel.qualified}", rel)
    else:
        yield _delete_inserted(node, rel, cols, keys, rows)


def _delete_inserted(
    node: Any, rel: ObjectRef, cols: list[str], keys: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> Inverse:
    """DELETE the inserted rows by their key; with ON CONFLICT, some were there before."""
    rows_sql = [_row_sql([SQL(deparse(row[cols.index(k)])) for k in keys]) for row in rows]
    delete = _delete_sql(rel, _row_sql([Identifier(k) for k in keys]), rows_sql)
    if node.onConflictClause is not None:
        return manual(
            ManualNeed.DATA_CHANGE,
            f"ON CONFLICT: rows of {rel.qualified} that existed before were not inserted; "
            f"delete only the new ones: {delete}",
            rel,
        )
    notes: tuple[str, ...] = (f"removes the {len(rows)} row(s) the migration inserted",)
    if rel.schema == "storage":
        notes += (_STORAGE_DELETE,)
    return Inverse(delete, notes=notes)


# supabase/storage#817 (2025-12): a trigger refuses a DELETE on storage's tables unless the
# session says storage.allow_delete_query; the rollback does not say it for the reviewer.
_STORAGE_DELETE = (
    "newer Supabase storage refuses a direct DELETE unless storage.allow_delete_query is "
    "'true' in the session: set it for this transaction if it fails, after checking that "
    "no object is left in the bucket"
)


def _row_sql(values: list[Composable]) -> Composable:
    """One value as is, several as a row: `(a, b)`."""
    together = SQL(", ").join(values)
    return together if len(values) == 1 else SQL("({})").format(together)


def _delete_sql(rel: ObjectRef, key: Composable, rows: list[Composable]) -> str:
    return sql("DELETE FROM {} WHERE {} IN ({})", name_of(rel), key, SQL(", ").join(rows))


def _row_key(
    ctx: Context, rel: ObjectRef, cols: list[str], rows: list[tuple[Any, ...]] | None
) -> tuple[str, ...] | None:
    """The key the inserted rows are found by again: the primary key, else a UNIQUE key whose
    columns the INSERT gives, none of them NULL (a unique key holds one row per value). A
    table no migration made keys as the platform made it (storage.buckets by its id)."""
    table = (str(rel.schema), rel.name)
    history = ctx.history
    primary: tuple[str, ...] | None = None if history is None else history.primary_keys.get(table)
    uniques = () if history is None else history.unique_keys.get(table, ())
    if primary is None and not uniques:
        primary, uniques = platform_keys.primary_key(table), platform_keys.unique_keys(table)
    if primary and all(k in cols for k in primary):
        return primary
    for unique in uniques:
        if (
            all(k in cols for k in unique)
            and rows is not None
            and not any(_is_null(row[cols.index(k)]) for row in rows for k in unique)
        ):
            return unique
    return primary


def _is_null(value: Any) -> bool:
    return isinstance(value, ast.A_Const) and bool(getattr(value, "isnull", False))


def _literal_rows(node: Any) -> list[tuple[Any, ...]] | None:
    select = node.selectStmt
    if not isinstance(select, ast.SelectStmt) or not select.valuesLists:
        return None
    rows = [tuple(r) for r in select.valuesLists]
    for row in rows:
        if not all(isinstance(v, ast.A_Const | ast.TypeCast) for v in row):
            return None
    return rows


def data_change(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    rel = relation(node.relation, ctx.default_schema) if getattr(node, "relation", None) else None
    if rel is not None and ctx.is_new(rel):  # as for INSERT
        yield nothing(f"rows go with {rel.qualified}, which the rollback drops")
        return
    yield manual(
        ManualNeed.DATA_CHANGE,
        f"{st.kind.removesuffix('Stmt').upper()} changed rows"
        + (f" of {rel.qualified}" if rel else "")
        + _reach(node, ctx)
        + ": restore them from the backup taken before the migration",
        rel,
    )


def _reach(node: Any, ctx: Context) -> str:
    """Which tables' rows the restore covers, where that is not just the table named: ONLY
    keeps to it, and without ONLY its known children and partitions changed too. TRUNCATE
    names its tables; the others name one, already said."""
    many = getattr(node, "relations", None)
    said = []
    for rv in many or (getattr(node, "relation", None),):
        if not isinstance(rv, ast.RangeVar):
            continue
        ref = relation(rv, ctx.default_schema)
        name = f"{ref.qualified} " if many else ""
        if not rv.inh:
            said.append(f"{name}ONLY: not its children or partitions")
        elif only.reach(ctx, str(ref.schema), ref.name) is not only.Reach.TABLE:
            said.append(f"{name}with its children or partitions")
    return f" ({'; '.join(said)})" if said else ""


def dynamic(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    yield manual(
        ManualNeed.DYNAMIC,
        f"{st.kind.removesuffix('Stmt')} at line {st.location.line} runs code the generator "
        "cannot see into; undo its effects by hand",
    )


def select(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    if node.intoClause is not None:  # SELECT ... INTO creates a table
        ref = relation(node.intoClause.rel, ctx.default_schema)
        if node.intoClause.rel.relpersistence == "t":
            yield nothing("a temporary table ends with the session")
            return
        ctx.created_here.add(ref)
        yield drop(ref)
        return
    # set_config('search_path', …): a constant is `SET search_path`; one set at run time
    # leaves where the rollback's unqualified names go unknown.
    schemas = set_config_schemas(node)
    if schemas == (RUN_TIME,):
        yield manual(ManualNeed.UNSUPPORTED, _RUN_TIME_PATH)
        return
    if schemas:
        ctx.default_schema, ctx.search_path = schemas[0], schemas
    calls = platform_calls.plain_calls(node)
    if calls is not None:
        undone = [_undo_call(call, ctx) for call in reversed(calls)]
        if all(u is not None for u in undone):
            yield from (u for u in undone if u is not None)
            return
    if effects.locks_or_reads_only(node, effects.PLATFORM_NOTHING_LASTING):
        yield nothing("a query of functions with no lasting effect changes nothing")
    else:
        yield from dynamic(node, st, ctx)


_RUN_TIME_PATH = (
    "set_config('search_path', …) sets a path not known before it runs: check that each"
    " unqualified name the rollback uses after it is in the schema it names"
)


def _undo_call(call: platform_calls.Call, ctx: Context) -> Inverse | None:
    """The undo of one known platform call; None for a call this table does not know."""
    effect = call.effect
    if effect is None:
        return None
    undo = _CALL_UNDO.get(effect)
    if undo is None:
        return nothing(f"{call.schema or 'pg_catalog'}.{call.name} {effect}: nothing lasting "
                       "to undo")  # fmt: skip
    return undo(call, ctx)


def _previous_job(call: platform_calls.Call, ctx: Context) -> platform_calls.Call | None:
    """The schedule an earlier migration gave the same named job, if there was one."""
    ref = platform_calls.cron_job_ref(call)
    if ref is None or ctx.is_new(ref) or ctx.history is None:
        return None
    definition = ctx.history.definition(ref)
    return platform_calls.job_call(definition.statement.node, ref) if definition else None


def _reschedule(previous: platform_calls.Call, notes: tuple[str, ...] = ()) -> Inverse:
    return Inverse(sql("SELECT {}", SQL(previous.sql())), notes=notes)


def _undo_schedule(call: platform_calls.Call, ctx: Context) -> Inverse | None:
    previous = _previous_job(call, ctx)
    ref = platform_calls.cron_job_ref(call)
    if ref is not None:
        ctx.created_here.add(ref)
    if previous is not None:
        return _reschedule(previous, ("the job's earlier schedule",))
    unschedule = platform_calls.unschedule_sql(call)
    if unschedule is None:
        return manual(ManualNeed.DYNAMIC, "a cron job whose name or schedule is not a literal")
    return Inverse(unschedule)


def _undo_unschedule(call: platform_calls.Call, ctx: Context) -> Inverse | None:
    ref = platform_calls.cron_job_ref(call)
    previous = _previous_job(call, ctx)
    if previous is not None:
        return _reschedule(previous)
    what = f"cron job {ref.name!r}" if ref else "a cron job given by id"
    return manual(ManualNeed.PRIOR_DEFINITION, f"{what} was unscheduled; its schedule and "
                  "command are not known from earlier migrations", ref)  # fmt: skip


def _undo_secret(call: platform_calls.Call, ctx: Context) -> Inverse | None:
    delete = platform_calls.delete_secret_sql(call)
    if delete is None:
        return manual(ManualNeed.DATA_CHANGE, "a vault secret stored without a literal name "
                      "cannot be told apart from others; remove it by hand")  # fmt: skip
    return Inverse(delete)


def _undo_queue(call: platform_calls.Call, ctx: Context) -> Inverse | None:
    drop = platform_calls.queue_sql(call, "drop_queue")
    if drop is None:
        return manual(ManualNeed.DYNAMIC, "a pgmq queue whose name is not a literal")
    return Inverse(drop, notes=("drops the queue: the messages sent to it since are lost",))


def _undo_drop_queue(call: platform_calls.Call, ctx: Context) -> Inverse | None:
    create = platform_calls.queue_sql(call, "create")
    reason = "a pgmq queue was dropped with its messages: restore them from the backup"
    return Inverse(create, ManualItem(ManualNeed.DATA_CHANGE, reason))


# Platform calls with a lasting effect, by effect; any other effect needs no undo.
_CALL_UNDO: dict[
    platform_calls.Effect, Callable[[platform_calls.Call, Context], Inverse | None]
] = {
    platform_calls.Effect.SCHEDULES_JOB: _undo_schedule,
    platform_calls.Effect.UNSCHEDULES_JOB: _undo_unschedule,
    platform_calls.Effect.CREATES_SECRET: _undo_secret,
    platform_calls.Effect.CREATES_QUEUE: _undo_queue,
    platform_calls.Effect.DROPS_QUEUE: _undo_drop_queue,
}
