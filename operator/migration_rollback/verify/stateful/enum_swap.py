"""An enum swapped back to the labels it had before the migration: renamed aside, created again,
every column converted through text, the old type dropped; what compares those columns with the
type's literals is dropped before and recreated after (see type_users).

Part of the state-aware rollbacks (see the package's docstring); pure, no database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from migration_rollback.sql.compose import SQL, Identifier, sql
from migration_rollback.verify.snapshot import ObjectId, SnapshotObject
from migration_rollback.verify.stateful.lookups import mentions, strings, unquote
from migration_rollback.verify.stateful.type_users import type_users

if TYPE_CHECKING:
    from migration_rollback.verify.stateful.ddl import Writer


def enum_as_before(gen: Writer, obj: SnapshotObject) -> list[str]:
    """The enum swapped back to the labels it had in the before-state (see enum_without)."""
    name = obj.id.name
    schema, _, bare = name.partition(".")
    aside = Identifier(unquote(bare) + "__mr_old")
    old = sql("{}.{}", SQL(schema), aside)
    columns = [
        col
        for col in gen.before.of_kind("column")
        if col.text("type") in (name, f"{name}[]") and col.parent is not None
    ]
    around = type_users(gen.before, name, _dependents_of_columns(gen, columns))
    out: list[str] = []
    for dependent in reversed(around):
        out += gen.drop(dependent)
    out.append(sql("ALTER TYPE {} RENAME TO {}", SQL(name), aside))
    out += gen._type(obj, None)
    for col in columns:
        typ = str(col.text("type"))
        assert col.parent is not None
        column = col.id.name[len(col.parent.name) + 1 :]
        prefix = f"ALTER TABLE {col.parent.name} ALTER COLUMN {column}"
        cast = "text[]" if typ.endswith("[]") else "text"
        if col.text("default"):
            out.append(f"{prefix} DROP DEFAULT")
        out.append(f"{prefix} TYPE {typ} USING {column}::{cast}::{typ}")
        if col.text("default"):
            out.append(f"{prefix} SET DEFAULT {col.text('default')}")
        gen.notes.append(f"{col.id}: rewritten to drop a value from {name}")
    out.append(f"DROP TYPE {old}")
    for dependent in around:
        gen.created.discard(dependent.id)
        out += gen.create(dependent)
    return out


def _dependents_of_columns(gen: Writer, columns: list[SnapshotObject]) -> list[SnapshotObject]:
    """Objects of the before-state whose definition uses one of these columns in an
    expression (not a plain index key, which PostgreSQL rebuilds itself)."""
    found: dict[ObjectId, SnapshotObject] = {}
    for col in columns:
        assert col.parent is not None
        column = col.id.name[len(col.parent.name) + 1 :]
        number = col.extra_text("attnum")
        for sibling in gen.before.children(col.parent, "constraint", "index"):
            definition = str(sibling.text("definition"))
            if sibling.id.kind == "constraint":
                uses = sibling.get("type") in ("check", "exclusion") and (
                    number in strings(sibling.extra.get("column numbers"))
                    or mentions(definition, column)
                )
            else:
                uses = (
                    not sibling.text("constraint")
                    and (
                        " WHERE " in definition
                        or "0" in strings(sibling.extra.get("column numbers"))
                    )
                    and mentions(definition, column)
                )
            if uses:
                found[sibling.id] = sibling
        for policy in gen.before.children(col.parent, "policy"):
            text = f"{policy.text('using') or ''} {policy.text('with check') or ''}"
            if mentions(text, column):
                found[policy.id] = policy
        for trigger in gen.before.children(col.parent, "trigger"):
            if " WHEN " in str(trigger.text("definition")) and mentions(
                str(trigger.text("definition")), column
            ):
                found[trigger.id] = trigger
        table = col.parent.name.partition(".")[2]
        for view in gen.before.of_kind("view", "materialized view"):
            definition = str(view.text("definition"))
            if mentions(definition, table) and mentions(definition, column):
                found[view.id] = view
    return list(found.values())
