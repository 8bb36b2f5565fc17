"""How the migration history follows the settings an object carries (settings.py): set when
the relation or trigger is created, changed by each ALTER seen since, moved by renames with the
rest of the table's records (History.move_table), forgotten with it; an owner from the first
OWNER TO that names one.

A change the history cannot follow forgets the setting rather than guess it: REPLICA IDENTITY
USING INDEX, a switch of a trigger it never saw created (a partition's clone), a parameter of a
relation made outside the migrations. The rules then leave the undo to a human.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pglast import parse_sql
from pglast.enums.parsenodes import AlterPublicationAction, ObjectType
from pglast.enums.parsenodes import AlterTableType as AT

from migration_rollback.sql._ast import ast
from migration_rollback.sql.names import (
    deparse,
    split_qualified,
    strings,
)
from migration_rollback.sql.search_path import of_history
from migration_rollback.sql.settings import (
    LOGGED,
    OPTIONS_SET,
    RULE_SWITCH,
    TRIGGER_SWITCH,
    Fires,
    Identity,
    Options,
    identity_set,
    options_after,
    owned_ref,
    role_named,
    routine_after,
)

if TYPE_CHECKING:
    from migration_rollback.sql.history import History, TableKey
    from migration_rollback.sql.model import Statement


def learn_relation(
    h: History, key: TableKey, options: Options, *, table: bool = True, logged: bool = True
) -> None:
    """A relation created: its parameters as written, and a table's replica identity DEFAULT,
    persistence, row level security off, and no trigger or rule switched yet."""
    h.reloptions[key] = options
    h.rules[key] = {}
    if table:
        h.rls_enabled[key] = h.rls_forced[key] = False
        h.replica_identity[key] = Identity.DEFAULT
        h.triggers[key] = {}
        h.logged[key] = logged


def learn_rule(h: History, key: TableKey, name: str, replace: bool) -> None:
    """CREATE RULE fires on origin; CREATE OR REPLACE RULE keeps the switch it had."""
    rules = h.rules.setdefault(key, {})
    if not (replace and name in rules):
        rules[name] = Fires.ORIGIN


def learn_trigger(h: History, key: TableKey, name: str) -> None:
    """CREATE [OR REPLACE] TRIGGER: it fires on origin (a replace switches it back on)."""
    h.triggers.setdefault(key, {})[name] = Fires.ORIGIN


def _replica_identity(h: History, key: TableKey, cmd: Any) -> None:
    identity = identity_set(cmd)
    if identity is None:
        h.replica_identity.pop(key, None)
    else:
        h.replica_identity[key] = identity


def _one_member(field: str, sets: dict[AT, Fires]) -> Callable[[History, TableKey, Any], None]:
    """ENABLE / DISABLE … TRIGGER or RULE name: `field` is the History map of their switches."""

    def observe(h: History, key: TableKey, cmd: Any) -> None:
        switches = getattr(h, field).get(key, {})
        if str(cmd.name) in switches:  # one never seen created stays unknown
            switches[str(cmd.name)] = sets[cmd.subtype]

    return observe


def _logged(h: History, key: TableKey, cmd: Any) -> None:
    if key in h.logged:
        h.logged[key] = LOGGED[cmd.subtype]


def _every_trigger(fires: Fires) -> Callable[[History, TableKey, Any], None]:
    """ENABLE / DISABLE TRIGGER ALL or USER: every trigger the history knows on the table."""

    def observe(h: History, key: TableKey, cmd: Any) -> None:
        switches = h.triggers.get(key, {})
        for name in switches:
            switches[name] = fires

    return observe


def _owner(h: History, key: TableKey, cmd: Any) -> None:
    role = role_named(cmd.newowner)
    if role is None:
        h.relation_owners.pop(key, None)
    else:
        h.relation_owners[key] = role


def learn_owner(h: History, st: Statement, node: Any) -> None:
    """ALTER <kind> … OWNER TO a named role; CURRENT_USER and the like forget it, and so
    does a routine named without its arguments (or by ROUTINE): which one is unknown."""
    if node.objectType in ROUTINE_TYPES and _unsure_routine(node.objectType, node.object):
        for key in routine_keys(h, node.object):
            h.owners.pop(key, None)
        return
    ref = owned_ref(node, of_history(h).home(node))
    ref = h.identity(ref) if ref is not None else None
    role = role_named(node.newowner)
    if ref is not None and role is not None:
        h.owners[ref.key] = role
    elif ref is not None:
        h.owners.pop(ref.key, None)


ROUTINE_TYPES = frozenset({ObjectType.OBJECT_FUNCTION, ObjectType.OBJECT_PROCEDURE,
                       ObjectType.OBJECT_ROUTINE, ObjectType.OBJECT_AGGREGATE})  # fmt: skip
ROUTINE_KINDS = ("function", "procedure", "aggregate")


def _unsure_routine(objtype: ObjectType, owa: Any) -> bool:
    """A routine named so that the history cannot tell which one (no argument list: any
    overload; ROUTINE: a function or a procedure)."""
    return objtype == ObjectType.OBJECT_ROUTINE or bool(owa.args_unspecified)


def routine_keys(h: History, owa: Any) -> list[str]:
    """The keys of every routine the history holds anything of under `owa`'s name."""
    schema, name = split_qualified(strings(owa.objname), h.default_schema)
    prefixes = tuple(f"{kind}:{schema}:{name}:(" for kind in ROUTINE_KINDS)
    held = {*h.definitions, *h.owners, *h.comments}
    return [key for key in held if key.startswith(prefixes)]


def learn_routine_alter(h: History, st: Statement, node: Any) -> None:
    """ALTER FUNCTION changes what a restore of the routine must write: the CREATE as the
    ALTER leaves it (restoring the first CREATE would lose the ALTER); one the history cannot
    write out leaves the definition stale (a restore is then a human's)."""
    if _unsure_routine(node.objtype, node.func):
        h.stale.update(routine_keys(h, node.func))
        return
    kind = "procedure" if node.objtype == ObjectType.OBJECT_PROCEDURE else "function"
    ref = h.identity(of_history(h).routine(node.func, kind))
    previous = h.definition(ref)
    if previous is None or not isinstance(previous.tree, ast.CreateFunctionStmt):
        return
    after = routine_after(previous.tree, node)
    if after is None:
        h.stale.add(ref.key)
        return
    text = deparse(after)
    h.redefine(ref, replace(st, text=text, node=parse_sql(text)[0].stmt))


def learn_published(h: History, st: Statement, node: Any) -> None:
    """CREATE PUBLICATION … FOR TABLE and ALTER PUBLICATION ADD / DROP / SET TABLE: which
    tables each publication holds, and how each was added."""
    name = str(node.pubname)
    action = getattr(node, "action", AlterPublicationAction.AP_AddObjects)
    if action == AlterPublicationAction.AP_SetObjects:
        for publications in h.published.values():
            publications.pop(name, None)
    for spec in node.pubobjects or ():
        table = getattr(spec, "pubtable", None)
        if table is None:
            continue
        rel = of_history(h).relation(table.relation)
        key = (str(rel.schema), rel.name)
        if action == AlterPublicationAction.AP_DropObjects:
            h.published.get(key, {}).pop(name, None)
        else:
            h.published.setdefault(key, {})[name] = table


# Stands for how a table was added to a publication once its columns or name changed since:
# its column list or WHERE may no longer say the same, so adding it back is a human's.
UNSURE_SPEC = "column list or WHERE unsure"


def blur_published(h: History, key: TableKey) -> None:
    """A column of the table renamed or dropped: each column list or WHERE it was published
    with is unsure (one by name alone stays so). A table renamed keeps them: PostgreSQL holds
    them by column number."""
    publications = h.published.get(key, {})
    for name, spec in publications.items():
        if spec is not UNSURE_SPEC and (spec.columns or spec.whereClause):
            publications[name] = UNSURE_SPEC


def forget_owners(h: History, st: Statement, node: Any) -> None:
    """REASSIGN OWNED / DROP OWNED change owners the history cannot list."""
    h.owners.clear()
    h.relation_owners.clear()


def _options(h: History, key: TableKey, cmd: Any) -> None:
    if key in h.reloptions:
        h.reloptions[key] = options_after(h.reloptions[key], cmd)


def _row_security(field: str, on: bool) -> Callable[[History, TableKey, Any], None]:
    """ENABLE / DISABLE / [NO] FORCE ROW LEVEL SECURITY: known from here on, whatever it was
    before (a table made elsewhere too)."""

    def observe(h: History, key: TableKey, cmd: Any) -> None:
        getattr(h, field)[key] = on

    return observe


SETTING_OBSERVERS: dict[AT, Callable[[History, TableKey, Any], None]] = {
    AT.AT_ReplicaIdentity: _replica_identity,
    AT.AT_EnableRowSecurity: _row_security("rls_enabled", True),
    AT.AT_DisableRowSecurity: _row_security("rls_enabled", False),
    AT.AT_ForceRowSecurity: _row_security("rls_forced", True),
    AT.AT_NoForceRowSecurity: _row_security("rls_forced", False),
    **dict.fromkeys(TRIGGER_SWITCH, _one_member("triggers", TRIGGER_SWITCH)),
    **dict.fromkeys(RULE_SWITCH, _one_member("rules", RULE_SWITCH)),
    **dict.fromkeys(LOGGED, _logged),
    AT.AT_EnableTrigAll: _every_trigger(Fires.ORIGIN),
    AT.AT_EnableTrigUser: _every_trigger(Fires.ORIGIN),
    AT.AT_DisableTrigAll: _every_trigger(Fires.DISABLED),
    AT.AT_DisableTrigUser: _every_trigger(Fires.DISABLED),
    **dict.fromkeys(OPTIONS_SET, _options),
}
# Owners of the relations the history follows (settings.OWNED_RELATIONS); ALTER TABLE names
# any relation, so the statement's object type says whether it is one.
RELATION_OWNER = _owner
