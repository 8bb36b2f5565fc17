"""ALTER FUNCTION / PROCEDURE undone attribute by attribute, to the values the history knows.

The history keeps each routine's CREATE as later ALTER FUNCTIONs left it (history_settings.py),
so the value an attribute had before this migration is in its options, or PostgreSQL's default
when the CREATE did not say it. The undo is one `ALTER FUNCTION <schema.name(args)> …` naming
those values: re-running the whole CREATE would also revert a body replaced where the history
cannot see. What it cannot say (SET … FROM CURRENT, SUPPORT, a setting RESET ALL cleared that
is unknown) returns None: the caller leaves it MANUAL.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pglast.enums.parsenodes import VariableSetKind

from migration_rollback.sql._ast import ast

# What a CREATE that does not name the attribute leaves (cost: see _default_cost).
_DEFAULTS: dict[str, Any] = {
    "security": ast.Boolean(boolval=False),
    "volatility": ast.String(sval="volatile"),
    "strict": ast.Boolean(boolval=False),
    "leakproof": ast.Boolean(boolval=False),
    "parallel": ast.String(sval="unsafe"),
    "rows": ast.Integer(ival=1000),
}


def attributes_back(create: Any, alter: Any) -> tuple[Any, ...] | None:
    """The ALTER FUNCTION actions giving back what `alter` changed, as `create` says it was."""
    options = {o.defname: o for o in create.options or () if o.defname != "set"}
    settings = {o.arg.name: o for o in create.options or () if o.defname == "set"}
    back: list[Any] = []
    for action in alter.actions or ():
        if action.defname == "set":
            undone = _setting_back(action.arg, settings)
            if undone is None:
                return None
            back.extend(undone)
        elif action.defname in options:
            back.append(options[action.defname])
        elif action.defname == "cost":
            back.append(ast.DefElem(defname="cost", arg=_default_cost(options)))
        elif action.defname in _DEFAULTS:
            back.append(ast.DefElem(defname=action.defname, arg=_DEFAULTS[action.defname]))
        else:
            return None
    return tuple(back)


def _setting_back(change: Any, before: dict[str, Any]) -> Iterable[Any] | None:
    """SET x / RESET x / RESET ALL undone: each setting touched set again, or reset."""
    if change.kind == VariableSetKind.VAR_RESET_ALL:
        kept = tuple(before.values())
        return None if any(_from_current(s) for s in kept) else kept
    if change.kind not in (VariableSetKind.VAR_SET_VALUE, VariableSetKind.VAR_RESET):
        return None  # FROM CURRENT: the value is the session's
    if change.name in before:
        earlier = before[change.name]
        return None if _from_current(earlier) else (earlier,)
    reset = ast.VariableSetStmt(kind=VariableSetKind.VAR_RESET, name=change.name)
    return (ast.DefElem(defname="set", arg=reset),)


def _from_current(setting: Any) -> bool:
    """SET x FROM CURRENT took the value of the session that ran the CREATE: written back, it
    would take the rollback session's."""
    return bool(setting.arg.kind == VariableSetKind.VAR_SET_CURRENT)


def _default_cost(options: dict[str, Any]) -> Any:
    """PostgreSQL's default cost: 1 for C and internal routines, 100 for the others."""
    language = options.get("language")
    cheap = language is not None and str(language.arg.sval).lower() in ("c", "internal")
    return ast.Integer(ival=1 if cheap else 100)
