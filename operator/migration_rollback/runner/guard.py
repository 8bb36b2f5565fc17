"""The safety belt against data loss nobody announced: compare tables and columns before/after.

The static classification of the rollback SQL cannot see everything: `DROP TYPE ... CASCADE`
drops columns of that type, `DROP SCHEMA ... CASCADE` drops tables that later migrations put
there, a `DO` block can drop anything. So, inside the transaction and before COMMIT, the runner
compares the catalog as it was with the catalog as it is, by object identity (oid, attnum),
which survives renames and moves to the archive schema. Pure: the snapshots are plain data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class RelationState:
    """A table, partitioned table or sequence, with its live columns by attnum."""

    oid: int
    schema: str
    name: str
    relkind: str
    columns: Mapping[int, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        kind = "sequence" if self.relkind == "S" else "table"
        return f"{kind} {self.schema}.{self.name}"


Snapshot = Mapping[int, RelationState]


def snapshot_of(states: Iterable[RelationState]) -> dict[int, RelationState]:
    return {state.oid: state for state in states}


def lost_data(
    before: Snapshot, after: Snapshot, copied_columns: Iterable[tuple[int, int]] = ()
) -> list[str]:
    """What existed before and is gone now without a copy: tables, sequences, columns.

    `after` must include the archive schema, so archived tables (same oid) count as kept;
    columns copied to the archive before their drop are in `copied_columns` as (oid, attnum).
    """
    copied = set(copied_columns)
    lost: list[str] = []
    for oid, old in sorted(before.items(), key=lambda item: (item[1].schema, item[1].name)):
        new = after.get(oid)
        if new is None:
            lost.append(old.label)
            continue
        for attnum, column in sorted(old.columns.items()):
            if attnum not in new.columns and (oid, attnum) not in copied:
                lost.append(f"column {old.schema}.{old.name}.{column}")
    return lost
