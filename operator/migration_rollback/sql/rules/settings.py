"""ALTER TABLE subcommands that switch a setting in place (settings.py): REPLICA IDENTITY, a
trigger's or rule's ENABLE / DISABLE / ENABLE ALWAYS / ENABLE REPLICA, SET / RESET (storage
parameters), SET LOGGED / UNLOGGED.

Each is undone to the state the table had before this migration, read from the history by
the name the table had then; nothing when it was already so. Where the history does not know
that state (a table made outside the migrations, a trigger it never saw created, a change it
could not follow), the undo is a MANUAL item saying so: the opposite switch would be a guess.
Every undo restores the state before the migration, so a migration that switches a setting
twice is undone whatever order its undos run in.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pglast.enums.parsenodes import AlterTableType as AT

from migration_rollback.sql import kinds
from migration_rollback.sql._ast import ast
from migration_rollback.sql.compose import (
    SQL,
    Identifier,
    Literal,
    arguments,
    name_of,
    qualified,
    sql,
)
from migration_rollback.sql.history import History, TableKey
from migration_rollback.sql.model import ManualNeed, ObjectRef
from migration_rollback.sql.names import deparse, table_key
from migration_rollback.sql.rules.context import (
    Context,
    Inverse,
    Subcommand,
    SubRule,
    manual,
    nothing,
)
from migration_rollback.sql.rules.only import Reach, reach
from migration_rollback.sql.settings import (
    LOGGED,
    OPTIONS_SET,
    RULE_BACK,
    RULE_SWITCH,
    SWITCH_BACK,
    TRIGGER_SWITCH,
    Fires,
    Options,
    bare,
    identity_set,
    options_back,
    view_options,
)


def _known(sub: Subcommand, field: str) -> Any:
    """What the history holds in `field` for the table as it was named before this migration
    (None: nothing, or the table was dropped or renamed away and made anew here)."""
    key: TableKey | None = sub.ctx.table_before(sub.schema, sub.rel.name)
    history = sub.ctx.history
    return None if history is None or key is None else getattr(history, field).get(key)


def replica_identity(sub: Subcommand) -> Iterator[Inverse]:
    before = _known(sub, "replica_identity")
    if new_here(sub):
        yield nothing("the table is new in this migration")
    elif before is None:
        yield manual(
            ManualNeed.PRIOR_REPLICA_IDENTITY,
            f"replica identity of {sub.rel.qualified} changed and earlier migrations do not "
            "say what it was; set the previous one back",
            sub.rel,
        )
    elif before == identity_set(sub.cmd):
        yield nothing(f"replica identity of {sub.rel.qualified} was already {before.words}")
    else:
        note = f"replica identity {before.words}, as earlier migrations left it"
        yield Inverse(sub.statement("REPLICA IDENTITY {}", SQL(before.words)), notes=(note,))


@dataclass(frozen=True, slots=True)
class _Member:
    """A table's members whose switch the history follows: triggers or rules."""

    kind: str  # ObjectRef kind
    field: str  # the History map of their switches
    sets: dict[AT, Fires]  # what each subcommand switches to
    back: dict[Fires, AT]  # the subcommand switching back to each
    recurses: bool  # without ONLY, onto the partitions' clones


_MEMBERS = (
    _Member("trigger", "triggers", TRIGGER_SWITCH, SWITCH_BACK, recurses=True),
    _Member("rule", "rules", RULE_SWITCH, RULE_BACK, recurses=False),
)
_MEMBER_OF: dict[AT, _Member] = {at: m for m in _MEMBERS for at in m.sets}


def member_switch(sub: Subcommand) -> Iterator[Inverse]:
    member, name = _MEMBER_OF[sub.cmd.subtype], str(sub.cmd.name)
    ref = ObjectRef(member.kind, name, sub.schema, table=sub.rel.name)
    was = sub.ctx.was_named(ref)
    before = (_known(sub, member.field) or {}).get(was.name if was is not None else name)
    where = f"{member.kind} {name} on {sub.rel.qualified}"
    if new_here(sub) or sub.ctx.is_new(ref):
        yield nothing(f"{where} is new in this migration")
    elif before is None:
        yield _unknown(sub, f"{where} was switched and earlier migrations do not say how it fired")
    elif member.recurses and not sub.only and _partitioned(sub):
        yield _unknown(
            sub, f"{where} was switched on the partitions' clones too, whose switches earlier "
            "migrations do not tell",
        )  # fmt: skip
    elif before is member.sets[sub.cmd.subtype]:
        yield nothing(f"{where} already fired so ({before.name})")
    else:
        note = f"the {member.kind} fired {before.name} before, as earlier migrations left it"
        yield sub.undo(member.back[before], name, (note,))


def _partitioned(sub: Subcommand) -> bool:
    return reach(sub.ctx, sub.schema, sub.rel.name) is Reach.PARTITIONED


def persistence(sub: Subcommand) -> Iterator[Inverse]:
    """SET LOGGED / UNLOGGED (the table's sequences follow it, both ways)."""
    before, sets = _known(sub, "logged"), LOGGED[sub.cmd.subtype]
    if new_here(sub):
        yield nothing(f"{sub.rel.qualified} is new in this migration")
    elif before is None:
        yield _unknown(sub, f"{sub.rel.qualified} was made elsewhere: logged or not")
    elif before == sets:
        yield nothing(f"{sub.rel.qualified} was already {'logged' if sets else 'unlogged'}")
    else:
        yield sub.undo(AT.AT_SetLogged if before else AT.AT_SetUnLogged)


def rel_options(sub: Subcommand) -> Iterator[Inverse]:
    before = _known(sub, "reloptions")
    if new_here(sub):
        yield nothing(f"{sub.rel.qualified} is new in this migration")
    elif before is None:
        yield _unknown(sub, f"the parameters of {sub.rel.qualified} changed and earlier "
                       "migrations do not say what they were")  # fmt: skip
    else:
        again, reset = options_back(before, sub.cmd)
        note = "the parameters as earlier migrations left them"
        for subtype, elems in ((AT.AT_SetRelOptions, again), (AT.AT_ResetRelOptions, reset)):
            if elems:
                yield Inverse(_options_statement(sub, subtype, elems), notes=(note,))


def _options_statement(sub: Subcommand, subtype: AT, elems: tuple[Any, ...]) -> str:
    """`ALTER <kind> [IF EXISTS] [ONLY] <table> SET (...)` or `RESET (...)`, printed from its
    tree (the safety belt parses it back)."""
    tree = _options_tree(sub.rel, sub.kind.name, subtype, elems, sub.only, sub.if_exists)
    return deparse(tree)


def _options_tree(
    rel: ObjectRef, kind: str, subtype: AT, elems: tuple[Any, ...], only: bool, if_exists: bool
) -> Any:
    name = ast.RangeVar(schemaname=rel.schema, relname=rel.name, inh=not only,
                        relpersistence="p")  # fmt: skip
    cmd = ast.AlterTableCmd(subtype=subtype, def_=elems)
    object_type = kinds.KINDS[kind].object_type
    return ast.AlterTableStmt(relation=name, cmds=(cmd,), objtype=object_type, missing_ok=if_exists)


def new_here(sub: Subcommand) -> bool:
    """The relation was made by this migration (a view or materialized view too: ALTER TABLE
    names any relation, the context keys it by its kind)."""
    return sub.table_is_new or sub.ctx.created_here.has_name(sub.rel)


def _unknown(sub: Subcommand, why: str) -> Inverse:
    return manual(ManualNeed.UNSUPPORTED, f"{why}: undo it by hand", sub.rel)


# --- an object recreated from its earlier text ----------------------------------------------

# How a trigger is switched back after CREATE [OR REPLACE] TRIGGER left it on origin.
_SWITCH_WORDS: dict[Fires, str] = {
    Fires.DISABLED: "DISABLE",
    Fires.ALWAYS: "ENABLE ALWAYS",
    Fires.REPLICA: "ENABLE REPLICA",
}


def recreated_settings(ref: ObjectRef, previous: Any, ctx: Context) -> Iterator[Inverse]:
    """What recreating `ref` from `previous` (the earlier migration's statement) leaves out of
    the state the history followed since: a trigger's switch (the CREATE leaves it on
    origin), a view's parameters (SET / RESET after its CREATE)."""
    history, tree = ctx.history, getattr(previous, "tree", None)
    if history is None or ref.schema is None:
        return
    if ref.kind in ("trigger", "rule") and ref.table is not None:
        switches = history.triggers if ref.kind == "trigger" else history.rules
        fires = switches.get((ref.schema, ref.table), {}).get(ref.name)
        if fires in _SWITCH_WORDS:
            on, name = qualified(ref.schema, ref.table), Identifier(ref.name)
            what = SQL(f"{_SWITCH_WORDS[fires]} {ref.kind.upper()}")
            text = sql("ALTER TABLE {} {} {}", on, what, name)
            yield Inverse(text, notes=(f"the {ref.kind} fired {fires.name} before",))
    elif ref.kind == "view" and isinstance(tree, ast.ViewStmt):
        yield from _parameters_since(ref, view_options(tree), history)


def recreated_attributes(ref: ObjectRef, ctx: Context) -> Iterator[Inverse]:
    """The owner and comment earlier migrations gave an object dropped here and recreated
    from its CREATE (which leaves it owned by whoever runs the rollback, uncommented)."""
    history, kind = ctx.history, kinds.KINDS.get(ref.kind)
    if history is None or kind is None or ref.table is not None or ref.column is not None:
        return
    target = sql("{} {}{}", SQL(kind.keyword), name_of(ref), arguments(ref))
    owner = history.relation_owners.get(table_key(ref)) if kind.relation else history.owner(ref)
    if owner is not None:
        note = f"the owner an earlier migration gave it: {owner}"
        yield Inverse(sql("ALTER {} OWNER TO {}", SQL(target), Identifier(owner)), notes=(note,))
    known, text = history.comment(ref)
    if known and text is not None:
        note = "the comment an earlier migration gave it"
        yield Inverse(sql("COMMENT ON {} IS {}", SQL(target), Literal(text)), notes=(note,))


def _parameters_since(ref: ObjectRef, written: Options, history: History) -> Iterator[Inverse]:
    """SET / RESET from the parameters `written` to those the history followed since."""
    since = history.reloptions.get(table_key(ref))
    if since is None or (
        since.keys() == written.keys()
        and all(deparse(since[k]) == deparse(written[k]) for k in since)
    ):
        return
    again = tuple(since.values())
    reset = tuple(bare(written[k]) for k in written if k not in since)
    note = "the parameters earlier migrations set after its CREATE"
    for subtype, elems in ((AT.AT_SetRelOptions, again), (AT.AT_ResetRelOptions, reset)):
        if elems:
            tree = _options_tree(ref, "view", subtype, elems, only=False, if_exists=False)
            yield Inverse(deparse(tree), notes=(note,))


# The subcommands undone here, each to the state the history knows (rules/alter_table.py).
FOLLOWED: dict[AT, SubRule] = {
    AT.AT_ReplicaIdentity: replica_identity,
    **dict.fromkeys(_MEMBER_OF, member_switch),
    **dict.fromkeys(LOGGED, persistence),
    **dict.fromkeys(OPTIONS_SET, rel_options),
}
