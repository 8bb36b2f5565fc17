"""Inverses for calls into the platform's own functions: pg_cron, Supabase Vault, pg_net...

A migration schedules a cron job or stores a vault secret with a plain `SELECT fn(...)`. The
parser cannot see inside an arbitrary function, but these are known: each maps to an effect,
and each effect to its undo (or to the fact that nothing lasting happened). A SELECT that
calls anything else, or that has a FROM / WHERE deciding whether the call runs, stays a MANUAL
item for a human.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from pglast.enums.parsenodes import A_Expr_Kind

from migration_rollback.sql._ast import ast
from migration_rollback.sql.compose import SQL, Composable, Identifier, Literal, sql
from migration_rollback.sql.model import ObjectRef


class Effect(enum.StrEnum):
    """What a call leaves behind."""

    SCHEDULES_JOB = "schedules a cron job"
    UNSCHEDULES_JOB = "removes a cron job"
    CREATES_SECRET = "stores a vault secret"  # noqa: S105 (a description, not a secret)
    SENDS = "sends a request or a message"
    CONFIGURES_SESSION = "changes a setting of this session"
    CREATES_QUEUE = "creates a pgmq queue (its queue and archive tables)"
    DROPS_QUEUE = "drops a pgmq queue and its messages"


# (schema, function) -> effect; schema "" is how the call reads without a schema.
EFFECTS: Mapping[tuple[str, str], Effect] = MappingProxyType(
    {
        ("cron", "schedule"): Effect.SCHEDULES_JOB,
        ("cron", "schedule_in_database"): Effect.SCHEDULES_JOB,
        ("cron", "unschedule"): Effect.UNSCHEDULES_JOB,
        ("vault", "create_secret"): Effect.CREATES_SECRET,
        ("pgmq", "create"): Effect.CREATES_QUEUE,
        ("pgmq", "create_unlogged"): Effect.CREATES_QUEUE,
        ("pgmq", "drop_queue"): Effect.DROPS_QUEUE,
        ("net", "http_get"): Effect.SENDS,
        ("net", "http_post"): Effect.SENDS,
        ("net", "http_delete"): Effect.SENDS,
        ("realtime", "send"): Effect.SENDS,
        ("", "pg_notify"): Effect.SENDS,
        ("pg_catalog", "pg_notify"): Effect.SENDS,
        ("", "set_config"): Effect.CONFIGURES_SESSION,
        ("pg_catalog", "set_config"): Effect.CONFIGURES_SESSION,
    }
)

# Where each call keeps the job name / secret name: (position, named-argument name).
_JOB_NAME = (0, "job_name")
_SECRET_NAME = (1, "new_name")
_QUEUE_NAME = (0, "queue_name")
# Calls whose effect loses rows (a queue's messages): a rollback running one destroys data.
DESTROYING = frozenset(call for call, effect in EFFECTS.items() if effect is Effect.DROPS_QUEUE)


@dataclass(frozen=True, slots=True)
class Call:
    """One function call of a SELECT list, with its string-literal arguments (None where an
    argument is not a string literal)."""

    schema: str
    name: str
    args: tuple[str | None, ...]
    named: Mapping[str, str | None]

    @property
    def effect(self) -> Effect | None:
        return EFFECTS.get((self.schema, self.name))

    def arg(self, where: tuple[int, str]) -> str | None:
        position, name = where
        if name in self.named:
            return self.named[name]
        return self.args[position] if position < len(self.args) else None

    def sql(self) -> str:
        """The call again, as SQL (string arguments only: it is rebuilt from literals)."""
        args: list[Composable] = [Literal(a) for a in self.args if a is not None]
        named = [(k, v) for k, v in self.named.items() if v]
        args += [SQL("{} => {}").format(Identifier(k), Literal(v)) for k, v in named]
        return sql("{}({})", Identifier(self.schema, self.name), SQL(", ").join(args))


def plain_calls(node: Any) -> list[Call] | None:
    """The calls of `SELECT f(...), g(...)` with nothing deciding whether they run; None for
    any other SELECT (one with FROM, WHERE, a sub-select, or something that is not a call)."""
    if not isinstance(node, ast.SelectStmt) or _has_clauses(node):
        return None
    calls = []
    for target in node.targetList or ():
        value = getattr(target, "val", None)
        if not isinstance(value, ast.FuncCall):
            return None
        calls.append(_call(value))
    return calls or None


def guarded_call(node: Any) -> Call | None:
    """The one call of a SELECT that runs it or not: `SELECT f(...) WHERE <condition>` (no
    FROM), or pg_cron's lookup spelling `SELECT cron.unschedule(jobid) FROM cron.job WHERE
    jobname = 'x'` (jobname or jobid, any alias), read as `cron.unschedule('x')`."""
    if not isinstance(node, ast.SelectStmt) or node.whereClause is None:
        return None
    targets = list(node.targetList or ())
    value = getattr(targets[0], "val", None) if len(targets) == 1 else None
    if not isinstance(value, ast.FuncCall):
        return None
    if node.fromClause:
        return _unschedule_by_lookup(node, _call(value))
    return _call(value)


def _unschedule_by_lookup(node: Any, call: Call) -> Call | None:
    """`cron.unschedule(<job column>) FROM cron.job WHERE jobname = '<name>'` as the call
    unscheduling that name; None for any other FROM, argument or condition."""
    if call.effect is not Effect.UNSCHEDULES_JOB or call.args != (None,) or call.named:
        return None
    (arg,) = node.targetList[0].val.args
    (source,) = node.fromClause if len(node.fromClause) == 1 else (None,)
    if not (_is_cron_job(source) and _column(arg) in _JOB_KEYS) or _has_more(node):
        return None
    name = _job_name_equals(node.whereClause)
    return Call(call.schema, call.name, (name,), MappingProxyType({})) if name else None


# cron.job's columns that cron.unschedule takes: the job's id, or its name.
_JOB_KEYS = frozenset({"jobid", "jobname"})


def _is_cron_job(source: Any) -> bool:
    return (
        isinstance(source, ast.RangeVar) and source.schemaname == "cron" and source.relname == "job"
    )


def _column(node: Any) -> str | None:
    """The column a (possibly alias-qualified) column reference names."""
    if not isinstance(node, ast.ColumnRef):
        return None
    last = node.fields[-1]
    return str(last.sval) if isinstance(last, ast.String) else None


def _job_name_equals(where: Any) -> str | None:
    """'x' of `jobname = 'x'` (either side)."""
    if not isinstance(where, ast.A_Expr) or where.kind != A_Expr_Kind.AEXPR_OP:
        return None
    if [n.sval for n in where.name] != ["="]:
        return None
    for column, value in ((where.lexpr, where.rexpr), (where.rexpr, where.lexpr)):
        if _column(column) == "jobname" and (name := _string(value)) is not None:
            return name
    return None


def _has_more(node: Any) -> bool:
    clauses = ("groupClause", "havingClause", "valuesLists", "withClause", "limitCount")
    return any(getattr(node, c, None) for c in clauses) or bool(getattr(node, "op", 0))


def _has_clauses(node: Any) -> bool:
    clauses = ("fromClause", "whereClause", "groupClause", "havingClause", "valuesLists")
    return any(getattr(node, c, None) for c in clauses) or bool(getattr(node, "op", 0))


def _call(node: Any) -> Call:
    names = [n.sval for n in node.funcname]
    schema, name = (names[0], names[-1]) if len(names) > 1 else ("", names[0])
    args: list[str | None] = []
    named: dict[str, str | None] = {}
    for arg in node.args or ():
        if isinstance(arg, ast.NamedArgExpr):
            named[str(arg.name)] = _string(arg.arg)
        else:
            args.append(_string(arg))
    return Call(schema, name, tuple(args), MappingProxyType(named))


def _string(node: Any) -> str | None:
    if isinstance(node, ast.TypeCast):
        node = node.arg
    if isinstance(node, ast.A_Const) and isinstance(node.val, ast.String):
        return str(node.val.sval)
    return None


def cron_job_ref(call: Call) -> ObjectRef | None:
    """The cron job a call schedules or removes, by name; None for an unnamed job."""
    if call.effect not in (Effect.SCHEDULES_JOB, Effect.UNSCHEDULES_JOB):
        return None
    if call.effect is Effect.SCHEDULES_JOB and len(call.args) + len(call.named) < 3:
        return None  # cron.schedule(schedule, command): the two-argument form has no name
    name = call.arg(_JOB_NAME)
    return ObjectRef("cron job", name, "cron") if name else None


def unschedule_sql(call: Call) -> str | None:
    """Remove what the call scheduled, and only that; no error when it is already gone."""
    ref = cron_job_ref(call)
    if ref is not None:
        where = SQL("jobname = {}").format(Literal(ref.name))
    elif len(call.args) == 2 and None not in call.args:
        schedule, command = (str(a) for a in call.args)
        where = SQL("schedule = {} AND command = {}").format(Literal(schedule), Literal(command))
    else:
        return None
    return sql("SELECT cron.unschedule(jobid) FROM cron.job WHERE {}", where)


def delete_secret_sql(call: Call) -> str | None:
    name = call.arg(_SECRET_NAME)
    if name is None:
        return None
    return sql("DELETE FROM vault.secrets WHERE name = {}", Literal(name))


def queue_sql(call: Call, function: str) -> str | None:
    """`SELECT pgmq.<function>('<the call's queue>')`; None when the name is not a literal."""
    name = call.arg(_QUEUE_NAME)
    if name is None:
        return None
    return sql("SELECT pgmq.{}({})", Identifier(function), Literal(name))


def job_call(node: Any, ref: ObjectRef) -> Call | None:
    """The call in a statement that scheduled the job `ref` (to schedule it again)."""
    for call in plain_calls(node) or ():
        if call.effect is Effect.SCHEDULES_JOB and cron_job_ref(call) == ref:
            return call
    return None
