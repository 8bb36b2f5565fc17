"""MANUAL fillers: the static plan's MANUAL steps answered from the before-state.

Part of the state-aware rollbacks (see the package's docstring); pure, no database.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pglast.enums.parsenodes import AlterTableType as AT
from pglast.enums.parsenodes import ObjectType as OT

from migration_rollback.sql import ManualNeed, ObjectRef, RollbackStep, effects, kinds
from migration_rollback.sql.compose import EMPTY, SQL, Identifier, arguments, name_of, sql
from migration_rollback.sql.names import deparse
from migration_rollback.verify.snapshot import KINDS as SNAPSHOT_KINDS
from migration_rollback.verify.snapshot import RELATION_KINDS, SnapshotObject
from migration_rollback.verify.stateful import schema_grants
from migration_rollback.verify.stateful.columns import restore_column
from migration_rollback.verify.stateful.ddl import Writer
from migration_rollback.verify.stateful.lookups import Unknown
from migration_rollback.verify.stateful.renamed_aside import table_renamed_aside
from migration_rollback.verify.stateful.tables import replica_identity

Filler = Callable[[RollbackStep, Writer], tuple[list[str], str]]


def fill(step: RollbackStep, gen: Writer) -> tuple[list[str], str]:
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


# An attribute of an object the migration made (a CREATE ... IF NOT EXISTS the static plan
# could not call new): nothing to set back, the rollback drops the object, and the round trip
# that follows proves it gone (were it left, its difference from the before-state says so).
_GOES_WITH_IT = "{} did not exist before the migration (it goes with it)"


_COLUMN_ASPECT = {
    ManualNeed.PRIOR_COLUMN_TYPE: "type",
    ManualNeed.PRIOR_COLUMN_DEFAULT: "default",
    ManualNeed.PRIOR_NOT_NULL: "null",
}


def _fill_column(step: RollbackStep, gen: Writer) -> tuple[list[str], str]:
    assert step.manual is not None
    ref = _target(step, "column")
    what = _COLUMN_ASPECT[step.manual.need]
    sql = restore_column(gen, ref, what, _new_type(step.forward.node, ref.column))
    if gen.find(ref) is None:
        dropped = ": its default dropped at once" if sql else ""
        return sql, f"{ref.describe()} did not exist before the migration{dropped}"
    return sql, f"restores the {what} of {ref.describe()}"


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
    if _if_not_exists(forward.node):
        return _fill_if_not_exists(ref, obj is not None)
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


def _if_not_exists(node: Any) -> bool:
    """CREATE ... IF NOT EXISTS, ALTER TABLE ... ADD COLUMN IF NOT EXISTS."""
    base = getattr(node, "base", None)  # CREATE FOREIGN TABLE wraps a CREATE TABLE
    if getattr(base if base is not None else node, "if_not_exists", False):
        return True
    cmds = getattr(node, "cmds", None) or ()
    return any(c.subtype == AT.AT_AddColumn and c.missing_ok for c in cmds)


def _fill_if_not_exists(ref: ObjectRef, existed: bool) -> tuple[list[str], str]:
    """There before: IF NOT EXISTS left it as it was, and it stays (with its rows)."""
    if existed:
        return [], f"{ref.describe()} existed before: IF NOT EXISTS left it; kept"
    if ref.kind == "column":
        table = Identifier(ref.schema or "public", ref.name)
        drop = sql("ALTER TABLE {} DROP COLUMN IF EXISTS {}", table, Identifier(ref.column or ""))
        return [drop], f"{ref.describe()} did not exist before: dropped"
    return [_drop_ref(ref)], f"{ref.describe()} did not exist before: dropped"


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
        if if_exists(step.forward.node):
            return [], f"{ref.describe()} did not exist before: IF EXISTS dropped nothing"
        raise Unknown(f"{ref.describe()} is not in the schema before the migration")
    sql = gen.create(obj)
    if not sql:
        return [], f"{obj.id} is already recreated above"
    return sql, f"recreates {obj.id} from its definition before the migration"


def if_exists(node: Any) -> bool:
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
        return [], _GOES_WITH_IT.format(ref.describe())
    current = gen.find(ref, gen.after) if gen.after is not None else None
    sql = gen.owner(obj, current) if current is not None else gen.owner_sql(obj)
    return sql, f"gives {obj.id} back to {obj.text('owner')}"


def _fill_privileges(step: RollbackStep, gen: Writer) -> tuple[list[str], str]:
    if schema_grants.answers(step.forward.node):
        return schema_grants.undo(step.forward.node, gen, gen.after)
    ref = _target(step)
    obj = gen.find(ref)
    if obj is None:
        return [], _GOES_WITH_IT.format(ref.describe())
    current = gen.find(ref, gen.after) if gen.after is not None else None
    return gen.privileges(obj, current), f"privileges of {obj.id} as they were"


def _fill_replica_identity(step: RollbackStep, gen: Writer) -> tuple[list[str], str]:
    ref = _target(step, "table")
    table = gen.find(ref)
    if table is None:
        return [], _GOES_WITH_IT.format(ref.describe())
    return replica_identity(gen, table), f"replica identity of {table.id} as it was"


def _fill_row_security(step: RollbackStep, gen: Writer) -> tuple[list[str], str]:
    """Both switches as they were (one statement may have turned either)."""
    ref = _target(step, "table")
    table = gen.find(ref)
    if table is None:
        return [], _GOES_WITH_IT.format(ref.describe())
    name = table.id.name
    enabled = "ENABLE" if table.get("row security") else "DISABLE"
    forced = "FORCE" if table.get("force row security") else "NO FORCE"
    sql = [
        f"ALTER TABLE {name} {enabled} ROW LEVEL SECURITY",
        f"ALTER TABLE {name} {forced} ROW LEVEL SECURITY",
    ]
    return sql, f"row level security of {table.id} as it was"


def _fill_unsupported(step: RollbackStep, gen: Writer) -> tuple[list[str], str]:
    """An ALTER with no automatic inverse, of an object the migration made (an IF NOT EXISTS
    sequence the static plan could not call new): it goes with the object; of any other, a
    human's step."""
    ref = _target(step)
    if gen.find(ref) is not None:
        raise Unknown(f"{step.forward.kind} needs a human")
    return [], _GOES_WITH_IT.format(ref.describe())


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


# Statements whose DATA_CHANGE item is about the rows of their target table.
_ROW_WRITES = frozenset({"InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt"})


def _fill_rows(step: RollbackStep, gen: Writer) -> tuple[list[str], str]:
    """Rows written into a table the migration made (a CREATE TABLE IF NOT EXISTS the static
    plan could not call new): they go with the table the rollback drops, which the round
    trip proves gone. Rows of any other table are a human's step."""
    ref = _target(step, "table")
    made = gen.after is not None and gen.find(ref, gen.after) is not None
    if step.forward.kind not in _ROW_WRITES or gen.find(ref) is not None or not made:
        raise Unknown(f"{ManualNeed.DATA_CHANGE} needs a human")
    return [], f"rows go with {ref.describe()}, which did not exist before the migration"


_FILLERS: dict[ManualNeed, Filler] = {
    ManualNeed.DATA_CHANGE: _fill_rows,
    ManualNeed.PRIOR_COLUMN_TYPE: _fill_column,
    ManualNeed.PRIOR_COLUMN_DEFAULT: _fill_column,
    ManualNeed.PRIOR_NOT_NULL: _fill_column,
    ManualNeed.PRIOR_DEFINITION: _fill_definition,
    ManualNeed.PRIOR_OWNER: _fill_owner,
    ManualNeed.RECREATE_DROPPED: _fill_dropped,
    ManualNeed.ENUM_VALUE: _fill_enum,
    ManualNeed.DYNAMIC: _fill_dynamic,
    ManualNeed.PRIOR_REPLICA_IDENTITY: _fill_replica_identity,
    ManualNeed.PRIOR_ROW_SECURITY: _fill_row_security,
    ManualNeed.PRIOR_PRIVILEGES: _fill_privileges,
    ManualNeed.UNSUPPORTED: _fill_unsupported,
}


def _drop_ref(ref: ObjectRef) -> str:
    keyword = SQL(ref.kind.upper())
    if ref.table:
        table = Identifier(ref.schema or "public", ref.table)
        return sql("DROP {} IF EXISTS {} ON {}", keyword, Identifier(ref.name), table)
    args = arguments(ref) if ref.kind in ("function", "procedure") else EMPTY
    return sql("DROP {} IF EXISTS {}{}", keyword, name_of(ref), args)


# The kinds the snapshot reads (its relation and routine reads hold several kinds each): a
# COMMENT on any other kind (a server, a role) comes back from the migrations' text, not here.
_READ = frozenset(
    {*(k.label for k in SNAPSHOT_KINDS), *RELATION_KINDS, "procedure", "aggregate", "domain"}
)
_ROUTINES = (OT.OBJECT_FUNCTION, OT.OBJECT_PROCEDURE, OT.OBJECT_AGGREGATE)


def _restore_comment(node: Any, gen: Writer) -> tuple[list[str], str]:
    from pglast.stream import RawStream

    kind = kinds.of_type(node.objtype)
    obj = node.object
    names = [getattr(n, "sval", None) for n in (obj if isinstance(obj, tuple) else ())]
    target: SnapshotObject | None = None
    if kind is None or kind.name not in _READ:
        raise Unknown(f"COMMENT ON {node.objtype.name.removeprefix('OBJECT_')} is not restored")
    if kind.name == "column" and names and all(names):
        parts = [str(n) for n in names]
        schema = parts[-3] if len(parts) >= 3 else "public"
        target = gen.find(ObjectRef("column", parts[-2], schema, column=parts[-1]))
    elif node.objtype in _ROUTINES:
        fn = [str(n.sval) for n in obj.objname]
        args = None if obj.args_unspecified else ", ".join(
            RawStream()(t) for t in obj.objargs or ()
        )  # fmt: skip
        schema = fn[-2] if len(fn) >= 2 else "public"
        target = gen.find(ObjectRef(kind.name, fn[-1], schema, args=args))
    elif kinds.lives_on_a_table(kind.name) and names:
        parts = [str(n) for n in names if n]
        schema = parts[-3] if len(parts) >= 3 else "public"
        target = gen.find(ObjectRef(kind.name, parts[-1], schema, table=parts[-2]))
    else:
        if isinstance(obj, tuple):
            parts = [str(n.sval) for n in obj]
        elif hasattr(obj, "names"):
            parts = [str(n.sval) for n in obj.names]
        else:
            parts = [str(getattr(obj, "sval", obj))]
        schema = parts[-2] if len(parts) >= 2 else "public"
        target = gen.find(ObjectRef(kind.name, parts[-1], schema))
    if target is None:
        return [], "the object did not exist before the migration (it goes with it)"
    text = target.text("comment")
    reset = node.__class__(objtype=node.objtype, object=node.object, comment=text)
    return [str(RawStream()(reset))], f"restores the comment of {target.id}"


def _restore_publication(node: Any, gen: Writer) -> tuple[list[str], str]:
    pub = gen.before.get("publication", Identifier(str(node.pubname)).as_string())
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
