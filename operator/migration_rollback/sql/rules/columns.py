"""Column subcommands of ALTER TABLE: add, drop, type, default, nullability.

Each restores the column as it was before this statement: as this migration's earlier
statements left it, else as earlier migrations did (`ColumnMoment` over `ColumnState`).
What neither tells is a MANUAL item of the need that names the missing piece.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pglast.enums.parsenodes import AlterTableType as AT
from pglast.enums.parsenodes import DropBehavior

from migration_rollback.sql import casts
from migration_rollback.sql._ast import ast
from migration_rollback.sql.compose import EMPTY, SQL
from migration_rollback.sql.created import ColumnState
from migration_rollback.sql.model import Leaves, ManualNeed, ObjectRef
from migration_rollback.sql.names import deparse, strings
from migration_rollback.sql.rules import dependents
from migration_rollback.sql.rules.context import (
    UNKNOWN,
    Inverse,
    Subcommand,
    by_hand,
    manual,
    nothing,
)
from migration_rollback.sql.rules.create import changed_nothing, may_have_existed
from migration_rollback.sql.rules.search_path import lookup
from migration_rollback.sql.touched import walk

_NEW_HERE = "the table or column is new in this migration"


def add_column(sub: Subcommand) -> Iterator[Inverse]:
    if not isinstance(sub.cmd.def_, ast.ColumnDef):
        yield from by_hand(sub)
        return
    name = str(sub.cmd.def_.colname)
    history = sub.ctx.history
    existing = history.column(sub.schema, sub.rel.name, name) if history else None
    ref = ObjectRef("column", sub.rel.name, sub.schema, column=name)
    if sub.cmd.missing_ok and existing is not None:
        yield nothing(changed_nothing(ref))
        return
    if (
        sub.cmd.missing_ok
        and history
        and name in history.doubted_columns.get((sub.schema, sub.rel.name), ())
    ):
        yield manual(ManualNeed.PRIOR_DEFINITION, _doubted(ref), ref, Leaves.EXISTENCE)
        return
    notes: tuple[str, ...] = (f"values written to column {name} since the migration are lost",)
    dropped = sub.undo(AT.AT_DropColumn, name, notes)
    if sub.cmd.missing_ok and not sub.table_is_new and not (history and history.knows(sub.rel)):
        # a table made elsewhere (the dashboard) may have had the column, with its values
        reason = may_have_existed(ref, dropped.sql)
        yield manual(ManualNeed.PRIOR_DEFINITION, reason, ref, Leaves.EXISTENCE)
        return
    sub.ctx.created_here.add(ref)
    yield dropped


def _doubted(ref: ObjectRef) -> str:
    return (
        f"IF NOT EXISTS: an earlier migration made {ref.describe()}, a later plain CREATE "
        f"TABLE {ref.qualified} without it (which fails where the table exists): drop the "
        "column only if it did not exist before this migration"
    )


def drop_column(sub: Subcommand) -> Iterator[Inverse]:
    """The column again as it was; its values only a backup brings back (unless computed)."""
    state = sub.state
    if state is not None and state.unsure is not None:
        yield manual(
            ManualNeed.RECREATE_DROPPED,
            f"column {sub.cmd.name} of {sub.rel.qualified} was dropped with its values; its "
            f"type, default or expression as written earlier names what was changed since "
            f"({state.unsure.what}): recreate it under today's names and restore the values "
            "from a backup",
            sub.column_ref,
        )
    elif state is None:
        yield manual(
            ManualNeed.RECREATE_DROPPED,
            f"column {sub.cmd.name} of {sub.rel.qualified} was dropped with its values; "
            "recreate it and restore the values from a backup",
            sub.column_ref,
        )
        yield from dependents.cascade_unknown(
            sub.schema, sub.rel.name, str(sub.cmd.name), cascade=_cascade(sub)
        )
    elif state.generated is not None:
        yield _generated_back(sub, state, state.generated)
        yield from dependents.after_drop_column(
            sub.schema, sub.rel.name, str(sub.cmd.name), sub.ctx, cascade=_cascade(sub)
        )
    else:
        yield from _column_back(sub, state)
        yield from dependents.after_drop_column(
            sub.schema, sub.rel.name, str(sub.cmd.name), sub.ctx, cascade=_cascade(sub)
        )


def _cascade(sub: Subcommand) -> bool:
    return bool(sub.cmd.behavior == DropBehavior.DROP_CASCADE)


def _generated_back(sub: Subcommand, state: ColumnState, expression: str) -> Inverse:
    """Its values are computed from the row: re-adding the expression brings them back."""
    not_null = SQL(" NOT NULL") if state.not_null else EMPTY
    return Inverse(
        sub.statement("ADD COLUMN IF NOT EXISTS {} {} GENERATED ALWAYS AS ({}) STORED{}",
                      sub.column, SQL(state.type), SQL(expression), not_null),
        notes=(f"recreates generated column {sub.cmd.name}; its values are computed again",),
    )  # fmt: skip


def _column_back(sub: Subcommand, state: ColumnState) -> Iterator[Inverse]:
    name, column = str(sub.cmd.name), sub.column
    default = SQL(" DEFAULT {}").format(SQL(state.default)) if state.default else EMPTY
    if state.identity is not None:  # numbered again from its start; NOT NULL with it
        default = SQL(" {}").format(SQL(deparse(state.identity)))
    yield Inverse(
        sub.statement(
            "ADD COLUMN IF NOT EXISTS {} {}{}{}",
            column,
            SQL(state.type),
            SQL(state.collate),
            default,
        ),
        notes=(f"recreates column {name} (structure only: its values are gone)",),
    )
    then = " and then SET NOT NULL" if state.not_null and state.identity is None else ""
    yield manual(
        ManualNeed.RECREATE_DROPPED,
        f"the values of {sub.rel.qualified}.{name} were dropped by the migration: restore "
        "them from a backup" + then,
        sub.column_ref,
        Leaves.VALUES,
    )


def alter_type(sub: Subcommand) -> Iterator[Inverse]:
    moment, state, cmd = sub.moment(), sub.state, sub.cmd
    new_type = deparse(cmd.def_.typeName) if isinstance(cmd.def_, ast.ColumnDef) else None
    prior = moment.type_before(state)
    if (
        sub.table_is_new
        and isinstance(cmd.def_, ast.ColumnDef)
        and _made_here(sub, "type", cmd.def_.typeName.names)
    ):
        # The rollback drops that type (enum, domain...) before the table: the column lets go
        # of it first (its values go with the table all the same).
        yield sub.undo(AT.AT_DropColumn, str(cmd.name), (f"{_NEW_HERE}; its new type goes first",))
    elif sub.table_is_new:
        yield nothing(_NEW_HERE)
    elif prior is not None:
        yield from _type_back(sub, new_type, sub.ctx.type_now(prior), moment.default_before(state))
    else:
        yield manual(
            ManualNeed.PRIOR_COLUMN_TYPE,
            f"column {cmd.name} of {sub.rel.qualified} changed type; restore the previous type "
            "(ALTER COLUMN ... TYPE <old> USING ...); values that do not fit are lost"
            + _changed_since(state),
            sub.column_ref,
        )
    if isinstance(cmd.def_, ast.ColumnDef):
        # Bound where the path finds it: an earlier undo writes it again without the path.
        moment.type_node = lookup(sub.ctx).qualified_expression(cmd.def_.typeName)


def _type_back(
    sub: Subcommand, new_type: str | None, prior: str, prior_default: object
) -> Iterator[Inverse]:
    """Back to the previous type, each default fitting the type it is set under: the default
    the column had then is set again after the change (ALTER TYPE converts the current one,
    which may not convert back)."""
    with_default = isinstance(prior_default, str)
    note = f"previous type {prior}; rewrites the table"
    column = sub.column
    if with_default:
        yield sub.undo(AT.AT_ColumnDefault, str(sub.cmd.name), (note,))
    expression = casts.cast_back(column, new_type, prior)
    yield Inverse(
        sub.statement("ALTER COLUMN {} TYPE {} USING {}", column, SQL(prior), expression),
        notes=() if with_default else (note,),
    )
    if isinstance(prior_default, str):
        yield Inverse(sub.statement("ALTER COLUMN {} SET DEFAULT {}", column, SQL(prior_default)))


def _takes_from_sequence(default: Any) -> bool:
    """Whether a column default is `nextval(…)` (a serial column written out, as pg_dump does)."""
    if not isinstance(default, ast.FuncCall):
        return False
    return str(default.funcname[-1].sval).lower() == "nextval"


def _calls_made_here(sub: Subcommand, default: Any) -> bool:
    """Whether a default calls a routine this migration made."""
    calls = (n for n in walk(default) if isinstance(n, ast.FuncCall))
    return any(_made_here(sub, "function", call.funcname) for call in calls)


def _made_here(sub: Subcommand, kind: str, names: Any) -> bool:
    """Whether this migration made the object of that dotted name (a bare one: on its path)."""
    ctx = sub.ctx
    *schema, name = strings(names)
    places = schema[-1:] or [*ctx.search_path, ctx.default_schema]
    return any(ctx.created_here.has_name(ObjectRef(kind, name, s)) for s in places)


def set_default(sub: Subcommand) -> Iterator[Inverse]:
    moment, cmd = sub.moment(), sub.cmd
    prior = moment.default_before(sub.state)
    drop_default = sub.undo(AT.AT_ColumnDefault, str(cmd.name))
    if sub.table_is_new and (_takes_from_sequence(cmd.def_) or _calls_made_here(sub, cmd.def_)):
        # pg_dump's order: the sequence (or function) is made after the table, so the rollback
        # drops it first; the default must let go of it before then.
        yield drop_default
    elif sub.table_is_new:
        yield nothing(_NEW_HERE)
    elif prior is None:
        yield drop_default
    elif prior is not UNKNOWN:
        yield Inverse(sub.statement("ALTER COLUMN {} SET DEFAULT {}", sub.column, SQL(prior)))
    else:
        yield manual(
            ManualNeed.PRIOR_COLUMN_DEFAULT,
            f"default of {sub.rel.qualified}.{sub.column.as_string()} changed; restore the "
            "previous default" + _changed_since(sub.state),
            sub.column_ref,
        )
    moment.default_known = True
    moment.default_node = lookup(sub.ctx).qualified_expression(cmd.def_)


def _changed_since(state: ColumnState | None) -> str:
    """Why the earlier text of a column is not written back, when a name it says changed."""
    unsure = state.unsure if state is not None else None
    if unsure is None:
        return ""
    return f" (as written earlier it names what changed since: {unsure.what})"


def nullability(sub: Subcommand) -> Iterator[Inverse]:
    """SET / DROP NOT NULL: back to what the column was, when that differs."""
    moment = sub.moment()
    sets = sub.cmd.subtype == AT.AT_SetNotNull
    was_not_null = moment.not_null_before(sub.state)
    where = f"{sub.rel.qualified}.{sub.column.as_string()}"
    if sub.table_is_new:
        yield nothing(_NEW_HERE)
    elif was_not_null is None:
        yield manual(
            ManualNeed.PRIOR_NOT_NULL,
            f"nullability of {where} changed; restore it if it differed",
            sub.column_ref,
        )
    elif was_not_null == sets:
        yield nothing(f"{where} nullability was already so")
    else:
        yield sub.undo(AT.AT_SetNotNull if was_not_null else AT.AT_DropNotNull, str(sub.cmd.name))
    moment.not_null = sets
