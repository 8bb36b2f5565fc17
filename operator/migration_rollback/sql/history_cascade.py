"""What a DROP ... CASCADE took with it, as far as the migrations' text can tell.

PostgreSQL drops every object that depends on the one dropped with CASCADE: the policies,
views, triggers and constraints whose expressions use a type, a routine or a table; the
routines whose arguments or result are of a dropped type; the columns of that type; and, in
turn, what depends on those. The history had forgotten the dropped object alone and kept its
dependents as existing: a later `DROP POLICY IF EXISTS p; CREATE POLICY p` (a migration
restoring what the cascade removed) was undone by recreating a policy that had not existed
before it. The dependency graph is not in the SQL, so a definition that names a dropped object
(where its parse tree names it, unqualified names in the schema it was written under; of a
routine, its signature: PostgreSQL records no dependency on what a body says) is taken to be
gone with it. Matched on bare words, a view reading `other.x` or a column merely called `x`
was forgotten with `public.x`. Forgotten, its undo is left to a human.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from migration_rollback.sql._ast import ast
from migration_rollback.sql.names import DEFAULT_SCHEMA, deparse, strings
from migration_rollback.sql.rules.dependent_uses import Qualified, uses_object

if TYPE_CHECKING:
    from collections.abc import Iterable

    from migration_rollback.sql.history import Definition, History

# Kinds that nothing else depends on by name: dropping one takes nothing further with it.
LEAVES = frozenset({"policy", "trigger", "rule", "constraint", "index", "cron job"})
# Kinds a cascade only takes a part of: a table loses the column of a dropped type, the default
# or constraint that used a dropped routine; a composite type, its attribute.
KEPT = frozenset({"table", "type"})

_WORD = re.compile(r"\w+")
# In code the history cannot read (a DO block): `DROP <kind> [IF EXISTS] <names> CASCADE`,
# and `<name> RENAME TO <new>` (a type renamed aside and dropped, the enum swap).
_DROP_CASCADE = re.compile(
    r"\bdrop\s+(?:materialized\s+view|foreign\s+table|\w+)\s+(?:if\s+exists\s+)?([^;]*?)\bcascade\b",
    re.IGNORECASE,
)
_RENAME = re.compile(r'"?(\w+)"?\s+rename\s+to\s+"?(\w+)"?', re.IGNORECASE)


def words(text: str) -> frozenset[str]:
    return frozenset(w.lower() for w in _WORD.findall(text))


def forget_dependents(h: History, dropped: Iterable[Qualified]) -> None:
    """Forget each definition that names one of `dropped` (schema, name), then those naming
    what was forgotten, until none is left; and each column of a dropped type."""
    gone = {(schema.lower(), name.lower()) for schema, name in dropped}
    while gone:
        _drop_columns(h, gone)
        found = [d for d in h.definitions.values() if _uses_any(d, gone)]
        gone = set()
        for definition in found:
            h.forget(definition.ref)
            if definition.ref.kind not in LEAVES:
                gone.add(_qualified(definition.ref.schema, definition.ref.name))


def _uses_any(definition: Definition, gone: set[Qualified]) -> bool:
    """Its words first (cheap), then its tree: names as the tree gives them, resolved."""
    if definition.ref.kind in KEPT:
        return False
    if mentions(definition).isdisjoint(name for _, name in gone):
        return False
    return any(uses_object(definition, schema, name) for schema, name in gone)


def _qualified(schema: str | None, name: str) -> Qualified:
    return ((schema or DEFAULT_SCHEMA).lower(), name.lower())


def forget_unread_drops(h: History, text: str) -> None:
    """Code the history cannot read that says DROP ... CASCADE: the objects it names there
    (and what it renamed to those names) are gone, and what depends on them."""
    found = _DROP_CASCADE.finditer(text)
    dropped = {_split(name, h.default_schema) for match in found for name in _names(match)}
    if not dropped:
        return
    for old, new in _RENAME.findall(text):
        dropped |= {(schema, old.lower()) for schema, name in set(dropped) if name == new.lower()}
    for definition in list(h.definitions.values()):
        if _qualified(definition.ref.schema, definition.ref.name) in dropped:
            h.forget(definition.ref)
    forget_dependents(h, dropped)


def _names(match: re.Match[str]) -> list[str]:
    return [part for part in match.group(1).split(",") if part.strip()]


def _split(name: str, home: str) -> Qualified:
    """`public."t"(int)` -> (public, t); unqualified, in `home` (the search_path's first)."""
    parts = [p.strip('" ').lower() for p in name.split("(")[0].strip().split(".")]
    return (parts[-2] if len(parts) > 1 else home.lower(), parts[-1])


def mentions(definition: Definition) -> frozenset[str]:
    tree = definition.tree
    if isinstance(tree, ast.CreateFunctionStmt):
        result = deparse(tree.returnType) if tree.returnType is not None else ""
        return words(f"{definition.ref.args or ''} {result}")
    return words(definition.text)


def _drop_columns(h: History, types: set[Qualified]) -> None:
    """A column of a type dropped with CASCADE is dropped with it (an unqualified type name
    taken in the schema of its table: where the history cannot tell otherwise)."""
    for (schema, table), columns in list(h.columns.items()):
        for column, state in list(columns.items()):
            if _type_name(state.type_node, schema) in types:
                h.drop_column(schema, table, column)


def _type_name(node: Any, home: str | None) -> Qualified:
    parts = [p.lower() for p in strings(getattr(node, "names", None) or ())]
    if not parts:
        return ("", "")
    return (parts[-2] if len(parts) > 1 else (home or DEFAULT_SCHEMA).lower(), parts[-1])
