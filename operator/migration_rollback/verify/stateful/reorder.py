"""`--exact-column-order`: a table rebuilt so that its columns come back in their order.

PostgreSQL puts a re-added column last and cannot move it: `SELECT *`, `INSERT … VALUES`
without a column list and `COPY` then see another order. When the round trip finds only that,
the rollback can rebuild the table from the before-state: a new table with the columns in
their order, the rows copied, the old table dropped, the new one renamed, then everything the
table has beside its columns (constraints, indexes, RLS, policies, triggers, owner, grants,
comments; owned sequences handed over) written from the before-state. It takes an ACCESS
EXCLUSIVE lock for the whole copy and rewrites the table: the rollback says so.

Refused (the column order stays a stated difference) where dropping the old table would take
other objects with it or lose something it cannot copy: anything outside the table naming it
(views, functions, other tables' constraints or policies), identity columns (their sequence
would be made anew), partitions and inheritance.

Part of the state-aware rollbacks (see the package's docstring); pure, no database.
"""

from __future__ import annotations

import re

from migration_rollback.verify.snapshot import ObjectId, SnapshotObject, quote_ident
from migration_rollback.verify.stateful.ddl import Writer
from migration_rollback.verify.stateful.lookups import Unknown

_SUFFIX = "__mr_reorder"
# What a table's own objects are (they go and come back with it); anything else naming the
# table depends on it from outside.
_OWN_KINDS = frozenset({"column", "constraint", "index", "policy", "trigger", "rule"})


def rebuild(gen: Writer, table: ObjectId) -> list[str]:
    """SQL rebuilding `table` (as it is in `gen.before`) with its columns in their order."""
    obj = gen.before.objects.get(table)
    if obj is None or obj.id.kind != "table":
        raise Unknown("not a table before the migration")
    _refuse_unsafe(gen, obj)
    columns = sorted(
        gen.before.children(obj.id, "column"), key=lambda c: int(str(c.get("position") or 0))
    )
    schema, bare = str(obj.extra_text("schema")), str(obj.extra_text("name"))
    new = f"{quote_ident(schema)}.{quote_ident(bare + _SUFFIX)}"
    copied = ", ".join(_name(c) for c in columns if not c.text("generated"))
    owned = [
        s
        for s in gen.before.of_kind("sequence")
        if str(s.text("owned by") or "").startswith(obj.id.name + ".")
    ]
    body = ",\n  ".join(gen.column_definition(c) for c in columns)
    out = [
        f"LOCK TABLE {obj.id.name} IN ACCESS EXCLUSIVE MODE",
        f"CREATE TABLE {new} (\n  {body}\n)",
        f"INSERT INTO {new} ({copied}) SELECT {copied} FROM {obj.id.name}",
        *(f"ALTER SEQUENCE {s.id.name} OWNED BY NONE" for s in owned),
        f"DROP TABLE {obj.id.name}",
        f"ALTER TABLE {new} RENAME TO {quote_ident(bare)}",
        *(f"ALTER SEQUENCE {s.id.name} OWNED BY {s.text('owned by')}" for s in owned),
    ]
    return out + gen.table_parts(obj, columns)


def _name(column: SnapshotObject) -> str:
    return quote_ident(str(column.extra_text("column")))


def _refuse_unsafe(gen: Writer, obj: SnapshotObject) -> None:
    if obj.strings("inherits") or obj.text("partition of") or obj.text("partitioned by"):
        raise Unknown("a partition or inheritance tree is not rebuilt")
    for column in gen.before.children(obj.id, "column"):
        if column.text("identity"):
            raise Unknown(f"identity column {column.id.name}: its sequence would be made anew")
    named = re.compile(r"(?<![\w$])" + re.escape(str(obj.extra_text("name"))) + r"(?![\w$])")
    users = [
        other.id
        for other in gen.before.objects.values()
        if other.id != obj.id
        and not (other.parent == obj.id and other.id.kind in _OWN_KINDS)
        and other.id.kind not in ("sequence", "publication table")
        and any(isinstance(v, str) and named.search(v) for v in other.attrs.values())
    ]
    if users:
        shown = ", ".join(str(u) for u in users[:3])
        raise Unknown(f"other objects use it (dropping it would take them): {shown}")
