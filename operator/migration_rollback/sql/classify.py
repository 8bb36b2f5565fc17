"""What a single statement does to a live database: locks, transactions, data, manual work.

One table of rules serves forward and rollback statements alike: the generator classifies its
own output by re-parsing it, so the hazards it reports are those of the SQL actually written.
Lock levels follow the PostgreSQL documentation's "Explicit Locking" table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pglast.enums.parsenodes import AlterTableType as AT
from pglast.enums.parsenodes import ConstrType, DropBehavior, ObjectType

from migration_rollback.sql import effects, kinds
from migration_rollback.sql._ast import ast
from migration_rollback.sql.model import Classification, LockLevel, ObjectRef, Statement
from migration_rollback.sql.names import (
    DEFAULT_SCHEMA,
    function_args,
    object_with_args,
    relation,
    split_qualified,
    strings,
)
from migration_rollback.sql.platform_calls import DESTROYING

L = LockLevel

_AT_LOCK: dict[AT, LockLevel] = {
    AT.AT_SetStatistics: L.SHARE_UPDATE_EXCLUSIVE,
    AT.AT_ValidateConstraint: L.SHARE_UPDATE_EXCLUSIVE,
    AT.AT_ClusterOn: L.SHARE_UPDATE_EXCLUSIVE,
    AT.AT_DropCluster: L.SHARE_UPDATE_EXCLUSIVE,
    AT.AT_SetOptions: L.SHARE_UPDATE_EXCLUSIVE,
    AT.AT_ResetOptions: L.SHARE_UPDATE_EXCLUSIVE,
    AT.AT_AttachPartition: L.SHARE_UPDATE_EXCLUSIVE,
    AT.AT_EnableTrig: L.SHARE_ROW_EXCLUSIVE,
    AT.AT_DisableTrig: L.SHARE_ROW_EXCLUSIVE,
    AT.AT_EnableTrigAll: L.SHARE_ROW_EXCLUSIVE,
    AT.AT_DisableTrigAll: L.SHARE_ROW_EXCLUSIVE,
    AT.AT_EnableTrigUser: L.SHARE_ROW_EXCLUSIVE,
    AT.AT_DisableTrigUser: L.SHARE_ROW_EXCLUSIVE,
}

# Subcommands whose inverse needs the state before the migration.
_AT_NEEDS_PRIOR = {
    AT.AT_AlterColumnType,
    AT.AT_ColumnDefault,
    AT.AT_SetNotNull,
    AT.AT_DropNotNull,
    AT.AT_DropColumn,
    AT.AT_DropConstraint,
    AT.AT_ChangeOwner,
    AT.AT_SetStatistics,
    AT.AT_SetOptions,
    AT.AT_ResetOptions,
    AT.AT_ReplicaIdentity,
    AT.AT_SetStorage,
    AT.AT_SetCompression,
    AT.AT_DetachPartition,
    AT.AT_SetExpression,
    AT.AT_DropExpression,
}


def _drop(node: Any) -> Classification:
    """What a DROP costs. CASCADE may take tables and columns that depend on the object (a
    type's columns, a function's generated columns), so it counts as destroying data and
    locking them, whatever the kind."""
    found = kinds.of_type(node.removeType)
    kind = found.name if found else str(node.removeType.name).removeprefix("OBJECT_").lower()
    cascade = node.behavior == DropBehavior.DROP_CASCADE
    notes: list[str] = []
    if cascade:
        notes.append("CASCADE also drops every object that depends on it, silently")
    data_note = found.drop_note() if found else None
    if data_note:
        notes.append(data_note)
    # An extension's own tables go with it without CASCADE (pg_cron's jobs, pgsodium's keys,
    # PostGIS's spatial_ref_sys): PostgreSQL refuses only when objects outside it depend on it.
    extension = kind == "extension"
    if extension:
        notes.append("drops the extension with its own tables, functions and their data")
    targets = tuple(_drop_target(kind, obj) for obj in node.objects or ())
    drop_lock = found.drop_lock if found else L.ACCESS_EXCLUSIVE
    loses_rows = found is not None and found.drop_loses_rows(cascade=False)
    return Classification(
        transactional=not node.concurrent,
        destroys_data=cascade or extension or loses_rows,
        lock=_drop_lock(node.concurrent, cascade, drop_lock),
        needs_manual=True,
        notes=tuple(notes),
        targets=targets,
    )


def _drop_lock(concurrent: bool, cascade: bool, own: LockLevel) -> LockLevel:
    if concurrent:
        return L.SHARE_UPDATE_EXCLUSIVE
    return L.ACCESS_EXCLUSIVE if cascade else own


def _drop_target(kind: str, obj: Any) -> ObjectRef:
    """The dropped object, schema-qualified ("public" when the name is bare)."""
    if isinstance(obj, ast.ObjectWithArgs):
        return object_with_args(obj, DEFAULT_SCHEMA, kind)
    if isinstance(obj, ast.String):
        parts = [str(obj.sval)]
    elif isinstance(obj, ast.TypeName):
        parts = strings(obj.names)
    else:
        parts = strings(obj)
    found = kinds.KINDS.get(kind)
    if found is not None and found.schemaless:
        return ObjectRef(kind=kind, name=parts[-1])
    if found is not None and found.on_table:
        schema, table = split_qualified(parts[:-1], DEFAULT_SCHEMA)
        return ObjectRef(kind=kind, name=parts[-1], schema=schema, table=table)
    schema, name = split_qualified(parts, DEFAULT_SCHEMA)
    return ObjectRef(kind=kind, name=name, schema=schema)


def _alter_table(node: Any) -> Classification:
    if node.objtype == ObjectType.OBJECT_TYPE:
        return _alter_composite_type(node)
    table = relation(node.relation, DEFAULT_SCHEMA)
    targets = [table]
    lock = L.NONE
    destroys = False
    manual = False
    notes: list[str] = []
    for cmd in node.cmds or ():
        sub = cmd.subtype
        cmd_lock = _AT_LOCK.get(sub, L.ACCESS_EXCLUSIVE)
        if sub == AT.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
            if cmd.def_.contype == ConstrType.CONSTR_FOREIGN:
                cmd_lock = L.SHARE_ROW_EXCLUSIVE
                if not cmd.def_.skip_validation:
                    notes.append("validates the foreign key by scanning the table")
            elif cmd.def_.contype in (ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_UNIQUE):
                notes.append("builds an index while holding ACCESS EXCLUSIVE")
        if sub in (AT.AT_DropColumn, AT.AT_AlterColumnType):
            targets.append(ObjectRef("column", table.name, table.schema, column=cmd.name))
        if sub == AT.AT_DropColumn:
            destroys = True
            notes.append(f"drops column {cmd.name} and its values")
        if sub == AT.AT_AlterColumnType:
            notes.append(f"may rewrite the table and lose precision in column {cmd.name}")
        if sub == AT.AT_AddColumn and _has_volatile_default(cmd.def_):
            notes.append("a volatile default rewrites the whole table")
        if sub == AT.AT_SetNotNull:
            notes.append(f"SET NOT NULL scans the table to check {cmd.name}")
        manual = manual or sub in _AT_NEEDS_PRIOR
        lock = max(lock, cmd_lock)
    return Classification(
        lock=lock,
        destroys_data=destroys,
        needs_manual=manual,
        notes=tuple(notes),
        targets=tuple(targets),
    )


def _alter_composite_type(node: Any) -> Classification:
    """ALTER TYPE ... ADD/DROP/ALTER/RENAME ATTRIBUTE, which parses as an ALTER TABLE on the
    composite type's pg_class row: the target is the type, no table (no rows of its own to
    count or copy out). A dropped attribute's values are lost in every column of the type."""
    target = relation(node.relation, DEFAULT_SCHEMA, kind="type")
    notes: list[str] = []
    for cmd in node.cmds or ():
        if cmd.subtype == AT.AT_DropColumn:
            notes.append(
                f"drops attribute {cmd.name} of type {target.name}, and its values in every "
                "column of that type"
            )
    return Classification(
        lock=L.ACCESS_EXCLUSIVE,
        destroys_data=bool(notes),
        needs_manual=any(cmd.subtype in _AT_NEEDS_PRIOR for cmd in node.cmds or ()),
        notes=tuple(notes),
        targets=(target,),
    )


def _has_volatile_default(col: Any) -> bool:
    for constraint in getattr(col, "constraints", None) or ():
        if constraint.contype == ConstrType.CONSTR_DEFAULT:
            text = repr(constraint.raw_expr).lower()
            if any(f in text for f in ("random", "gen_random_uuid", "uuid_generate", "clock_")):
                return True
    return False


def _create_table(node: Any) -> Classification:
    lock = L.NONE
    notes: list[str] = []
    for elt in node.tableElts or ():
        for c in [*(getattr(elt, "constraints", None) or ()), elt]:
            if isinstance(c, ast.Constraint) and c.contype == ConstrType.CONSTR_FOREIGN:
                lock = max(lock, L.SHARE_ROW_EXCLUSIVE)
    if node.partbound is not None:
        lock = max(lock, L.ACCESS_EXCLUSIVE)
        notes.append("attaching a partition locks the parent table")
    return Classification(
        lock=lock, notes=tuple(notes), targets=(relation(node.relation, DEFAULT_SCHEMA),)
    )


def _index(node: Any) -> Classification:
    if node.concurrent:
        return Classification(
            transactional=False,
            lock=L.SHARE_UPDATE_EXCLUSIVE,
            notes=("CONCURRENTLY cannot run inside a transaction block",),
        )
    return Classification(lock=L.SHARE, notes=("blocks writes to the table while it builds",))


def _fixed(
    lock: LockLevel = L.NONE,
    *,
    transactional: bool = True,
    destroys: bool = False,
    manual: bool = False,
    note: str | None = None,
) -> Callable[[Any], Classification]:
    def rule(_node: Any) -> Classification:
        return Classification(
            transactional=transactional,
            destroys_data=destroys,
            lock=lock,
            needs_manual=manual,
            notes=(note,) if note else (),
        )

    return rule


def _replaceable(lock: LockLevel) -> Callable[[Any], Classification]:
    def rule(node: Any) -> Classification:
        replace = bool(getattr(node, "replace", False))
        return Classification(
            lock=lock,
            needs_manual=replace,
            notes=("OR REPLACE: the previous definition is needed to undo it",) if replace else (),
            targets=_defined_object(node),
        )

    return rule


def _defined_object(node: Any) -> tuple[ObjectRef, ...]:
    """The object a CREATE [OR REPLACE] VIEW / FUNCTION / TRIGGER or ALTER POLICY names."""
    if isinstance(node, ast.ViewStmt):
        return (relation(node.view, DEFAULT_SCHEMA, "view"),)
    if isinstance(node, ast.CreateFunctionStmt):
        schema, name = split_qualified(strings(node.funcname), DEFAULT_SCHEMA)
        kind = "procedure" if node.is_procedure else "function"
        return (ObjectRef(kind, name, schema, args=function_args(node.parameters)),)
    if isinstance(node, ast.CreateTrigStmt):
        rel = relation(node.relation, DEFAULT_SCHEMA)
        return (ObjectRef("trigger", str(node.trigname), rel.schema, table=rel.name),)
    if isinstance(node, ast.AlterPolicyStmt | ast.CreatePolicyStmt):
        rel = relation(node.table, DEFAULT_SCHEMA)
        return (ObjectRef("policy", str(node.policy_name), rel.schema, table=rel.name),)
    return ()


def _policy(*, manual: bool) -> Callable[[Any], Classification]:
    def rule(node: Any) -> Classification:
        return Classification(
            lock=L.ACCESS_EXCLUSIVE, needs_manual=manual, targets=_defined_object(node)
        )

    return rule


def _alter_enum(node: Any) -> Classification:
    if node.oldVal:
        return Classification(lock=L.NONE)
    return Classification(
        lock=L.NONE,
        needs_manual=True,
        notes=("an added enum value cannot be removed without recreating the type",),
    )


def _data_change(*, destroys: bool, note: str | None = None) -> Callable[[Any], Classification]:
    def rule(node: Any) -> Classification:
        rels = getattr(node, "relations", None) or (getattr(node, "relation", None),)
        return Classification(
            lock=L.ACCESS_EXCLUSIVE if isinstance(node, ast.TruncateStmt) else L.ROW_EXCLUSIVE,
            destroys_data=destroys,
            needs_manual=destroys,
            notes=(note,) if note else (),
            targets=tuple(relation(r, DEFAULT_SCHEMA) for r in rels if r is not None),
        )

    return rule


def _vacuum(node: Any) -> Classification:
    return Classification(transactional=False, lock=L.SHARE_UPDATE_EXCLUSIVE)


def _reindex(node: Any) -> Classification:
    concurrent = any(getattr(p, "defname", "") == "concurrently" for p in node.params or ())
    return Classification(
        transactional=not concurrent,
        lock=L.SHARE_UPDATE_EXCLUSIVE if concurrent else L.ACCESS_EXCLUSIVE,
    )


def _refresh(node: Any) -> Classification:
    return Classification(lock=L.EXCLUSIVE if node.concurrent else L.ACCESS_EXCLUSIVE)


def _select(node: Any) -> Classification:
    writes = not effects.locks_or_reads_only(node, effects.PLATFORM_NOTHING_LASTING)
    return Classification(
        destroys_data=any(call in DESTROYING for call in effects.calls(node)),
        lock=L.ACCESS_SHARE,
        needs_manual=writes,
        notes=("calls functions that may change state",) if writes else (),
    )


_RULES: dict[type, Callable[[Any], Classification]] = {
    ast.CreateStmt: _create_table,
    ast.IndexStmt: _index,
    ast.DropStmt: _drop,
    ast.AlterTableStmt: _alter_table,
    ast.ViewStmt: _replaceable(L.ACCESS_EXCLUSIVE),
    ast.CreateFunctionStmt: _replaceable(L.NONE),
    ast.CreateTrigStmt: _replaceable(L.SHARE_ROW_EXCLUSIVE),
    ast.CreatePolicyStmt: _policy(manual=False),
    ast.AlterPolicyStmt: _policy(manual=True),
    ast.RenameStmt: _fixed(L.ACCESS_EXCLUSIVE),
    ast.AlterObjectSchemaStmt: _fixed(L.ACCESS_EXCLUSIVE),
    ast.TruncateStmt: _data_change(destroys=True, note="removes every row"),
    ast.DeleteStmt: _data_change(destroys=True),
    ast.UpdateStmt: _data_change(destroys=True, note="overwrites the previous values"),
    ast.InsertStmt: _data_change(destroys=False),
    ast.MergeStmt: _fixed(L.ROW_EXCLUSIVE, destroys=True, manual=True),
    ast.CopyStmt: _fixed(L.ROW_EXCLUSIVE, manual=True),
    ast.DoStmt: _fixed(L.ACCESS_EXCLUSIVE, manual=True, note="DO blocks run arbitrary code"),
    ast.AlterEnumStmt: _alter_enum,
    ast.VacuumStmt: _vacuum,
    ast.ReindexStmt: _reindex,
    ast.RefreshMatViewStmt: _refresh,
    ast.SelectStmt: _select,
    ast.CreatedbStmt: _fixed(transactional=False, manual=True),
    ast.DropdbStmt: _fixed(transactional=False, destroys=True, manual=True),
    ast.AlterSystemStmt: _fixed(transactional=False, manual=True),
    ast.CreateTableSpaceStmt: _fixed(transactional=False, manual=True),
    ast.AlterFunctionStmt: _fixed(manual=True),
    ast.AlterOwnerStmt: _fixed(L.ACCESS_EXCLUSIVE, manual=True),
    ast.AlterSeqStmt: _fixed(L.SHARE_ROW_EXCLUSIVE, manual=True),
    ast.AlterDomainStmt: _fixed(L.SHARE, manual=True),
    ast.AlterRoleStmt: _fixed(manual=True),
    ast.CommentStmt: _fixed(L.SHARE_UPDATE_EXCLUSIVE),
    ast.CreateTableAsStmt: _fixed(L.ACCESS_SHARE),
    ast.ClusterStmt: _fixed(L.ACCESS_EXCLUSIVE, manual=True),
    ast.LockStmt: _fixed(L.ACCESS_EXCLUSIVE),
}

_NO_LOCK_KINDS = (
    ast.CreateSchemaStmt,
    ast.CreateSeqStmt,
    ast.CreateEnumStmt,
    ast.CompositeTypeStmt,
    ast.CreateDomainStmt,
    ast.CreateExtensionStmt,
    ast.CreatePublicationStmt,
    ast.AlterPublicationStmt,
    ast.GrantStmt,
    ast.GrantRoleStmt,
    ast.AlterDefaultPrivilegesStmt,
    ast.VariableSetStmt,
    ast.TransactionStmt,
    ast.CreateRoleStmt,
    ast.RuleStmt,
    ast.CreateEventTrigStmt,
)


_CACHE: dict[int, tuple[Any, Classification]] = {}


def classify(statement: Statement) -> Classification:
    """Classify one statement; anything not known is treated as needing a human (memoized).

    The generator classifies each statement it writes, then `validate` asks again for the
    hazards, the drop order and the later dependents of the same (shared) parse trees.
    """
    node = statement.node
    hit = _CACHE.get(id(node))
    if hit is not None and hit[0] is node:
        return hit[1]
    found = _classify(node, statement.kind)
    if len(_CACHE) > 200_000:
        _CACHE.clear()
    _CACHE[id(node)] = (node, found)
    return found


def _classify(node: Any, kind: str) -> Classification:
    rule = _RULES.get(type(node))
    if rule is not None:
        return rule(node)
    if isinstance(node, _NO_LOCK_KINDS):
        return Classification()
    return Classification(
        lock=L.ACCESS_EXCLUSIVE,
        needs_manual=True,
        notes=(f"{kind} is not understood by the generator",),
    )
