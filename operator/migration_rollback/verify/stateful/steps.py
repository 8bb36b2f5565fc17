"""How each step of the static plan is taken over: undone by nothing (its object went with
another, or was made earlier in the migration), by the text of the CREATE of this migration that
made it, or by the before-state's definition instead of an earlier migration's text.

Part of the state-aware rollbacks (see the package's docstring); pure, no database.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pglast.enums.parsenodes import AlterTableType as AT
from pglast.enums.parsenodes import DropBehavior

from migration_rollback.sql import (
    ManualItem,
    ManualNeed,
    ObjectRef,
    RollbackPlan,
    RollbackStep,
    Statement,
    classify,
    platform_calls,
)
from migration_rollback.sql.created import simple_object_ref
from migration_rollback.sql.names import relation
from migration_rollback.verify.stateful.cascaded import taken_by_cascade
from migration_rollback.verify.stateful.ddl import Writer
from migration_rollback.verify.stateful.fill import if_exists
from migration_rollback.verify.stateful.lookups import created_if_missing, strings

_RESTORABLE = frozenset({"ViewStmt", "CreateFunctionStmt", "CreateTrigStmt", "AlterPolicyStmt",
                         "CommentStmt"})  # fmt: skip


def redefined_targets(node: Any) -> tuple[ObjectRef, ...]:
    """The object a CREATE OR REPLACE / ALTER POLICY statement redefines."""
    from migration_rollback.sql.names import function_args

    kind = type(node).__name__
    if kind == "ViewStmt":
        rv = node.view
        return (ObjectRef("view", str(rv.relname), rv.schemaname or "public"),)
    if kind == "CreateFunctionStmt":
        parts = [str(n.sval) for n in node.funcname]
        schema = parts[-2] if len(parts) >= 2 else "public"
        what = "procedure" if node.is_procedure else "function"
        return (ObjectRef(what, parts[-1], schema, args=function_args(node.parameters)),)
    if kind == "CreateTrigStmt":
        rv = node.relation
        schema = rv.schemaname or "public"
        return (ObjectRef("trigger", str(node.trigname), schema, table=str(rv.relname)),)
    if kind == "AlterPolicyStmt":
        rv = node.table
        schema = rv.schemaname or "public"
        return (ObjectRef("policy", str(node.policy_name), schema, table=str(rv.relname)),)
    return ()


def restorable(step: RollbackStep) -> bool:
    """A step that restores an earlier definition the static generator found in history."""
    kind = step.forward.kind
    if kind not in _RESTORABLE:
        return False
    node = step.forward.node
    return kind in ("AlterPolicyStmt", "CommentStmt") or bool(getattr(node, "replace", False))


def _gone_with_column(step: RollbackStep, plan: RollbackPlan, gen: Writer) -> str | None:
    """A DROP … IF EXISTS of an index or constraint that an earlier DROP COLUMN of this
    migration took with it: nothing to undo here, it comes back with its column."""
    manual = step.manual
    if manual is None or manual.need != ManualNeed.RECREATE_DROPPED or manual.target is None:
        return None
    obj = gen.find(manual.target)
    if obj is None or obj.parent is None or not if_exists(step.forward.node):
        return None
    numbers = set(strings(obj.extra.get("column numbers")))
    for other in plan.steps:
        if other.forward.kind != "AlterTableStmt" or other.forward.index >= step.forward.index:
            continue
        node = other.forward.node
        table = relation(node.relation, "public")
        for cmd in node.cmds or ():
            if cmd.subtype != AT.AT_DropColumn:
                continue
            col = gen.find(ObjectRef("column", table.name, table.schema, column=str(cmd.name)))
            if col is not None and col.parent == obj.parent and col.extra_text("attnum") in numbers:
                return f"{obj.id} went with {col.id}, dropped above; it comes back with it"
    return None


def dropped_earlier(step: RollbackStep, plan: RollbackPlan) -> bool:
    """The object a CREATE OR REPLACE redefines was dropped earlier in the migration: it made
    it anew (its undo is a DROP; the earlier DROP's undo brings the old one back)."""
    keys = {ref.key for ref in redefined_targets(step.forward.node)}
    return any(
        other.forward.kind == "DropStmt"
        and other.forward.index < step.forward.index
        and keys & {ref.key for ref in classify(other.forward).targets}
        for other in plan.steps
    )


def _maker(ref: ObjectRef, step: RollbackStep, plan: RollbackPlan) -> Statement | None:
    """The last CREATE earlier in this migration that made the object a later step drops."""
    made = [
        other.forward
        for other in plan.steps
        if other.forward.index < step.forward.index
        and other.forward.kind.startswith(("Create", "View", "Index"))
        and ref.key in {r.key for r in _made_by(other.forward)}
    ]
    return max(made, key=lambda f: f.index) if made else None


def _made_by(forward: Statement) -> tuple[ObjectRef, ...]:
    kind = "domain" if forward.kind == "CreateDomainStmt" else "type"
    simple = simple_object_ref(kind, forward.node, "public")
    return (
        *(redefined_targets(forward.node) or classify(forward).targets),
        *([simple] if simple else []),
    )


# What is recreated from the text of the CREATE that made it earlier in the migration, when a
# later DROP of it is undone (no rows lost: tables and sequences stay the before-state's).
_FROM_ITS_CREATE = frozenset(
    {"function", "procedure", "view", "trigger", "policy", "type", "domain"}
)


def _recreated_from_its_create(step: RollbackStep, plan: RollbackPlan, gen: Writer) -> RollbackStep:
    """A DROP of what this migration made (the before-state lacks it): undone by that CREATE's
    text, so that the undos of what came between (GRANT, COMMENT…) find it."""
    manual = step.manual
    if manual is None or manual.need != ManualNeed.RECREATE_DROPPED or manual.target is None:
        return step
    target = manual.target
    if target.kind not in _FROM_ITS_CREATE or gen.find(target) is not None:
        return step
    made = _maker(target, step, plan)
    if made is None or _gone_between(made, step, target, plan):
        return step  # IF EXISTS then dropped nothing: its own undo is elsewhere or none
    note = f"recreates {target.describe()} as line {made.location.line} of this migration made it"
    return replace(step, sql=made.text, manual=None, notes=(note,))


# What a DROP … CASCADE can take along with it, by the statement that made the object: an
# enum or a composite type depends on nothing but its schema (a composite loses only the
# attribute of a dropped type), a domain on its base type, a function (without a SQL-standard
# body) on the types of its signature. Anything else (views, triggers, policies, ranges, atomic
# bodies) may depend on almost anything. Keyed by node type; the names it depends on come from
# the node where the kinds are not enough.
_ALWAYS = frozenset({"schema", "extension"})
_TYPES = frozenset({"type", "domain", "table", "view", "materialized view", "foreign table"})
_CASCADE_REACHES_FROM: dict[str, frozenset[str]] = {
    "CreateEnumStmt": _ALWAYS,
    "CompositeTypeStmt": _ALWAYS,
    "CreateDomainStmt": _ALWAYS | _TYPES,
    "CreateFunctionStmt": _ALWAYS | _TYPES,
}


def _type_names(node: Any) -> set[str] | None:
    """The names of the types a domain or a function's signature uses (None: not known)."""
    kind = type(node).__name__
    if kind == "CreateDomainStmt":
        types = [node.typeName]
    elif kind == "CreateFunctionStmt" and node.sql_body is None:
        types = [p.argType for p in node.parameters or ()] + [node.returnType]
    else:
        return None if kind in ("CreateDomainStmt", "CreateFunctionStmt") else set()
    return {str(t.names[-1].sval) for t in types if t is not None}


def _can_take(made: Statement, dropped: tuple[ObjectRef, ...]) -> bool:
    """Whether a DROP … CASCADE of these objects can take along what a CREATE made."""
    reach = _CASCADE_REACHES_FROM.get(made.kind)
    names = _type_names(made.node)
    if reach is None or names is None:
        return True
    return any(ref.kind in _ALWAYS or (ref.kind in reach and ref.name in names) for ref in dropped)


def _gone_between(
    made: Statement, step: RollbackStep, target: ObjectRef, plan: RollbackPlan
) -> bool:
    """Whether what a CREATE made may be gone before a later DROP … IF EXISTS of it: dropped
    by a statement between (whose undo brings it back), or taken by a DROP … CASCADE between
    that can reach it (what it took is not known without the state at that point)."""
    if not if_exists(step.forward.node):
        return False
    key = target.key
    for other in plan.steps:
        forward = other.forward
        if not made.index < forward.index < step.forward.index or forward.kind != "DropStmt":
            continue
        dropped = classify(forward).targets
        if key in {ref.key for ref in dropped}:
            return True
        cascade = getattr(forward.node, "behavior", None) == DropBehavior.DROP_CASCADE
        if cascade and _can_take(made, dropped):
            return True
    return False


def _made_earlier(step: RollbackStep, plan: RollbackPlan, gen: Writer) -> int | None:
    """The line of the CREATE in this migration that made anew what a later CREATE OR REPLACE
    redefines (the before-state lacks it, or a DROP came first): the replace needs no undo,
    the function, view or trigger goes with that CREATE's undo, after what uses it (a DROP
    at the replace's place would come before)."""
    if step.forward.kind not in ("ViewStmt", "CreateFunctionStmt", "CreateTrigStmt"):
        return None
    keys = {ref.key for ref in redefined_targets(step.forward.node)}
    if not keys:
        return None
    made: Statement | None = None
    dropped = False
    for forward in sorted((s.forward for s in plan.steps), key=lambda f: f.index):
        if forward.index >= step.forward.index:
            break
        if forward.kind == "DropStmt" and keys & {r.key for r in classify(forward).targets}:
            made, dropped = None, True
        elif forward.kind == step.forward.kind and keys & {
            r.key for r in redefined_targets(forward.node)
        }:
            made = made or forward
    if made is None:
        return None
    new = dropped or all(gen.find(ref) is None for ref in redefined_targets(step.forward.node))
    return made.location.line if new else None


def needs_no_undo(step: RollbackStep, plan: RollbackPlan, gen: Writer) -> str | None:
    """Why this step needs no undo of its own (None: it does)."""
    gone_with = _gone_with_column(step, plan, gen)
    if gone_with is not None:
        return gone_with
    existed = created_if_missing(step.forward.node)
    if existed is not None and _kept(existed, gen):
        return f"{existed.describe()} existed before: IF NOT EXISTS did nothing"
    made = _made_earlier(step, plan, gen)
    if made is not None:
        return f"made anew by line {made} (the undo of that drops it)"
    return taken_by_cascade(step, plan, gen) or _job_replaced(step, plan)


def _job_replaced(step: RollbackStep, plan: RollbackPlan) -> str | None:
    """`SELECT cron.unschedule('job') WHERE EXISTS (…)` before a `cron.schedule('job', …)` of
    this migration: the pair replaces the job, and the schedule's undo puts back what was
    there before (the earlier migrations' schedule, or none)."""
    call = platform_calls.guarded_call(step.forward.node)
    if call is None or call.effect is not platform_calls.Effect.UNSCHEDULES_JOB:
        return None
    ref = platform_calls.cron_job_ref(call)
    lines = [
        other.forward.location.line
        for other in plan.steps
        if other.forward.index > step.forward.index
        for later in platform_calls.plain_calls(other.forward.node) or ()
        if later.effect is platform_calls.Effect.SCHEDULES_JOB
        and ref is not None
        and platform_calls.cron_job_ref(later) == ref
    ]
    if ref is None or not lines:
        return None
    return f"{ref.describe()} is replaced by line {min(lines)}, whose undo restores it"


def _kept(ref: ObjectRef, gen: Writer) -> bool:
    """The object was there before and is the same catalog row after (not renamed away or
    dropped and then made again under its name)."""
    was = gen.find(ref)
    now = gen.find(ref, gen.after) if gen.after is not None else was
    return was is not None and now is not None and (not was.ref or was.ref == now.ref)


def recreation(step: RollbackStep, plan: RollbackPlan, gen: Writer) -> RollbackStep:
    """How a DROP is undone: from the shadow's definition, from the text of the CREATE of this
    migration that made it, or not at all (IF EXISTS dropped nothing)."""
    if step.recreates is not None and (
        gen.find(step.recreates) is not None
        or (if_exists(step.forward.node) and _maker(step.recreates, step, plan) is None)
    ):
        # The shadow's definition, not the text of the migration that first made it: it
        # follows later renames, and it is written once per object (see Writer.created).
        # Not in the shadow, dropped with IF EXISTS: it was gone already, nothing to undo
        # (unless a statement before made it: then its text, what the static step has).
        need = ManualNeed.RECREATE_DROPPED
        manual = ManualItem(need, f"recreate {step.recreates.describe()}", step.recreates)
        step = replace(step, sql=None, notes=(), manual=manual)
    return _recreated_from_its_create(step, plan, gen)


def in_creation_order(steps: list[RollbackStep], plan: RollbackPlan) -> list[RollbackStep]:
    """Adjacent undos of DROPs that recreate objects from the CREATEs of this migration, put
    in the order of those CREATEs: a run of drops (CASCADE, or SQL bodies that record no
    dependency) need not have dropped dependents first, so its reverse may recreate a view or
    SQL function before what it uses; the CREATEs' own order had them right."""
    out: list[RollbackStep] = []
    run: list[tuple[int, RollbackStep]] = []
    for step in [*steps, None]:
        made = _maker_line(step, plan) if step is not None else None
        if made is not None and step is not None:
            run.append((made, step))
            continue
        out.extend(s for _, s in sorted(run, key=lambda pair: pair[0]))
        run = []
        if step is not None:
            out.append(step)
    return out


def _maker_line(step: RollbackStep, plan: RollbackPlan) -> int | None:
    """The index of the CREATE whose text undoes this DROP, if that is how it is undone."""
    if step.forward.kind != "DropStmt" or step.manual is not None or step.sql is None:
        return None
    for ref in classify(step.forward).targets:
        made = _maker(ref, step, plan)
        if made is not None and made.text == step.sql:
            return made.index
    return None
