"""Settings an object carries besides its definition, which migrations switch in place: a
relation's replica identity, each trigger's firing switch, storage parameters (`WITH (...)`),
and an object's owner once a migration named it (`OWNER TO`).

Their undo needs the state before, which the forward SQL does not say but the migration history
often does: a table created by the project's migrations starts with replica identity DEFAULT,
each trigger created on it fires on origin (`O`, also after `CREATE OR REPLACE TRIGGER`), and
its parameters are those its CREATE wrote (`CREATE OR REPLACE VIEW` replaces them); its owner is
whoever ran the CREATE, which the SQL does not say, until an OWNER TO names one. This module
says, purely, what each statement sets; the history records it (history_observers.py) and the
rules restore it (rules/settings.py). A state the history cannot follow is simply not recorded.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any

from pglast.enums.parsenodes import AlterTableType as AT
from pglast.enums.parsenodes import ObjectType as OT
from pglast.enums.parsenodes import RoleSpecType, VariableSetKind, ViewCheckOption

from migration_rollback.sql import kinds
from migration_rollback.sql._ast import ast
from migration_rollback.sql.model import ObjectRef
from migration_rollback.sql.names import object_with_args, split_qualified, strings


class Identity(enum.StrEnum):
    """A replica identity the history can follow, by its `pg_class.relreplident` letter (USING
    INDEX is not: the index may be renamed or dropped after)."""

    DEFAULT = "d"
    FULL = "f"
    NOTHING = "n"

    @property
    def words(self) -> str:
        return self.name


class Fires(enum.StrEnum):
    """A trigger's firing switch, by its `pg_trigger.tgenabled` letter."""

    ORIGIN = "O"
    DISABLED = "D"
    ALWAYS = "A"
    REPLICA = "R"


# The subcommand that sets each switch on one named trigger (ALL / USER reach triggers the
# history may not know: partitions' clones, the internal ones of foreign keys).
TRIGGER_SWITCH: dict[AT, Fires] = {
    AT.AT_EnableTrig: Fires.ORIGIN,
    AT.AT_DisableTrig: Fires.DISABLED,
    AT.AT_EnableAlwaysTrig: Fires.ALWAYS,
    AT.AT_EnableReplicaTrig: Fires.REPLICA,
}
SWITCH_BACK: dict[Fires, AT] = {fires: subtype for subtype, fires in TRIGGER_SWITCH.items()}
# A rule's switch, by its `pg_rewrite.ev_enabled` letter (CREATE OR REPLACE RULE keeps it).
RULE_SWITCH: dict[AT, Fires] = {
    AT.AT_EnableRule: Fires.ORIGIN,
    AT.AT_DisableRule: Fires.DISABLED,
    AT.AT_EnableAlwaysRule: Fires.ALWAYS,
    AT.AT_EnableReplicaRule: Fires.REPLICA,
}
RULE_BACK: dict[Fires, AT] = {fires: subtype for subtype, fires in RULE_SWITCH.items()}

# SET LOGGED / SET UNLOGGED, by whether each leaves the table logged.
LOGGED: dict[AT, bool] = {AT.AT_SetLogged: True, AT.AT_SetUnLogged: False}

# Storage parameters: the subcommands that change them, and whether each sets (or resets) them.
OPTIONS_SET: dict[AT, bool] = {AT.AT_SetRelOptions: True, AT.AT_ResetRelOptions: False}

Options = dict[str, Any]  # "namespace.name" (or "name") -> its DefElem as written


def identity_set(cmd: Any) -> Identity | None:
    """The replica identity a REPLICA IDENTITY subcommand sets; None for USING INDEX."""
    letter = str(getattr(cmd.def_, "identity_type", ""))
    return Identity(letter) if letter in Identity._value2member_map_ else None


def option_key(elem: Any) -> str:
    return f"{elem.defnamespace}.{elem.defname}" if elem.defnamespace else str(elem.defname)


def options_of(elems: Iterable[Any] | None) -> Options:
    """The parameters a CREATE's `WITH (...)` gives."""
    return {option_key(e): e for e in elems or ()}


def view_options(node: Any) -> Options:
    """A view's parameters: its `WITH (...)` and its `WITH CHECK OPTION`, which PostgreSQL
    keeps as the `check_option` parameter."""
    options = options_of(node.options)
    check = node.withCheckOption
    if check is not None and check != ViewCheckOption.NO_CHECK_OPTION:
        level = "local" if check == ViewCheckOption.LOCAL_CHECK_OPTION else "cascaded"
        options["check_option"] = ast.DefElem(defname="check_option", arg=ast.String(sval=level))
    return options


def options_after(before: Mapping[str, Any], cmd: Any) -> Options:
    """The parameters after a SET (...) or RESET (...) subcommand."""
    after = dict(before)
    for elem in cmd.def_ or ():
        if OPTIONS_SET[cmd.subtype]:
            after[option_key(elem)] = elem
        else:
            after.pop(option_key(elem), None)
    return after


def options_back(before: Mapping[str, Any], cmd: Any) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """What restores the parameters a SET / RESET subcommand touched: the DefElems to SET
    again (their earlier values) and those to RESET (they had none)."""
    keys = [option_key(e) for e in cmd.def_ or ()]
    again = tuple(before[k] for k in keys if k in before)
    reset = tuple(bare(e) for e in cmd.def_ or () if option_key(e) not in before)
    return again, reset


def bare(elem: Any) -> Any:
    return ast.DefElem(defnamespace=elem.defnamespace, defname=elem.defname)


# --- owners ----------------------------------------------------------------------------------

# Objects whose owner `ALTER <kind> … OWNER TO` changes and an undo can name; relations change
# owner through ALTER TABLE. Any other object type is given back by hand.
OWNER: dict[OT, kinds.ObjectKind] = {
    t: kinds.BY_TYPE[t]
    for t in (OT.OBJECT_FUNCTION, OT.OBJECT_PROCEDURE, OT.OBJECT_AGGREGATE, OT.OBJECT_TYPE,
              OT.OBJECT_DOMAIN, OT.OBJECT_SCHEMA, OT.OBJECT_PUBLICATION, OT.OBJECT_EXTENSION)
}  # fmt: skip

# Relations whose owner the history follows: a sequence or index changes owner with its table
# (OWNED BY, serial, identity), which the history would not see.
OWNED_RELATIONS = frozenset({OT.OBJECT_TABLE, OT.OBJECT_VIEW, OT.OBJECT_MATVIEW,
                             OT.OBJECT_FOREIGN_TABLE})  # fmt: skip


def owned_ref(node: Any, default_schema: str) -> ObjectRef | None:
    """The object an `ALTER <kind> … OWNER TO` names (None: a kind not in OWNER)."""
    kind, obj = OWNER.get(node.objectType), node.object
    if kind is None:
        return None
    if isinstance(obj, ast.ObjectWithArgs):
        return object_with_args(obj, default_schema, kind.name)
    if isinstance(obj, ast.String):
        return ObjectRef(kind.name, str(obj.sval))
    if isinstance(obj, tuple):
        schema, name = split_qualified(strings(obj), default_schema)
        return ObjectRef(kind.name, name, schema)
    return None


def role_named(spec: Any) -> str | None:
    """The role an OWNER TO names; None for CURRENT_USER and the like (who ran it)."""
    if spec is None or spec.roletype != RoleSpecType.ROLESPEC_CSTRING:
        return None
    return str(spec.rolename)


# --- a routine's attributes ------------------------------------------------------------------


def routine_after(create: Any, alter: Any) -> Any:
    """The CREATE FUNCTION / PROCEDURE tree `create` as ALTER FUNCTION `alter` leaves it: its
    attributes (volatility, SECURITY, COST...) replaced, its SET list changed; re-run with
    OR REPLACE it restores every one of them. None when a change cannot be written out
    (SET ... FROM CURRENT takes the session's value)."""
    options = list(create.options or ())
    for action in alter.actions or ():
        if action.defname != "set":
            options = [o for o in options if o.defname != action.defname] + [action]
            continue
        kind = action.arg.kind
        if kind not in _SET_KINDS:
            return None
        everything = kind == VariableSetKind.VAR_RESET_ALL
        options = [o for o in options if not _sets(o, None if everything else action.arg.name)]
        if kind == VariableSetKind.VAR_SET_VALUE:
            options.append(action)
    return ast.CreateFunctionStmt(
        is_procedure=create.is_procedure, replace=create.replace, funcname=create.funcname,
        parameters=create.parameters, returnType=create.returnType, options=tuple(options),
        sql_body=create.sql_body,
    )  # fmt: skip


_SET_KINDS = frozenset(
    {VariableSetKind.VAR_SET_VALUE, VariableSetKind.VAR_RESET, VariableSetKind.VAR_RESET_ALL}
)


def _sets(option: Any, name: str | None) -> bool:
    """Whether `option` is a SET of `name` (of any setting for None)."""
    return option.defname == "set" and (name is None or option.arg.name == name)
