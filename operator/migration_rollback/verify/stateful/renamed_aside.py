"""A table renamed aside and dropped later in the same migration (a backup copy made while a
new table takes its name: `ALTER TABLE t RENAME TO t_bkp; CREATE TABLE t …; DROP TABLE t_bkp`).

The undo of the DROP comes first in the rollback, while the new `t` still stands: the table
is recreated from the before-state's `t` under the backup's name (columns, owned sequences,
CHECK and foreign-key constraints, whose names are the table's own), so that the undo of the
rename takes it back to `t`. Its indexes (and the constraints an index backs), whose names
are the schema's, come back with the undo of the statements that dropped them (the migration
had to drop them before the new table could take their names).
Part of the state-aware rollbacks; pure, no database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from migration_rollback.verify.snapshot import SnapshotObject
from migration_rollback.verify.stateful.columns import column_definition

if TYPE_CHECKING:
    from migration_rollback.verify.stateful.ddl import Writer


def table_renamed_aside(gen: Writer, original: SnapshotObject, name: str) -> list[str]:
    """SQL recreating `original` (a before-state table) under the name `name`."""
    gen.data_loss.append(f"{original.id}: recreated empty (its backup was dropped)")
    was = original.id.name
    columns = sorted(
        gen.before.children(original.id, "column"),
        key=lambda c: int(str(c.get("position") or 0)),
    )
    owned = [
        s
        for s in gen.before.of_kind("sequence")
        if str(s.text("owned by") or "").startswith(was + ".") and not s.extra.get("identity")
    ]
    out: list[str] = []
    for seq in owned:
        out += gen.create(seq)
    body = ",\n  ".join(column_definition(gen, c) for c in columns)
    out.append(f"CREATE TABLE {name} (\n  {body}\n)")
    for seq in owned:
        column = str(seq.text("owned by"))[len(was) + 1 :]
        out.append(f"ALTER SEQUENCE {seq.id.name} OWNED BY {name}.{column}")
    for constraint in gen.before.children(original.id, "constraint"):
        if constraint.get("type") in ("check", "foreign key"):
            member = constraint.id.name[len(was) + 1 :]
            definition = constraint.text("definition")
            out.append(f"ALTER TABLE {name} ADD CONSTRAINT {member} {definition}")
            gen.created.add(constraint.id)
    return out
