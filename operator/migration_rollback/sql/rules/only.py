"""`ALTER TABLE ONLY`: how far its undo may reach.

Without ONLY, most ALTER TABLE subcommands recurse into a table's inheritance children and
partitions, so an undo that loses the forward's ONLY changes tables the migration never
touched. The undo keeps ONLY (`Subcommand.prefix`) wherever PostgreSQL accepts it with the same
meaning. Where PostgreSQL refused ONLY in the forward while children existed, the forward met
none and ONLY changed nothing: its undo, run later, goes without ONLY and reaches the tables the
forward would have reached. Elsewhere the table below says why a human must undo it (PostgreSQL
refuses the undo with ONLY, and without it would change the children's own settings).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

from pglast.enums.parsenodes import AlterTableType as AT

from migration_rollback.sql.model import ManualNeed
from migration_rollback.sql.rules.context import Context, Inverse, Subcommand, manual, nothing


class Reach(enum.Enum):
    """What earlier migrations, and this one's statements so far, tell of the tables below
    this one."""

    TABLE = "a table with no children known"
    INHERITED = "an inheritance parent"
    PARTITIONED = "a partitioned table"


def reach(ctx: Context, schema: str, name: str) -> Reach:
    """Earlier migrations know the table by the name it had before this one renamed it (and
    nothing of one this migration dropped and made anew); this one's statements so far, by
    either name."""
    now = (schema, name)
    before = ctx.renamed_relations.get(now)
    known = [(ctx.descent, now)] + ([(ctx.descent, before)] if before else [])
    if ctx.history is not None and (before is not None or now not in ctx.gone_here):
        known.append((ctx.history, before or now))
    if any(key in h.partitioned for h, key in known):
        return Reach.PARTITIONED
    return Reach.INHERITED if any(key in h.parents for h, key in known) else Reach.TABLE


class Undo(enum.Enum):
    """How far the undo of a subcommand written with ONLY reaches."""

    KEEP = "keeps ONLY"
    # PostgreSQL refused ONLY in the forward while the table had children, so it had none and
    # ONLY changed nothing; the undo, run later, may meet children (pg_partman, other
    # migrations) and is refused with ONLY, or leaves them a copy of their own. Without ONLY
    # it reaches the tables the forward would have reached (a child's own column is kept).
    WIDEN = "without ONLY"
    BY_HAND = "by hand"


@dataclass(frozen=True, slots=True)
class Scope:
    """How the undo reaches, and why."""

    undo: Undo
    why: str


def _row(why: str, **by_reach: Scope) -> dict[Reach, Scope]:
    """`why` kept everywhere, but where a reach (by its name) says otherwise."""
    row = dict.fromkeys(Reach, Scope(Undo.KEEP, why))
    row.update({Reach[name.upper()]: scope for name, scope in by_reach.items()})
    return row


def _widen(why: str) -> Scope:
    return Scope(Undo.WIDEN, why)


def _by_hand(why: str) -> Scope:
    return Scope(Undo.BY_HAND, why)


_NO_CHILDREN = "PostgreSQL refuses it with ONLY while the table has children, so it had none"
_NO_PARTITIONS = "PostgreSQL refuses it with ONLY while partitions exist, so it had none"
_MERGES = (
    "the children kept their copy as their own: adding it back with ONLY is refused while "
    "they exist, and without ONLY it merges with theirs"
)

# The forward subcommand (written with ONLY) × what the table is: keep ONLY, drop it, or why
# a human must undo it. Each row is run forward then back on PostgreSQL 15, with a child and
# with one attached after the forward (tests/integration/verify/test_verify_only_scope.py).
ONLY_UNDO: dict[AT, dict[Reach, Scope]] = {
    AT.AT_AddColumn: dict.fromkeys(Reach, _widen(_NO_CHILDREN)),
    AT.AT_AlterColumnType: dict.fromkeys(Reach, _widen(_NO_CHILDREN)),
    AT.AT_DropColumn: _row(
        "the column is added back to the table alone",
        inherited=_by_hand(_MERGES),
        partitioned=_widen(_NO_PARTITIONS),
    ),
    AT.AT_ColumnDefault: _row("the children keep their own defaults"),
    AT.AT_SetNotNull: _row(
        "the children keep their own NOT NULL",
        partitioned=_by_hand(
            "PostgreSQL refuses DROP NOT NULL with ONLY while partitions exist, and without "
            "ONLY it clears the partitions' own NOT NULL"
        ),
    ),
    AT.AT_DropNotNull: _row(
        "the children keep their own NOT NULL", partitioned=_widen(_NO_PARTITIONS)
    ),
    AT.AT_AddConstraint: _row(
        "a constraint added with ONLY has no copy in the children",
        # an inheritance child gets no copy of it (an inheritable CHECK is refused)
        partitioned=_by_hand(
            "ONLY adds the constraint to it alone, for its partitions' own to be attached "
            "afterwards (pg_dump's pattern): dropping it drops every attached one with it"
        ),
    ),
    AT.AT_DropConstraint: _row(
        "the constraint is added back to the table alone",
        inherited=_by_hand(_MERGES),
        partitioned=_widen(_NO_PARTITIONS),
    ),
    AT.AT_EnableTrig: _row("the partitions' triggers keep their own switch"),
    AT.AT_DisableTrig: _row("the partitions' triggers keep their own switch"),
    AT.AT_EnableAlwaysTrig: _row("the partitions' triggers keep their own switch"),
    AT.AT_EnableReplicaTrig: _row("the partitions' triggers keep their own switch"),
    AT.AT_EnableRowSecurity: _row("row level security is each table's own"),
    AT.AT_DisableRowSecurity: _row("row level security is each table's own"),
    AT.AT_ForceRowSecurity: _row("row level security is each table's own"),
    AT.AT_NoForceRowSecurity: _row("row level security is each table's own"),
    AT.AT_AddIdentity: _row("the identity is dropped from the table alone"),
    AT.AT_AttachPartition: _row("ONLY changes nothing in ATTACH or DETACH PARTITION"),
    AT.AT_ValidateConstraint: _row("its undo is no SQL"),
    AT.AT_ChangeOwner: _row("its undo is no SQL on the table"),
    AT.AT_ReplicaIdentity: _row("replica identity is each table's own"),
    AT.AT_SetRelOptions: _row("storage parameters are each table's own"),
    AT.AT_ResetRelOptions: _row("storage parameters are each table's own"),
}


def scope(sub: Subcommand) -> tuple[Reach, Scope | None]:
    """Where the subcommand's table stands, and its row's scope there (None: no row)."""
    where = reach(sub.ctx, sub.schema, sub.rel.name)
    row = ONLY_UNDO.get(sub.cmd.subtype)
    return where, None if row is None else row[where]


def widened(sub: Subcommand) -> Subcommand:
    """The subcommand as its undo is built: without ONLY where the table says so."""
    _, found = scope(sub)
    return replace(sub, only=False) if found is not None and found.undo is Undo.WIDEN else sub


def within(sub: Subcommand, inverses: Iterable[Inverse]) -> Iterator[Inverse]:
    """The undo of a subcommand written with ONLY: as built (with ONLY), or by hand."""
    built = list(inverses)  # all of it: the rule records what this migration did
    where, found = scope(sub)
    if found is None or found.undo is not Undo.BY_HAND or all(i.sql is None for i in built):
        yield from built
        return
    if sub.ctx.is_new(sub.rel):  # refused or reaching too far, but the table goes anyway
        yield nothing(f"{sub.rel.qualified} is new in this migration: dropping it undoes this")
        yield from (i for i in built if i.sql is None)
        return
    what = sub.cmd.subtype.name.removeprefix("AT_")
    yield manual(
        ManualNeed.UNSUPPORTED,
        f"ALTER TABLE ONLY {sub.rel.qualified} {what}, on {where.value}: {found.why}; "
        "undo it by hand",
        sub.rel,
    )
    yield from (i for i in built if i.sql is None)
