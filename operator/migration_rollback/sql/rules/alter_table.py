"""ALTER TABLE (VIEW, INDEX, SEQUENCE…): one inverse builder per subcommand type.

The table below is keyed by pglast's `AlterTableType` and covers every member: a subcommand
has a builder, or is listed as undone by hand (its earlier setting is not in the SQL), or as
one only PostgreSQL itself creates. Settings switched in place (replica identity, a trigger's or
rule's switch, storage parameters, persistence) go back to the state the history followed
(settings.py), and are by hand only where it does not know it. Subcommands are undone in
reverse order, so a statement that adds a column and then a constraint on it drops the
constraint first. A subcommand
written with ONLY is undone with ONLY, or by hand where PostgreSQL would not keep to the same
table (only.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from pglast.enums.parsenodes import AlterTableType as AT

from migration_rollback.sql import kinds
from migration_rollback.sql._ast import ast
from migration_rollback.sql.compose import SQL, Identifier, name_of
from migration_rollback.sql.created import constraint_name
from migration_rollback.sql.history_observers import learn_subcommand
from migration_rollback.sql.model import ManualNeed, ObjectRef, Statement
from migration_rollback.sql.rules import columns, only, settings, trigger_switches
from migration_rollback.sql.rules.attributes import owner_back
from migration_rollback.sql.rules.context import (
    Context,
    Inverse,
    Subcommand,
    SubRule,
    by_hand,
    drop,
    manual,
    nothing,
    renamed_manual,
)
from migration_rollback.sql.rules.search_path import lookup
from migration_rollback.sql.settings import OWNED_RELATIONS, role_named


def alter_table(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    rel = lookup(ctx).relation(node.relation)
    kind = kinds.relation_of_type(node.objtype)
    if_exists, alone = bool(node.missing_ok), not node.relation.inh  # alone: ONLY
    subs = [Subcommand(cmd, rel, kind, if_exists, ctx, alone) for cmd in node.cmds or ()]
    if alone:  # some undo reach further than ONLY: where it changed nothing (only.py)
        subs = [only.widened(sub) for sub in subs]
    for sub in subs:
        if sub.cmd.subtype in _DESCENT:  # a child or partition from here on (only.py)
            learn_subcommand(ctx.descent, (sub.schema, rel.name), sub.cmd, ctx.default_schema)
    pieces = [list(RULES[sub.cmd.subtype](sub)) for sub in subs]
    if alone:  # kept to the same table, or by hand (only.py)
        pieces = [list(only.within(sub, piece)) for sub, piece in zip(subs, pieces, strict=True)]
    for piece in reversed(pieces):
        yield from piece


_DESCENT = frozenset({AT.AT_AddInherit, AT.AT_AttachPartition})


def _add_constraint(sub: Subcommand) -> Iterator[Inverse]:
    if not isinstance(sub.cmd.def_, ast.Constraint):
        yield from by_hand(sub)
        return
    name = constraint_name(
        sub.rel.name, sub.cmd.def_, taken=partial(sub.ctx.constraint_taken, sub.schema)
    )
    derived = f"constraint name {name} derived as PostgreSQL names it"
    notes = () if sub.cmd.def_.conname else (derived,)
    sub.ctx.created_here.add(ObjectRef("constraint", name, sub.schema, table=sub.rel.name))
    sub.ctx.constraints_here.add((sub.schema, name))
    yield sub.undo(AT.AT_DropConstraint, name, notes)


def _drop_constraint(sub: Subcommand) -> Iterator[Inverse]:
    name = sub.cmd.name
    ref = ObjectRef("constraint", str(name), sub.schema, table=sub.rel.name)
    previous = sub.ctx.previous(ref)
    sub.ctx.dropped_here.add(ref.key)
    if sub.ctx.history is not None and sub.ctx.history.knows(ref):
        sub.ctx.constraint_dropped(ref)
    fragment = previous if previous is not None and not previous.is_statement else None
    renamed = sub.ctx.renamed_since(fragment) if fragment is not None else None
    if fragment is not None and renamed is not None:
        yield renamed_manual(ManualNeed.RECREATE_DROPPED, ref, fragment, renamed)
    elif fragment is not None:
        if fragment.node.indexname:  # USING INDEX: the index went with it; made again first
            sub.ctx.gone_here.add((sub.schema, str(name)))
            yield _index_again(sub, str(name))
        # Unnamed as written, it is named as it was: added now, PostgreSQL might choose another.
        named = SQL("") if fragment.node.conname else SQL("CONSTRAINT {} ").format(Identifier(name))
        yield Inverse(
            sub.statement("ADD {}{}", named, SQL(fragment.text)),
            notes=(f"recreates constraint {name} from {fragment.statement.location}",),
            recreates=ref,
        )
    else:
        yield manual(ManualNeed.RECREATE_DROPPED, _dropped_unknown(sub, str(name)), ref)


def _dropped_unknown(sub: Subcommand, name: str) -> str:
    """What a human is told of a dropped constraint the history has no text of: one no
    earlier migration made, dropped IF EXISTS, was there only if made outside them."""
    what = f"constraint {name} on {sub.rel.qualified}"
    if sub.cmd.missing_ok and sub.ctx.history is not None:
        return (f"{what}: no earlier migration made it, so DROP … IF EXISTS may have dropped "
                "nothing; if it was there (made outside the migrations), recreate it")  # fmt: skip
    return f"{what} was dropped; recreate it"


def _index_again(sub: Subcommand, name: str) -> Inverse:
    """The index a constraint took over (ADD CONSTRAINT ... USING INDEX, which names it as
    the constraint), from its CREATE INDEX: dropping the constraint dropped it, and the
    constraint is added back over it."""
    from migration_rollback.sql.inverse import recreate

    return recreate(ObjectRef("index", name, sub.schema), sub.ctx, cascade=False)


@dataclass(frozen=True, slots=True)
class _Switch:
    """A row level security switch: its opposite, and the history's record of the flag."""

    back: AT
    flag: str  # the History map of the flag per table (absent: not known)
    sets: bool  # whether the subcommand turns the flag on
    words: str  # what the flag is called in a reason


_RLS: dict[AT, _Switch] = {
    AT.AT_EnableRowSecurity: _Switch(AT.AT_DisableRowSecurity, "rls_enabled", True, "enabled"),
    AT.AT_DisableRowSecurity: _Switch(AT.AT_EnableRowSecurity, "rls_enabled", False, "enabled"),
    AT.AT_ForceRowSecurity: _Switch(AT.AT_NoForceRowSecurity, "rls_forced", True, "forced"),
    AT.AT_NoForceRowSecurity: _Switch(AT.AT_ForceRowSecurity, "rls_forced", False, "forced"),
}


def _row_security(sub: Subcommand) -> Iterator[Inverse]:
    """Back to the switch the history followed; by hand where it does not know it (a table
    made in the dashboard, which enables RLS by default, or switched in a DO block): the
    opposite switch would guess "off" and could open the table to every role."""
    switch, history = _RLS[sub.cmd.subtype], sub.ctx.history
    table = sub.ctx.table_before(sub.schema, sub.rel.name)  # None: made here, nothing known
    before = getattr(history, switch.flag).get(table) if history and table else None
    if settings.new_here(sub):
        yield sub.undo(switch.back)  # made off; dropping it undoes the rest
    elif before is None:
        yield manual(
            ManualNeed.PRIOR_ROW_SECURITY,
            f"row level security of {sub.rel.qualified} was switched and earlier migrations "
            f"do not say whether it was {switch.words} before (RLS may have been on): set it "
            "back as it was",
            sub.rel,
        )
    elif before == switch.sets:
        yield nothing(f"row level security on {sub.rel.qualified} was already so")
    else:
        yield sub.undo(switch.back)


def _add_identity(sub: Subcommand) -> Iterator[Inverse]:
    yield sub.undo(AT.AT_DropIdentity, str(sub.cmd.name))


def _change_owner(sub: Subcommand) -> Iterator[Inverse]:
    if sub.kind.name == "index":
        # PostgreSQL warns and changes nothing (an index is owned with its table).
        yield nothing(f"index {sub.rel.qualified} has no owner of its own; nothing changed")
        return
    ref = ObjectRef(sub.kind.name, sub.rel.name, sub.schema)
    prior = None
    if sub.kind.object_type in OWNED_RELATIONS and sub.ctx.history is not None:
        table = sub.ctx.table_before(sub.schema, sub.rel.name)
        prior = sub.ctx.history.relation_owners.get(table) if table else None

    def back(owner: str) -> Inverse:
        return Inverse(sub.statement("OWNER TO {}", Identifier(owner)),
                       notes=(f"the owner an earlier migration gave it: {owner}",))  # fmt: skip

    yield from owner_back(ref, sub.ctx, prior, role_named(sub.cmd.newowner), back)


def _validate(sub: Subcommand) -> Iterator[Inverse]:
    """A constraint an earlier migration added NOT VALID is valid now; only dropping it and
    adding it NOT VALID again makes it so (no row is checked, none lost). One made here, or
    not known, needs nothing."""
    ref = ObjectRef("constraint", str(sub.cmd.name), sub.schema, table=sub.rel.name)
    previous = None if ref in sub.ctx.created_here else sub.ctx.previous(ref)
    fragment = previous if previous is not None and not previous.is_statement else None
    if fragment is None or not fragment.node.skip_validation:
        yield nothing("validating a constraint needs no undo")
        return
    renamed = sub.ctx.renamed_since(fragment)
    if renamed is not None:
        yield renamed_manual(ManualNeed.PRIOR_DEFINITION, ref, fragment, renamed)
        return
    yield sub.undo(AT.AT_DropConstraint, ref.name)
    yield Inverse(
        sub.statement("ADD {}", SQL(fragment.text)),
        notes=(f"adds constraint {ref.name} NOT VALID again, as {fragment.statement.location}",),
    )


def _attach_partition(sub: Subcommand) -> Iterator[Inverse]:
    part = sub.cmd.def_.name if isinstance(sub.cmd.def_, ast.PartitionCmd) else None
    if part is None:
        yield manual(ManualNeed.UNSUPPORTED, "detach the partition attached here")
        return
    if sub.kind.name == "index":
        yield _index_attached(sub, lookup(sub.ctx).relation(part, "index"))
        return
    partition = name_of(lookup(sub.ctx).relation(part))  # found along the path
    yield Inverse(sub.statement("DETACH PARTITION {}", partition))


def _add_inherit(sub: Subcommand) -> Iterator[Inverse]:
    """INHERIT p: PostgreSQL took it only because the table already had every column and
    CHECK of p as its own, and NO INHERIT leaves them its own: the table as it was."""
    if not isinstance(sub.cmd.def_, ast.RangeVar):
        yield from by_hand(sub)
        return
    parent = name_of(lookup(sub.ctx).relation(sub.cmd.def_))
    yield Inverse(sub.statement("NO INHERIT {}", parent))


def _index_attached(sub: Subcommand, part: ObjectRef) -> Inverse:
    """PostgreSQL has no DETACH PARTITION for an index: an attached index goes only with its
    parent, which drops it too. When both are new here, dropping the parent first is their
    undo (the later DROP INDEX IF EXISTS of each then finds nothing)."""
    parent = ObjectRef("index", sub.rel.name, sub.schema)
    if sub.ctx.is_new(parent) and sub.ctx.is_new(part):
        note = f"drops index {part.qualified} with it (an attached index cannot be detached)"
        return drop(parent, notes=(note,))
    return manual(
        ManualNeed.UNSUPPORTED,
        f"index {part.qualified} was attached to {parent.qualified}: PostgreSQL cannot detach "
        "it, and drops it only with its parent (or the parent's constraint); undo by hand",
        parent,
    )


# Subcommands whose earlier setting neither the forward SQL nor the history (settings.py
# follows some) says: a human restores it.
BY_HAND = frozenset({
    AT.AT_SetExpression, AT.AT_DropExpression, AT.AT_SetStatistics, AT.AT_SetOptions,
    AT.AT_ResetOptions, AT.AT_SetStorage, AT.AT_SetCompression, AT.AT_AlterConstraint,
    AT.AT_AlterColumnGenericOptions, AT.AT_ClusterOn, AT.AT_DropCluster,
    AT.AT_DropOids, AT.AT_SetAccessMethod, AT.AT_SetTableSpace,
    AT.AT_DropInherit, AT.AT_AddOf, AT.AT_DropOf,
    AT.AT_GenericOptions, AT.AT_DetachPartition, AT.AT_DetachPartitionFinalize,
    AT.AT_SetIdentity, AT.AT_DropIdentity,
})  # fmt: skip

# Subcommands PostgreSQL makes for itself while executing others; no migration writes them.
INTERNAL = frozenset({
    AT.AT_AddColumnToView, AT.AT_CookedColumnDefault, AT.AT_AddIndex, AT.AT_ReAddIndex,
    AT.AT_ReAddConstraint, AT.AT_ReAddDomainConstraint, AT.AT_AddIndexConstraint,
    AT.AT_ReAddComment, AT.AT_ReplaceRelOptions, AT.AT_ReAddStatistics,
})  # fmt: skip


def _rules() -> dict[AT, SubRule]:
    built: dict[AT, SubRule] = {
        AT.AT_AddColumn: columns.add_column,
        AT.AT_DropColumn: columns.drop_column,
        AT.AT_AlterColumnType: columns.alter_type,
        AT.AT_ColumnDefault: columns.set_default,
        AT.AT_SetNotNull: columns.nullability,
        AT.AT_DropNotNull: columns.nullability,
        AT.AT_AddConstraint: _add_constraint,
        AT.AT_DropConstraint: _drop_constraint,
        AT.AT_ValidateConstraint: _validate,
        AT.AT_AddIdentity: _add_identity,
        AT.AT_ChangeOwner: _change_owner,
        AT.AT_AttachPartition: _attach_partition,
        AT.AT_AddInherit: _add_inherit,
    }
    built.update(dict.fromkeys(_RLS, _row_security))
    built.update(settings.FOLLOWED)
    built.update(dict.fromkeys(trigger_switches.BACK, trigger_switches.every_trigger))
    built.update(dict.fromkeys(BY_HAND | INTERNAL, by_hand))
    return built


RULES: dict[AT, SubRule] = _rules()
