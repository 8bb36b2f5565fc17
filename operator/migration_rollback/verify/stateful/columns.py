"""Columns from the before-state: a column's definition as CREATE TABLE or ADD COLUMN writes it,
a column added back (its values only a backup restores), and a column's type, default or
nullability restored in place.

Part of the state-aware rollbacks (see the package's docstring); pure, no database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from migration_rollback.sql import ObjectRef, casts
from migration_rollback.sql.compose import SQL, Identifier, Literal, sql
from migration_rollback.verify.snapshot import ObjectId, SnapshotObject
from migration_rollback.verify.stateful.lookups import Unknown, mentions, strings

if TYPE_CHECKING:
    from migration_rollback.verify.stateful.ddl import Writer


def column_definition(gen: Writer, col: SnapshotObject, *, with_default: bool = True) -> str:
    name = col.id.name.rsplit(".", 1)[-1] if col.extra_text("column") is None else (
        Identifier(str(col.extra_text("column"))).as_string()
    )  # fmt: skip
    parts = [name, str(col.text("type"))]
    if col.extra.get("foreign options"):
        parts.append(foreign_options(col.extra.get("foreign options")))
    if col.text("collation"):
        parts.append(f"COLLATE {col.text('collation')}")
    if col.text("generated"):
        parts.append(f"GENERATED ALWAYS AS ({col.text('generated')}) STORED")
    elif col.text("identity"):
        parts.append(f"GENERATED {str(col.text('identity')).upper()} AS IDENTITY")
        options = identity_options(gen, col)
        if options:
            parts.append(f"({options})")
    elif with_default and col.text("default"):
        parts.append(f"DEFAULT {col.text('default')}")
    if col.get("not null"):
        parts.append("NOT NULL")
    return " ".join(parts)


def identity_options(gen: Writer, col: SnapshotObject) -> str:
    for seq in gen.before.of_kind("sequence"):
        if seq.text("owned by") == col.id.name and seq.extra.get("identity"):
            return " ".join(
                [
                    f"SEQUENCE NAME {seq.id.name}",
                    f"START WITH {seq.get('start')}",
                    f"INCREMENT BY {seq.get('increment')}",
                    f"MINVALUE {seq.get('minimum')}",
                    f"MAXVALUE {seq.get('maximum')}",
                    f"CACHE {seq.get('cache')}",
                    "CYCLE" if seq.get("cycle") else "NO CYCLE",
                ]
            )
    return ""


def restore_column(
    gen: Writer, ref: ObjectRef, what: str, current_type: str | None = None
) -> list[str]:
    col = gen.find(ref)
    if col is None:
        # Not there before the migration: the migration created it (a later step drops it).
        return _default_dropped(gen, ref) if what == "default" else []
    table = str(col.parent.name if col.parent else "")
    name = Identifier(ref.column or "").as_string()
    prefix = sql("ALTER TABLE {} ALTER COLUMN {}", SQL(table), SQL(name))
    old_type = str(col.text("type"))
    if what == "type":
        out = [f"{prefix} DROP DEFAULT"]
        collate = f" COLLATE {col.text('collation')}" if col.text("collation") else ""
        if current_type is None and gen.after is not None:
            now = gen.find(ref, gen.after)
            current_type = now.text("type") if now is not None else None
        expression = casts.using(name, current_type, old_type)
        out.append(f"{prefix} TYPE {old_type}{collate} USING {expression}")
        if col.text("default") and not col.text("identity") and not col.text("generated"):
            out.append(f"{prefix} SET DEFAULT {col.text('default')}")
        return out
    if what == "default":
        default = col.text("default")
        return [f"{prefix} SET DEFAULT {default}" if default else f"{prefix} DROP DEFAULT"]
    return [f"{prefix} {'SET' if col.get('not null') else 'DROP'} NOT NULL"]


def _default_dropped(gen: Writer, ref: ObjectRef) -> list[str]:
    """A default the migration gave a column it made: dropped all the same, at once. What it
    calls (an IF NOT EXISTS sequence, a function) may be dropped by an earlier step of the
    rollback than the column's own (easyword: `DROP SEQUENCE html_id_seq` failed, `html.id`
    still took its values from it)."""
    now = gen.find(ref, gen.after) if gen.after is not None else None
    if now is None or now.parent is None or not now.text("default"):
        return []
    table, name = SQL(str(now.parent.name)), SQL(Identifier(ref.column or "").as_string())
    return [sql("ALTER TABLE {} ALTER COLUMN {} DROP DEFAULT", table, name)]


def add_column(gen: Writer, obj: SnapshotObject, current: SnapshotObject | None) -> list[str]:
    if obj.parent is None:
        raise Unknown(f"{obj.id} has no table")
    table = obj.parent.name
    if not obj.text("generated"):  # a generated column's values are computed again
        gen.data_loss.append(
            f"{obj.id}: recreated without its values (they were dropped with the column)"
        )
    col = obj.id.name[len(table) + 1 :]
    definition = column_definition(gen, obj).replace(" NOT NULL", "")
    out = [f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {definition}"]
    if obj.get("not null"):
        out.append(f"ALTER TABLE {table} ALTER COLUMN {col} SET NOT NULL")
        gen.notes.append(
            f"{obj.id}: SET NOT NULL fails when the table has rows and the column no default"
        )
    number = obj.extra_text("attnum")
    for sibling in gen.before.children(obj.parent, "constraint", "index"):
        numbers = strings(sibling.extra.get("column numbers"))
        expression = "0" in numbers and mentions(str(sibling.text("definition")), col)
        uses = (number is not None and number in numbers) or expression
        if uses and _columns_back(gen, obj.parent, numbers):
            out += gen.create(sibling)  # else it comes with the last of its columns
    out += gen.comment(obj)
    if "privileges" in obj.attrs:
        out += gen.privileges(obj, None, column=col)
    return out


def _columns_back(gen: Writer, table: ObjectId, numbers: tuple[str, ...]) -> bool:
    """Whether every column (by attnum) a constraint or index uses exists at this point of
    the rollback: it survived the migration, or this rollback recreated it already."""
    if gen.after is None:
        return True
    by_number = {c.extra_text("attnum"): c for c in gen.before.children(table, "column")}
    used = [by_number[n] for n in numbers if n in by_number]
    return all(c.id in gen.created or c.id in gen.after.objects for c in used)


def foreign_options(value: object) -> str:
    """`OPTIONS (key 'value', …)` from pg_foreign_table.ftoptions' `key=value` items."""
    pairs = (str(item).partition("=") for item in strings(value))
    listed = SQL(", ").join(SQL("{} {}").format(Identifier(k), Literal(v)) for k, _, v in pairs)
    return sql("OPTIONS ({})", listed)
