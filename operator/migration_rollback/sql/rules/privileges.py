"""The undo of a GRANT or REVOKE: what its grantees held just before it, given back
(sql/privilege_states.py says how that is known), not the statement flipped whole.

A GRANT's undo revokes only what was not held before (WITH GRANT OPTION of a privilege held
before: only the option, `REVOKE GRANT OPTION FOR`); a REVOKE's grants back only what was held
before, and the column privileges a table-level REVOKE took with it. What the migrations do
not tell (an object they did not make) is a MANUAL item for a REVOKE: granting back what was
never held opens the object, and the verifier's catalog knows the ACL. A GRANT of what they do
not tell is revoked, as the flip always did (revoking what the grant gave is the likely case;
validate's PLATFORM_PRIVILEGE warns of platform privileges).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from pglast.enums.parsenodes import ObjectType

from migration_rollback.sql import kinds
from migration_rollback.sql import platform_grants as platform
from migration_rollback.sql import privilege_states as states
from migration_rollback.sql._ast import ast, make
from migration_rollback.sql.compose import SQL, Identifier, arguments, name_of, sql
from migration_rollback.sql.model import ManualNeed, ObjectRef, Statement
from migration_rollback.sql.names import object_with_args, relation
from migration_rollback.sql.platform_grants import Privilege
from migration_rollback.sql.privilege_states import Held
from migration_rollback.sql.rules.context import Context, Inverse, manual, nothing
from migration_rollback.sql.rules.platform_kept import Flip, kept_note, undo_rest

# option_only -> the flip of one part of the statement (attributes.py builds it); option_only:
# the flip of a GRANT ... WITH GRANT OPTION takes back only the option.
Flips = Callable[[bool], Flip]
# (the table named as the statement names it, its grantee, the privilege with its columns)
# -> the GRANT giving a column privilege back.
ColumnGrant = Callable[[Any, Any, Any], Inverse]

_HELD = "the grantees held this before the migration (an earlier migration or the platform gave it)"
_LACKED = (
    "the grantees did not hold this before the migration (an earlier migration revoked it, or "
    "the object was made without it), or the migrations do not tell (see the MANUAL item): "
    "not granted back"
)


def undo(
    node: Any, st: Statement, ctx: Context, flips: Flips, whole: Inverse, columns: ColumnGrant
) -> Iterator[Inverse]:
    """The undo of a GRANT or REVOKE (or ALTER DEFAULT PRIVILEGES holding one)."""
    grant = platform.grant_of(node)[0]
    prior = states.prior(node, ctx.privileges_here, ctx.history, ctx.default_schema)
    held, options, somewhere = prior.held, prior.options, prior.somewhere
    # ALL flipped would flip MAINTAIN too, where it was so already: named one by one there
    spelled = frozenset(at for at, was in prior.maintain.items() if was is bool(grant.is_grant))
    taken = list(_columns_taken(node, ctx)) if not grant.is_grant else []
    below = ctx.history.privileges if ctx.history else None
    known = (d.ref for d in (ctx.history.definitions.values() if ctx.history else ()))
    states.learn(ctx.privileges_here, node, ctx.default_schema, below, known)
    if not grant.is_grant and not grant.grant_option and grant.objtype not in _FOLLOWED:
        yield _unfollowed_revoke(whole)
    elif not held or states.other_grantor(grant):
        yield whole  # not followed, or another grantor's entry: flipped, GRANTED BY it
    elif not grant.is_grant and grant.grant_option:
        yield from _undo_option_revoke(node, ctx, options, flips)
    elif grant.is_grant:
        yield from _undo_grant(node, ctx, (held, options), flips, whole, (spelled, somewhere))
    else:
        yield from _undo_revoke(node, st, ctx, held, flips, whole, spelled)
    yield from (columns(part, spec, priv) for part, spec, priv in taken)


_FOLLOWED = frozenset(platform.FOLLOWED_KINDS)


def _unfollowed_revoke(whole: Inverse) -> Inverse:
    """A REVOKE on a kind of object whose privileges no migration is followed for (a
    database, a language, a tablespace...): its flip grants what may never have been held
    (`GRANT ALL ON DATABASE postgres TO anon` gives anon CREATE), so a human says what was."""
    return manual(
        ManualNeed.PRIOR_PRIVILEGES,
        "grant back only what the grantees held before the REVOKE (privileges on this kind of "
        f"object are not followed; the REVOKE flipped would be: {whole.sql})",
    )


def _undo_option_revoke(
    node: Any, ctx: Context, options: dict[Privilege, Held], flips: Flips
) -> Iterator[Inverse]:
    """REVOKE GRANT OPTION FOR: the option granted back where it was held, or not known to
    have been (granting it where the privilege was not held would give the privilege too)."""
    lacked = {p for p, was in options.items() if was is False}
    why = "the grantees did not hold the grant option before: nothing to give back"
    yield from undo_rest(node, lacked, ctx, flips(False), why)


def _undo_grant(
    node: Any,
    ctx: Context,
    held_options: tuple[dict[Privilege, Held], dict[Privilege, Held]],
    flips: Flips,
    whole: Inverse,
    spelled_somewhere: tuple[frozenset[tuple[str, str]], set[Privilege]],
) -> Iterator[Inverse]:
    """`spelled_somewhere`: the (place, grantee) pairs whose ALL is named one by one, and what
    an ON ALL ... IN SCHEMA GRANT names that some object it reaches held already."""
    grant = platform.grant_of(node)[0]
    held, options = held_options
    spelled, somewhere = spelled_somewhere
    kept = {p for p, was in held.items() if was}
    if somewhere:
        yield manual(
            ManualNeed.PRIOR_PRIVILEGES,
            "revoke what the GRANT gave only from the objects that lacked it before (some held "
            f"it already): {kept_note(somewhere, 'granted on every object of the schema')}",
        )
    elif not kept and not spelled:
        yield whole
    elif _on_columns(grant):
        yield from _columns_partly(node, kept, held, whole, grant=True)
    else:
        yield from undo_rest(node, kept, ctx, flips(False), f"{_HELD}, kept", spelled)
        if grant.grant_option:
            new = (set(held) - kept) | {p for p in kept if options.get(p)}
            why = (
                "granted here, revoked whole above, or held with the grant option before; of "
                "the rest only the grant option is new"
            )
            yield from undo_rest(node, new, ctx, flips(True), why)


def _undo_revoke(
    node: Any,
    st: Statement,
    ctx: Context,
    held: dict[Privilege, Held],
    flips: Flips,
    whole: Inverse,
    spelled: frozenset[tuple[str, str]],
) -> Iterator[Inverse]:
    grant = platform.grant_of(node)[0]
    left = {p for p, was in held.items() if not was}
    unknown = {p for p, was in held.items() if was is None}
    if not left and not spelled:
        yield whole
    elif _on_columns(grant):
        yield from _columns_partly(node, left, held, whole, grant=False)
    else:
        yield from undo_rest(node, left, ctx, flips(False), _LACKED, spelled)
    yield from _unknown(node, unknown, ctx)


def _unknown(node: Any, unknown: set[Privilege], ctx: Context) -> Iterator[Inverse]:
    """A MANUAL item per object whose grantees' earlier privileges the migrations do not tell
    (named, so the state-aware verifier restores its ACL from the before-state)."""
    grant, defaults = platform.grant_of(node)
    for place, part in platform.places(grant, defaults, ctx.default_schema):
        here = {p for p in unknown if p[0] == place}
        target = _target(grant.objtype, part, ctx.default_schema) if defaults is None else None
        if target is not None and ctx.created_here.has_name(target):
            yield nothing(f"{target.describe()} is new in this migration: its privileges go")
        elif here:
            yield manual(
                ManualNeed.PRIOR_PRIVILEGES,
                "grant back what was held before the REVOKE (the migrations do not make the "
                f"object or do not tell): {kept_note(here, 'revoked')}",
                target,
            )


def _target(objtype: Any, part: Any, default_schema: str) -> ObjectRef | None:
    """The object a part of the statement names (None: a schema, a type, ALL IN SCHEMA)."""
    if isinstance(part, ast.RangeVar):
        return relation(part, default_schema)
    if isinstance(part, ast.ObjectWithArgs):
        kind = "procedure" if objtype == ObjectType.OBJECT_PROCEDURE else "function"
        return object_with_args(part, default_schema, kind)
    return None


def _on_columns(grant: Any) -> bool:
    return any(p.cols for p in grant.privileges or ())


def _columns_partly(
    node: Any, same: set[Privilege], held: dict[Privilege, Held], whole: Inverse, *, grant: bool
) -> Iterator[Inverse]:
    """Column privileges: all already so (nothing to undo), or none (flipped whole); some
    columns only is not split here."""
    if same == set(held):
        yield nothing(kept_note(same, _HELD if grant else _LACKED))
    else:
        yield manual(
            ManualNeed.PRIOR_PRIVILEGES,
            "give the columns back the privileges they had; some had them already: "
            + kept_note(same, _HELD if grant else _LACKED),
        )


def _columns_taken(node: Any, ctx: Context) -> Iterator[tuple[Any, Any, Any]]:
    """The column privileges a table-level REVOKE takes with it: (table, grantee, privilege
    with its columns)."""
    grant, defaults = platform.grant_of(node)
    if defaults is not None or grant.objtype != ObjectType.OBJECT_TABLE:
        return  # only a table's privileges have column ones (a database's has no place here)
    if grant.grant_option or _on_columns(grant):
        return
    names = platform.privilege_names(grant)
    for place, part in platform.places(grant, None, ctx.default_schema):
        for spec in grant.grantees or ():
            who = platform.grantee(spec)
            for name in names:
                cols = states.columns_held(place, who, name, ctx.privileges_here, ctx.history)
                if cols:
                    priv = make(ast.AccessPriv, priv_name=name,
                                cols=tuple(ast.String(sval=c) for c in cols))  # fmt: skip
                    yield part, spec, priv


def recreated_privileges(ref: ObjectRef, ctx: Context) -> Iterator[Inverse]:
    """An object dropped here and recreated from its CREATE gets the default ACL: the
    GRANTs and REVOKEs earlier migrations made on it since are made again."""
    kind = kinds.KINDS.get(ref.kind)
    if ctx.history is None or kind is None or kind.grant_keyword is None:
        return
    if ref.name.lower() in ctx.history.platform_unsure_names:
        yield manual(
            ManualNeed.PRIOR_PRIVILEGES,
            f"give {ref.describe()} back the privileges it had: code the history cannot read "
            "granted or revoked on it",
            ref,
        )
        return
    target = sql("{} {}{}", SQL(kind.grant_keyword), name_of(ref), arguments(ref))
    for (held, who), names in states.recorded(ctx.history.privileges, ref).items():
        verb, to = ("GRANT", "TO") if held else ("REVOKE", "FROM")
        role = SQL("PUBLIC") if who == "public" else Identifier(who)
        text = sql(f"{verb} {{}} ON {{}} {to} {{}}", SQL(", ".join(names)), SQL(target), role)
        yield Inverse(text, notes=("as earlier migrations left it since its CREATE",))
