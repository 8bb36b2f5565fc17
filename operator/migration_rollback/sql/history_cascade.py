"""What a DROP ... CASCADE took with it, as far as the migrations' text can tell.

PostgreSQL drops every object that depends on the one dropped with CASCADE: the policies,
views, triggers and constraints whose expressions use a type, a routine or a table; the
routines whose arguments or result are of a dropped type; the columns of that type; and, in
turn, what depends on those. The history had forgotten the dropped object alone and kept its
dependents as existing: a later `DROP POLICY IF EXISTS p; CREATE POLICY p` (a migration
restoring what the cascade removed) was undone by recreating a policy that had not existed
before it. The dependency graph is not in the SQL, so a definition that names a dropped object
(a word of its text; of a routine, of its signature: PostgreSQL records no dependency on what
a body says) is taken to be gone with it. Forgotten, its undo is left to a human.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from migration_rollback.sql._ast import ast
from migration_rollback.sql.names import deparse

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


def forget_dependents(h: History, dropped: Iterable[str]) -> None:
    """Forget each definition that names one of `dropped` (bare, any case), then those
    naming what was forgotten, until none is left; and each column of a dropped type."""
    names = {name.lower() for name in dropped}
    while names:
        _drop_columns(h, names)
        found = [
            d
            for d in h.definitions.values()
            if d.ref.kind not in KEPT and not mentions(d).isdisjoint(names)
        ]
        names = set()
        for definition in found:
            h.forget(definition.ref)
            if definition.ref.kind not in LEAVES:
                names.add(definition.ref.name.lower())


def forget_unread_drops(h: History, text: str) -> None:
    """Code the history cannot read that says DROP ... CASCADE: the objects it names there
    (and what it renamed to those names) are gone, and what depends on them."""
    dropped = {_bare(name) for match in _DROP_CASCADE.finditer(text) for name in _names(match)}
    if not dropped:
        return
    for old, new in _RENAME.findall(text):
        if new.lower() in dropped:
            dropped.add(old.lower())
    for definition in [d for d in h.definitions.values() if d.ref.name.lower() in dropped]:
        h.forget(definition.ref)
    forget_dependents(h, dropped)


def _names(match: re.Match[str]) -> list[str]:
    return [part for part in match.group(1).split(",") if part.strip()]


def _bare(name: str) -> str:
    """`public."t"(int)` -> `t`: the last part of a dotted name, unquoted, lowercased."""
    return name.split("(")[0].strip().split(".")[-1].strip('" ').lower()


def mentions(definition: Definition) -> frozenset[str]:
    tree = definition.tree
    if isinstance(tree, ast.CreateFunctionStmt):
        result = deparse(tree.returnType) if tree.returnType is not None else ""
        return words(f"{definition.ref.args or ''} {result}")
    return words(definition.text)


def _drop_columns(h: History, types: set[str]) -> None:
    """A column of a type dropped with CASCADE is dropped with it."""
    for (schema, table), columns in list(h.columns.items()):
        for column, state in list(columns.items()):
            if not words(deparse(state.type_node)).isdisjoint(types):
                h.drop_column(schema, table, column)
