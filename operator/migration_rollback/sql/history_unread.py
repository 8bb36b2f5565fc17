"""What SQL the history cannot follow may have changed: a DO block, a routine called by a
top-level statement (SELECT, CALL, INSERT, UPDATE, DELETE, MERGE).

The history follows a table's settings (its triggers fired or not, RLS, options, owner) and
routine definitions through the DDL it reads. Code it cannot read forgets them rather than
guess: the rules then leave their undo to a human. A routine the migrations made is read with
its body and its callees' bodies; one made elsewhere (a platform's audit helper that pauses
every trigger), or one whose body does not parse, may have changed any table: every setting
is forgotten (a routine's definition or an owner only when the text names it). Known
platform calls and built-ins are what they are documented to be.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from pglast import parse_sql
from pglast.parser import ParseError, parse_plpgsql_json

from migration_rollback.sql import privilege_states
from migration_rollback.sql.effects import unknown_calls
from migration_rollback.sql.function_code import expressions, plpgsql_tree
from migration_rollback.sql.history_settings import ROUTINE_KINDS
from migration_rollback.sql.names import DEFAULT_SCHEMA, deparse
from migration_rollback.sql.platform_calls import EFFECTS

if TYPE_CHECKING:
    from collections.abc import Iterable

    from migration_rollback.sql.history import Definition, History
    from migration_rollback.sql.model import Statement

Call = tuple[str, str]  # (schema or "", name) as called, lowercased

# What a table's settings are kept in: unknown once SQL the history cannot read names it.
_SETTINGS = (
    "replica_identity", "triggers", "rules", "reloptions", "logged", "relation_owners",
    "rls_enabled", "rls_forced",
)  # fmt: skip

# The words without which SQL cannot change a setting, owner or routine definition: DDL, a
# string run as SQL, or a routine called (whose body may do either).
_CHANGING_WORDS = frozenset(
    {"alter", "create", "drop", "execute", "reassign", "comment", "perform", "call"}
)
# EXECUTE of a string built at run time (format(), a variable, a concatenation): what it names
# is not in the text, so it may change any table, owner or routine.
_DYNAMIC = re.compile(r"\bexecute\s+(?!['$])", re.IGNORECASE)


def forget_unread(h: History, st: Statement, node: Any) -> None:
    """A DO block runs SQL the history cannot read (EXECUTE of a string, too): each table it
    names, by its own name or a trigger's or rule's, has its settings unknown from then on,
    each other object it names its owner, each routine it names its definition; every one of
    them when it calls a routine made elsewhere. Only a block that can change them: one with
    DDL, dynamic SQL or a call (a block that only reads or raises notices naming a table, a
    common check at a migration's end, changes none of them)."""
    called = _do_calls(node)
    words = _words(st.text)
    _revokes(h, words)
    routines = _routines(h)
    quiet = words.isdisjoint(_CHANGING_WORDS) and words.isdisjoint(routines.values())
    if called is not None and not called and quiet:
        return
    _forget_through(h, st.text, called, stale=True)


def forget_called(h: History, st: Statement, node: Any) -> None:
    """A top-level statement calling a routine that is neither a built-in nor a platform call
    the engine knows runs code the history cannot follow either (a platform's audit helper
    switching triggers, a migration's routine running ALTER TABLE): read with the bodies of
    the migrations' routines it calls, and what they call. One made elsewhere (its body
    unseen) may change any table; one the migrations made whose body, and its callees', has
    no DDL, dynamic SQL or call changes nothing."""
    called = _unknown(node)
    if called:
        _forget_through(h, st.text, called, stale=False)


def _forget_through(h: History, text: str, called: set[Call] | None, *, stale: bool) -> None:
    """What `text` and the bodies of the routines it calls may change, forgotten; all of it
    when a callee's body is unseen or unread (`called` None: the text's own calls unread)."""
    routines = _routines(h)
    bodies = None if called is None else _bodies(h, called)
    if bodies is None:
        _forget_settings(h)
        _forget_named(h, text, _words(text), routines, stale=stale)
        _revokes(h, _words(text))
        return
    text = " ".join((text, *bodies))
    words = _words(text)
    _revokes(h, words)
    changes = not words.isdisjoint(_CHANGING_WORDS)
    if changes or stale:
        _forget_named(h, text, words, routines, stale=changes or stale)


def _bodies(h: History, called: set[Call]) -> list[str] | None:
    """The bodies of the migrations' routines `called` names and of those they call in turn;
    None when one of them is not a migration's routine (made elsewhere: its body unseen) or
    its body cannot be read for the calls it makes. Keyed by schema and name: a platform's
    routine sharing a bare name with a migration's is not it."""
    by_key: dict[Call, list[Definition]] = {}
    for definition in h.definitions.values():
        if definition.ref.kind in ROUTINE_KINDS:
            schema = (definition.ref.schema or DEFAULT_SCHEMA).lower()
            by_key.setdefault((schema, definition.ref.name.lower()), []).append(definition)
    seen: set[Call] = set()
    texts: list[str] = []
    todo = set(called)
    while todo:
        schema, name = todo.pop()
        key = (schema or h.default_schema.lower(), name)
        if key in seen:
            continue
        seen.add(key)
        definitions = by_key.get(key)
        if not definitions:
            return None
        for definition in definitions:
            callees = _body_calls(definition)
            if callees is None:
                return None
            texts.append(_body(definition.tree))
            todo |= callees
    return texts


def _body_calls(definition: Definition) -> set[Call] | None:
    """The unknown calls a routine's body makes; None when it cannot be read (a body that
    does not parse, a language other than SQL and PL/pgSQL)."""
    tree = definition.tree
    if getattr(tree, "sql_body", None) is not None:
        return _unknown(tree.sql_body)
    options = {str(o.defname): o.arg for o in getattr(tree, "options", None) or ()}
    language = str(getattr(options.get("language"), "sval", "")).lower()
    if language == "sql":
        return _sql_calls([_body(tree)])
    if language != "plpgsql":
        return None
    try:
        parsed = json.loads(parse_plpgsql_json(definition.text))[0]["PLpgSQL_function"]
    except (ParseError, ValueError, KeyError, IndexError):
        return None
    return _sql_calls(expressions(parsed["action"]))


def _do_calls(node: Any) -> set[Call] | None:
    """The unknown calls of a DO block's PL/pgSQL; None when it is not read."""
    options = {str(o.defname): o.arg for o in node.args or ()}
    language = str(getattr(options.get("language"), "sval", "plpgsql")).lower()
    body = getattr(options.get("as"), "sval", None)
    tree = plpgsql_tree(str(body)) if language == "plpgsql" and body is not None else None
    return None if tree is None else _sql_calls(expressions(tree["action"]))


def _sql_calls(texts: Iterable[str]) -> set[Call] | None:
    found: set[Call] = set()
    for text in texts:
        try:
            statements = parse_sql(text)
        except ParseError:
            return None
        for raw in statements:
            found |= _unknown(raw.stmt)
    return found


def _unknown(node: Any) -> set[Call]:
    return {(schema.lower(), name.lower()) for schema, name in unknown_calls(node, EFFECTS)}


def _body(tree: Any) -> str:
    """What a routine runs: its `AS` string(s) or its SQL-standard body (not the CREATE's
    own words)."""
    if getattr(tree, "sql_body", None) is not None:
        return deparse(tree.sql_body)
    for option in getattr(tree, "options", None) or ():
        if getattr(option, "defname", None) == "as":
            return " ".join(str(part.sval) for part in option.arg)
    return ""


def _revokes(h: History, words: set[str]) -> None:
    """Code that may GRANT or REVOKE: what it names may have lost what the platform's default
    privileges gave it (platform_grants.py no longer assumes them there), or gained what it
    lacked, and what earlier statements set on it may no longer hold (privilege_states.py)."""
    if "revoke" in words or "grant" in words:
        h.platform_unsure_names |= words
        privilege_states.forget_named(h.privileges, words)


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"\w+", text)}


def _routines(h: History) -> dict[str, str]:
    """Each routine the migrations made: its key, and its name as a word."""
    return {k: d.ref.name.lower() for k, d in h.definitions.items() if d.ref.kind in ROUTINE_KINDS}


def _forget_named(
    h: History, text: str, words: set[str], routines: dict[str, str], *, stale: bool
) -> None:
    """What SQL the history cannot read may have changed: the settings of each table `words`
    names (by its name, a trigger's or a rule's) and the owner of each object they name; with
    `stale`, each routine they name (its definition); all of them when the SQL is built at run
    time."""
    if _DYNAMIC.search(text):
        _forget_all(h, routines)
        return
    tables = {key for field in _SETTINGS for key in getattr(h, field)}
    for key in tables:
        members = {*h.triggers.get(key, {}), *h.rules.get(key, {})}
        if key[1].lower() in words or any(m.lower() in words for m in members):
            for field in _SETTINGS:
                getattr(h, field).pop(key, None)
    for owned in [k for k in h.owners if k.split(":")[2].lower() in words]:
        del h.owners[owned]
    if stale:
        h.stale.update(key for key, name in routines.items() if name in words)


def _forget_settings(h: History) -> None:
    """Code unseen may have switched any table's triggers, RLS or options (a platform helper
    that pauses every trigger): a routine's definition or an owner it changes only when the
    text names them, as with code that is read."""
    for field in _SETTINGS:
        getattr(h, field).clear()


def _forget_all(h: History, routines: dict[str, str]) -> None:
    """SQL built at run time may have changed any table's settings, owner or routine."""
    _forget_settings(h)
    h.owners.clear()
    h.stale.update(routines)
