"""`ALTER TABLE ONLY`: how far its undo may reach.

Without ONLY, most ALTER TABLE subcommands recurse into a table's inheritance children and
partitions, so an undo that loses the forward's ONLY changes tables the migration never
touched. The undo keeps ONLY (`Subcommand.prefix`), which is right wherever PostgreSQL accepts
it with the same meaning. Where it does not, the table below says why and the undo is left to
a human: PostgreSQL refuses ONLY for some subcommands while children exist (the forward ran, so
it met no refusal, but its undo may), and on a partitioned table ONLY builds pg_dump's
parent-alone constraint that partitions are attached to afterwards. Each row was checked on
PostgreSQL 15; the unit cases of tests/unit/sql/test_only_scope.py cover every one.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from pglast.enums.parsenodes import AlterTableType as AT

from migration_rollback.sql.history import History
from migration_rollback.sql.model import ManualNeed
from migration_rollback.sql.rules.context import Inverse, Subcommand, manual


class Reach(enum.Enum):
    """What earlier migrations tell of the tables below this one."""

    TABLE = "a table with no children known"
    INHERITED = "an inheritance parent"
    PARTITIONED = "a partitioned table"


def reach(history: History | None, schema: str, name: str) -> Reach:
    if history is None:
        return Reach.TABLE
    if (schema, name) in history.partitioned:
        return Reach.PARTITIONED
    return Reach.INHERITED if (schema, name) in history.parents else Reach.TABLE


@dataclass(frozen=True, slots=True)
class Scope:
    """Whether the undo keeps ONLY (else a human undoes it), and why."""

    kept: bool
    why: str


def _everywhere(why: str) -> dict[Reach, Scope]:
    return dict.fromkeys(Reach, Scope(True, why))


def _table_only(*, inherited: str | None, partitioned: str | None, why: str) -> dict[Reach, Scope]:
    """Kept on a table without children; by hand where a reason is given."""
    row = _everywhere(why)
    for where, refused in ((Reach.INHERITED, inherited), (Reach.PARTITIONED, partitioned)):
        if refused is not None:
            row[where] = Scope(False, refused)
    return row


_NO_CHILDREN = "PostgreSQL refuses it with ONLY while the table has children, so it had none"
_MERGES = (
    "the children kept their copy as their own: adding it back with ONLY is refused while "
    "they exist, and without ONLY it merges with theirs"
)

# The forward subcommand (written with ONLY) × what the table is: keep ONLY, or why not.
ONLY_UNDO: dict[AT, dict[Reach, Scope]] = {
    AT.AT_AddColumn: _everywhere(_NO_CHILDREN),
    AT.AT_AlterColumnType: _everywhere(_NO_CHILDREN),
    AT.AT_DropColumn: _table_only(
        inherited=_MERGES,
        partitioned=None,  # refused while partitions exist: there were none
        why="the column is added back to the table alone",
    ),
    AT.AT_ColumnDefault: _everywhere("the children keep their own defaults"),
    AT.AT_SetNotNull: _everywhere("the children keep their own NOT NULL"),
    AT.AT_DropNotNull: _everywhere("the children keep their own NOT NULL"),
    AT.AT_AddConstraint: _table_only(
        inherited=None,  # a child gets no copy of it (an inheritable CHECK is refused)
        partitioned=(
            "ONLY adds the constraint to it alone, for its partitions' own to be attached "
            "afterwards (pg_dump's pattern): dropping it drops every attached one with it"
        ),
        why="a constraint added with ONLY has no copy in the children",
    ),
    AT.AT_DropConstraint: _table_only(
        inherited=_MERGES,
        partitioned=(
            "added back to the partitioned table alone, its partitions' constraints are not "
            "attached to it (and a CHECK is refused while partitions exist)"
        ),
        why="the constraint is added back to the table alone",
    ),
    AT.AT_EnableTrig: _everywhere("the partitions' triggers keep their own switch"),
    AT.AT_DisableTrig: _everywhere("the partitions' triggers keep their own switch"),
    AT.AT_EnableRowSecurity: _everywhere("row level security is each table's own"),
    AT.AT_DisableRowSecurity: _everywhere("row level security is each table's own"),
    AT.AT_ForceRowSecurity: _everywhere("row level security is each table's own"),
    AT.AT_NoForceRowSecurity: _everywhere("row level security is each table's own"),
    AT.AT_AddIdentity: _everywhere("the identity is dropped from the table alone"),
    AT.AT_AttachPartition: _everywhere("ONLY changes nothing in ATTACH or DETACH PARTITION"),
    AT.AT_ValidateConstraint: _everywhere("its undo is no SQL"),
    AT.AT_ChangeOwner: _everywhere("its undo is no SQL on the table"),
    AT.AT_ReplicaIdentity: _everywhere("its undo is no SQL"),
}


def within(sub: Subcommand, inverses: Iterable[Inverse]) -> Iterator[Inverse]:
    """The undo of a subcommand written with ONLY: as built (with ONLY), or by hand."""
    built = list(inverses)  # all of it: the rule records what this migration did
    row = ONLY_UNDO.get(sub.cmd.subtype)
    where = reach(sub.ctx.history, sub.schema, sub.rel.name)
    if row is None or row[where].kept or all(i.sql is None for i in built):
        yield from built
        return
    what = sub.cmd.subtype.name.removeprefix("AT_")
    yield manual(
        ManualNeed.UNSUPPORTED,
        f"ALTER TABLE ONLY {sub.rel.qualified} {what}, on {where.value}: {row[where].why}; "
        "undo it by hand",
        sub.rel,
    )
    yield from (i for i in built if i.sql is None)
