"""MANUAL fillers: the static plan's MANUAL steps answered from the before-state.

Part of the state-aware rollbacks (see the package's docstring); pure, no database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from pglast.enums.parsenodes import AlterTableType as AT
from pglast.enums.parsenodes import DropBehavior

from migration_rollback.errors import UnsafeOutputError
from migration_rollback.sql import (
    MANUAL_PREFIX,
    NON_TRANSACTIONAL_MARK,
    ManualItem,
    ManualNeed,
    ObjectRef,
    RollbackPlan,
    RollbackStep,
    Statement,
    classify,
    effects,
    platform_calls,
)
from migration_rollback.sql.history import simple_object_ref
from migration_rollback.sql.names import deparse, relation
from migration_rollback.verify.snapshot import Snapshot, SnapshotObject, quote_ident
from migration_rollback.verify.stateful.ddl import Writer, checked
from migration_rollback.verify.stateful.dynamic import DoBlocks, is_do_block, writes_rows
from migration_rollback.verify.stateful.lookups import Unknown, created_if_missing, strings
from migration_rollback.verify.stateful.renamed_aside import table_renamed_aside
from migration_rollback.verify.stateful.renames import column_renames, waits_for_rename


@dataclass(frozen=True)
class Filled:
    """A MANUAL step the before-state answered."""

    location: str
    need: str
    target: str
    statements: tuple[str, ...]
    note: str

    def to_json(self) -> dict[str, Any]:
        return {
            "location": self.location,
            "need": self.need,
            "target": self.target,
            "sql": list(self.statements),
            "note": self.note,
        }


@dataclass(frozen=True)
class StillManual:
    location: str
    need: str
    reason: str

    def __str__(self) -> str:
        return f"{self.location}: {self.need}: {self.reason}"


@dataclass
class StatefulResult:
    """The rollback body with the state-aware SQL in place, and what could not be filled."""

    sql_body: str
    filled: list[Filled] = field(default_factory=list)
    still_manual: list[StillManual] = field(default_factory=list)
    data_loss: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


_RESTORABLE = frozenset({"ViewStmt", "CreateFunctionStmt", "CreateTrigStmt", "AlterPolicyStmt",
                         "CommentStmt"})  # fmt: skip


def _targets(node: Any) -> tuple[ObjectRef, ...]:
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


def _restorable(step: RollbackStep) -> bool:
    """A step that restores an earlier definition the static generator found in history."""
    kind = step.forward.kind
    if kind not in _RESTORABLE:
        return False
    node = step.forward.node
    return kind in ("AlterPolicyStmt", "CommentStmt") or bool(getattr(node, "replace", False))


Filler = Callable[[RollbackStep, Writer], tuple[list[str], str]]


def _fill(step: RollbackStep, gen: Writer) -> tuple[list[str], str]:
    """SQL for a MANUAL step, and what it does; raises Unknown when it cannot."""
    manual = step.manual
    assert manual is not None
    filler = _FILLERS.get(manual.need)
    if filler is None:
        raise Unknown(f"{manual.need} needs a human")
    return filler(step, gen)


def _target(step: RollbackStep, what: str = "object") -> ObjectRef:
    ref = step.manual.target if step.manual is not None else None
    if ref is None:
        raise Unknown(f"no {what} named")
    return ref


_COLUMN_ASPECT = {
    ManualNeed.PRIOR_COLUMN_TYPE: "type",
    ManualNeed.PRIOR_COLUMN_DEFAULT: "default",
    ManualNeed.PRIOR_NOT_NULL: "null",
}


def _fill_column(step: RollbackStep, gen: Writer) -> tuple[list[str], str]:
    assert step.manual is not None
    ref = _target(step, "column")
    what = _COLUMN_ASPECT[step.manual.need]
    sql = gen.restore_column(ref, what, _new_type(step.forward.node, ref.column))
    return sql, (f"restores the {what} of {ref.describe()}" if sql else
                 f"{ref.describe()} did not exist before the migration")  # fmt: skip


def _new_type(node: Any, column: str | None) -> str | None:
    """The type an ALTER TABLE gives a column (what the column holds when the rollback of
    that statement runs)."""
    for cmd in getattr(node, "cmds", None) or ():
        if cmd.subtype == AT.AT_AlterColumnType and cmd.name == column and cmd.def_ is not None:
            return deparse(cmd.def_.typeName)
    return None


def _fill_definition(step: RollbackStep, gen: Writer) -> tuple[list[str], str]:
    forward = step.forward
    if forward.kind == "CommentStmt":
        return _restore_comment(forward.node, gen)
    if forward.kind == "AlterPublicationStmt":
        return _restore_publication(forward.node, gen)
    ref = _target(step)
    obj = gen.find(ref)
    current = gen.find(ref, gen.after) if gen.after is not None else None
    if obj is None and current is None and forward.kind == "AlterFunctionStmt" and gen.after:
        # there after the forward, in neither snapshot: an extension's own function
        return [], f"{ref.describe()} is an extension's: put back from the round trip's diff"
    if obj is None:
        if current is not None:
            return gen.drop(current), f"{ref.describe()} did not exist before: dropped"
        target = _drop_ref(ref)
        return [target], f"{ref.describe()} did not exist before: dropped"
    return gen.create(obj, current=current or obj), f"restores {obj.id} as it was"


def _fill_dropped(step: RollbackStep, gen: Writer) -> tuple[list[str], str]:
    ref = _target(step)
    obj = gen.find(ref)
    was = step.manual.was if step.manual is not None else None
    if obj is None and was is not None and (earlier := gen.find(was)) is not None:
        if earlier.id.kind == "table":
            name = gen.renamed(earlier, ref).id.name
            sql = table_renamed_aside(gen, earlier, name)
            return sql, f"recreates {earlier.id} (renamed aside by this migration) as {name}"
        obj = gen.renamed(earlier, ref)  # renamed by this migration, then dropped
    if obj is None:
        if _if_exists(step.forward.node):
            return [], f"{ref.describe()} did not exist before: IF EXISTS dropped nothing"
        raise Unknown(f"{ref.describe()} is not in the schema before the migration")
    sql = gen.create(obj)
    if not sql:
        return [], f"{obj.id} is already recreated above"
    return sql, f"recreates {obj.id} from its definition before the migration"


def _if_exists(node: Any) -> bool:
    """DROP ... IF EXISTS, ALTER TABLE ... DROP CONSTRAINT/COLUMN IF EXISTS."""
    if getattr(node, "missing_ok", False) and type(node).__name__ == "DropStmt":
        return True
    return any(getattr(cmd, "missing_ok", False) for cmd in getattr(node, "cmds", None) or ())


def _fill_enum(step: RollbackStep, gen: Writer) -> tuple[list[str], str]:
    ref = _target(step, "type")
    sql = gen.enum_without(ref)
    return sql, f"recreates {ref.describe()} without the added value (rewrites its columns)"


def _fill_owner(step: RollbackStep, gen: Writer) -> tuple[list[str], str]:
    ref = _target(step)
    obj = gen.find(ref)
    if obj is None:
        return [], f"{ref.describe()} did not exist before the migration (it goes with it)"
    current = gen.find(ref, gen.after) if gen.after is not None else None
    sql = gen.owner(obj, current) if current is not None else gen.owner_sql(obj)
    return sql, f"gives {obj.id} back to {obj.text('owner')}"


def _fill_replica_identity(step: RollbackStep, gen: Writer) -> tuple[list[str], str]:
    table = gen.find(_target(step, "table"))
    if table is None:
        raise Unknown("the table is not in the schema before the migration")
    return gen.replica_identity(table), f"replica identity of {table.id} as it was"


def _fill_dynamic(step: RollbackStep, gen: Writer) -> tuple[list[str], str]:
    """A query whose calls the shadow knows to be stable or immutable (pg_proc.provolatile):
    PostgreSQL refuses writes inside those, so nothing lasting happened."""
    node = step.forward.node
    if step.forward.kind != "SelectStmt" or not effects.locks_or_reads_only(
        node, _known_read_only(node, gen)
    ):
        raise Unknown("runs code whose effects the shadow cannot tell")
    return [], "calls only stable or immutable functions: nothing lasting to undo"


def _known_read_only(node: Any, gen: Writer) -> set[tuple[str, str]]:
    harmless = set(effects.PLATFORM_NOTHING_LASTING)
    for schema, name in effects.unknown_calls(node):
        candidates = [
            o
            for state in (gen.before, gen.after)
            if state is not None
            for o in state.of_kind("function", "aggregate")
            if o.extra.get("name") == name and o.extra.get("schema") == (schema or "public")
        ]
        if candidates and all(o.get("volatility") in ("stable", "immutable") for o in candidates):
            harmless.add((schema, name))
    return harmless


_FILLERS: dict[ManualNeed, Filler] = {
    ManualNeed.PRIOR_COLUMN_TYPE: _fill_column,
    ManualNeed.PRIOR_COLUMN_DEFAULT: _fill_column,
    ManualNeed.PRIOR_NOT_NULL: _fill_column,
    ManualNeed.PRIOR_DEFINITION: _fill_definition,
    ManualNeed.PRIOR_OWNER: _fill_owner,
    ManualNeed.RECREATE_DROPPED: _fill_dropped,
    ManualNeed.ENUM_VALUE: _fill_enum,
    ManualNeed.DYNAMIC: _fill_dynamic,
    ManualNeed.PRIOR_REPLICA_IDENTITY: _fill_replica_identity,
}


def _gone_with_column(step: RollbackStep, plan: RollbackPlan, gen: Writer) -> str | None:
    """A DROP … IF EXISTS of an index or constraint that an earlier DROP COLUMN of this
    migration took with it: nothing to undo here, it comes back with its column."""
    manual = step.manual
    if manual is None or manual.need != ManualNeed.RECREATE_DROPPED or manual.target is None:
        return None
    obj = gen.find(manual.target)
    if obj is None or obj.parent is None or not _if_exists(step.forward.node):
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


def _dropped_earlier(step: RollbackStep, plan: RollbackPlan) -> bool:
    """The object a CREATE OR REPLACE redefines was dropped earlier in the migration: it made
    it anew (its undo is a DROP; the earlier DROP's undo brings the old one back)."""
    keys = {ref.key for ref in _targets(step.forward.node)}
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
    return (*(_targets(forward.node) or classify(forward).targets), *([simple] if simple else []))


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
    if not _if_exists(step.forward.node):
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
    keys = {ref.key for ref in _targets(step.forward.node)}
    if not keys:
        return None
    made: Statement | None = None
    dropped = False
    for forward in sorted((s.forward for s in plan.steps), key=lambda f: f.index):
        if forward.index >= step.forward.index:
            break
        if forward.kind == "DropStmt" and keys & {r.key for r in classify(forward).targets}:
            made, dropped = None, True
        elif forward.kind == step.forward.kind and keys & {r.key for r in _targets(forward.node)}:
            made = made or forward
    if made is None:
        return None
    new = dropped or all(gen.find(ref) is None for ref in _targets(step.forward.node))
    return made.location.line if new else None


def _needs_no_undo(step: RollbackStep, plan: RollbackPlan, gen: Writer) -> str | None:
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
    return _job_replaced(step, plan)


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


def _table_of(step: RollbackStep, gen: Writer) -> str | None:
    """The table the object a step recreates lives on (its parent in the before-state)."""
    ref = step.manual.target if step.manual is not None else None
    obj = gen.find(ref) if ref is not None else None
    return obj.parent.name if obj is not None and obj.parent is not None else None


def _drop_ref(ref: ObjectRef) -> str:
    args = f"({ref.args})" if ref.args is not None and ref.kind in ("function", "procedure") else ""
    if ref.table:
        table = f"{quote_ident(ref.schema or 'public')}.{quote_ident(ref.table)}"
        return f"DROP {ref.kind.upper()} IF EXISTS {quote_ident(ref.name)} ON {table}"
    return f"DROP {ref.kind.upper()} IF EXISTS {ref.qualified}{args}"


_COMMENT_KIND = {
    "OBJECT_TABLE": "table",
    "OBJECT_VIEW": "view",
    "OBJECT_MATVIEW": "materialized view",
    "OBJECT_SEQUENCE": "sequence",
    "OBJECT_INDEX": "index",
    "OBJECT_TYPE": "type",
    "OBJECT_DOMAIN": "type",
    "OBJECT_SCHEMA": "schema",
    "OBJECT_EXTENSION": "extension",
    "OBJECT_PUBLICATION": "publication",
    "OBJECT_FUNCTION": "function",
    "OBJECT_PROCEDURE": "procedure",
}


def _restore_comment(node: Any, gen: Writer) -> tuple[list[str], str]:
    from pglast.stream import RawStream

    objtype = node.objtype.name
    obj = node.object
    names = [getattr(n, "sval", None) for n in (obj if isinstance(obj, tuple) else ())]
    target: SnapshotObject | None = None
    if objtype == "OBJECT_COLUMN" and names and all(names):
        parts = [str(n) for n in names]
        schema = parts[-3] if len(parts) >= 3 else "public"
        target = gen.find(ObjectRef("column", parts[-2], schema, column=parts[-1]))
    elif objtype in ("OBJECT_FUNCTION", "OBJECT_PROCEDURE"):
        fn = [str(n.sval) for n in obj.objname]
        args = None if obj.args_unspecified else ", ".join(
            RawStream()(t) for t in obj.objargs or ()
        )  # fmt: skip
        schema = fn[-2] if len(fn) >= 2 else "public"
        target = gen.find(ObjectRef(_COMMENT_KIND[objtype], fn[-1], schema, args=args))
    elif objtype in ("OBJECT_TABCONSTRAINT", "OBJECT_POLICY", "OBJECT_TRIGGER") and names:
        parts = [str(n) for n in names if n]
        schema = parts[-3] if len(parts) >= 3 else "public"
        kind = {"OBJECT_TABCONSTRAINT": "constraint", "OBJECT_POLICY": "policy"}.get(
            objtype, "trigger"
        )
        target = gen.find(ObjectRef(kind, parts[-1], schema, table=parts[-2]))
    elif objtype in _COMMENT_KIND:
        if isinstance(obj, tuple):
            parts = [str(n.sval) for n in obj]
        elif hasattr(obj, "names"):
            parts = [str(n.sval) for n in obj.names]
        else:
            parts = [str(getattr(obj, "sval", obj))]
        kind = _COMMENT_KIND[objtype]
        schema = parts[-2] if len(parts) >= 2 else "public"
        target = gen.find(ObjectRef(kind, parts[-1], schema))
    else:
        raise Unknown(f"COMMENT ON {objtype.removeprefix('OBJECT_')} is not restored")
    if target is None:
        return [], "the object did not exist before the migration (it goes with it)"
    text = target.text("comment")
    reset = node.__class__(objtype=node.objtype, object=node.object, comment=text)
    return [str(RawStream()(reset))], f"restores the comment of {target.id}"


def _restore_publication(node: Any, gen: Writer) -> tuple[list[str], str]:
    pub = gen.before.get("publication", quote_ident(str(node.pubname)))
    if pub is None:
        raise Unknown(f"publication {node.pubname} is not in the schema before the migration")
    wanted = [m.id.name.partition(":")[2] for m in gen.before.children(pub.id, "publication table")]
    if wanted:
        return [f"ALTER PUBLICATION {pub.id.name} SET TABLE {', '.join(wanted)}"], (
            f"restores the tables of {pub.id}"
        )
    if gen.after is None:
        raise Unknown("the publication had no tables; which to remove is unknown")
    current = [m.id.name.partition(":")[2] for m in gen.after.children(pub.id, "publication table")]
    if not current:
        return [], f"{pub.id} has no tables, as before"
    return [f"ALTER PUBLICATION {pub.id.name} DROP TABLE {', '.join(current)}"], (
        f"removes the tables added to {pub.id}"
    )


def _recreation(step: RollbackStep, plan: RollbackPlan, gen: Writer) -> RollbackStep:
    """How a DROP is undone: from the shadow's definition, from the text of the CREATE of this
    migration that made it, or not at all (IF EXISTS dropped nothing)."""
    if step.recreates is not None and (
        gen.find(step.recreates) is not None
        or (_if_exists(step.forward.node) and _maker(step.recreates, step, plan) is None)
    ):
        # The shadow's definition, not the text of the migration that first made it: it
        # follows later renames, and it is written once per object (see Writer.created).
        # Not in the shadow, dropped with IF EXISTS: it was gone already, nothing to undo
        # (unless a statement before made it: then its text, what the static step has).
        need = ManualNeed.RECREATE_DROPPED
        manual = ManualItem(need, f"recreate {step.recreates.describe()}", step.recreates)
        step = replace(step, sql=None, notes=(), manual=manual)
    return _recreated_from_its_create(step, plan, gen)


def _in_creation_order(steps: list[RollbackStep], plan: RollbackPlan) -> list[RollbackStep]:
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


def stateful_rollback(
    plan: RollbackPlan,
    before: Snapshot,
    after: Snapshot | None = None,
    *,
    creator: str | None = "postgres",
    state_first: bool = False,
) -> StatefulResult:
    """The plan's rollback body with the MANUAL steps the before-state can answer filled in.

    `before` is the schema before the migration; `after` (optional) the schema after it, which
    lets a restored function or view be replaced in place when its signature allows.
    `state_first`: also replace the static generator's restores of earlier definitions (CREATE
    OR REPLACE of a view/function/trigger, ALTER POLICY, COMMENT) by the before-state's; the
    shadow's state is the ground truth, the earlier migrations' text only a guess of it.
    """
    gen = Writer(before, after, creator)
    do_blocks = DoBlocks(plan, before, after, creator, gen.created)
    result = StatefulResult("")
    out: list[str] = []
    overridden: set[int] = set()
    renames = column_renames(plan)
    for table, blocks in do_blocks.renamed_tables().items():
        renames.setdefault(table, []).extend(blocks)
    deferred: dict[int, list[str]] = {}
    for step in _in_creation_order([_recreation(s, plan, gen) for s in plan.steps], plan):
        mark = len(out)
        if (
            state_first
            and step.sql is not None
            and _restorable(step)
            and not _dropped_earlier(step, plan)
        ):
            if step.forward.index in overridden:
                continue
            overridden.add(step.forward.index)
            targets = _targets(step.forward.node) or classify(step.forward).targets
            step = replace(
                step,
                sql=None,
                notes=(),
                manual=ManualItem(
                    ManualNeed.PRIOR_DEFINITION,
                    f"restore what {step.forward.first_line} replaced",
                    targets[0] if targets else None,
                ),
            )
        if step.sql is None and step.manual is None:
            continue
        no_undo = _needs_no_undo(step, plan, gen)
        if no_undo is not None:
            loc = step.forward.location
            out.append(f"-- undoes {loc.file}:{loc.line}: {step.forward.first_line}")
            out.append(f"-- state-aware: {no_undo}")
            out.append("")
            continue
        loc = step.forward.location
        where = f"{loc.file}:{loc.line}"
        out.append(f"-- undoes {where}: {step.forward.first_line}")
        out.extend(f"-- note: {note}" for note in step.notes)
        if step.sql is not None:
            if not step.transactional:
                out.append(NON_TRANSACTIONAL_MARK)
            out.append(step.sql.rstrip().rstrip(";") + ";")
        if step.manual is not None:
            need = str(step.manual.need)
            try:
                sql, what = do_blocks.fill(step) if is_do_block(step) else _fill(step, gen)
                statements = checked(sql)
            except (Unknown, UnsafeOutputError) as exc:
                result.still_manual.append(
                    StillManual(where, need, f"{step.manual.reason} ({exc})")
                )
                out.extend(
                    f"{MANUAL_PREFIX} {line}".rstrip() for line in step.manual.reason.splitlines()
                )
            else:
                target = step.manual.target.describe() if step.manual.target else need
                result.filled.append(Filled(where, need, target, statements, what))
                out.append(f"-- state-aware ({need}): {what}")
                out.extend(f"{s};" for s in statements)
                if (
                    need in ("RECREATE_DROPPED",)
                    and step.manual.target is not None
                    and (step.manual.target.kind in ("table", "column", "sequence", "schema"))
                ):
                    out.append("-- data loss: the structure is back, the rows are not")
                if is_do_block(step) and writes_rows(step, do_blocks.before):
                    reason = "the DO block writes rows: review the data it changed"
                    result.still_manual.append(StillManual(where, "DATA", reason))
                    out.append(f"{MANUAL_PREFIX} {reason}")
                wait = waits_for_rename(step, _table_of(step, gen), renames)
                if need == "RECREATE_DROPPED" and wait is not None:
                    out.append("-- (after the rename back below: it uses the columns' old names)")
                    deferred.setdefault(wait, []).extend([*out[mark:], ""])
                    del out[mark:]
                    continue
        out.append("")
        out.extend(deferred.pop(step.forward.index, []))
    for lines in deferred.values():
        out.extend(lines)
    result.sql_body = "\n".join(out).rstrip() + "\n"
    result.data_loss = list(dict.fromkeys([*gen.data_loss, *do_blocks.data_loss]))
    result.notes = list(dict.fromkeys(gen.notes))
    return result
