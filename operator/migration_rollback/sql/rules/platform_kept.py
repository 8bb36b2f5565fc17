"""The undo of a GRANT or REVOKE that changed only some of what it names: it flips only the
rest (sql/privilege_states.py says what each grantee held before; platform_grants.py what the
platform grants).

The forward statement is cut along what it names: one flipped statement per object (or per role
and schema of ALTER DEFAULT PRIVILEGES) and set of privileges left, to the grantees that set is
left for; the privileges the grantees already had (a GRANT) or already lacked (a REVOKE) are
named in a note, never flipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from migration_rollback.sql import platform_grants as platform
from migration_rollback.sql._ast import ast, make
from migration_rollback.sql.platform_grants import Privilege
from migration_rollback.sql.rules.context import Context, Inverse, nothing

# (the part of the GRANT: an object, or a role and schema; its grantees; its privileges, None:
# ALL; the options of ALTER DEFAULT PRIVILEGES) -> its undo, as the caller builds it
# (attributes.py: the opposite verb, never CASCADE).
Flip = Callable[[Any, tuple[Any, ...], Any, Any], Inverse]


def undo_rest(
    node: Any,
    kept: set[Privilege],
    ctx: Context,
    flip: Flip,
    why: str,
    spelled: frozenset[tuple[str, str]] = frozenset(),
) -> Iterator[Inverse]:
    """A note of what stays and `why`, then the flips of the rest (none when all stays). ALL
    is flipped as ALL but for the (place, grantee) pairs `spelled`: their privileges named
    one by one (what ALL means beyond them, MAINTAIN, is left as it was)."""
    grant, defaults = platform.grant_of(node)
    if kept:
        yield nothing(kept_note(kept, why))
    names = platform.privilege_names(grant)
    for place, part in platform.places(grant, defaults, ctx.default_schema):
        for (left, spell), grantees in _left_by_grantee(grant, place, names, kept, spelled).items():
            privileges = grant.privileges if left == names and not spell else _privileges(left)
            yield flip(part, tuple(grantees), privileges, defaults)


def _left_by_grantee(
    grant: Any,
    place: str,
    names: tuple[str, ...],
    kept: set[Privilege],
    spelled: frozenset[tuple[str, str]],
) -> dict[tuple[tuple[str, ...], bool], list[Any]]:
    """(The privileges left to flip at `place`, whether spelled out) -> the grantees they are
    left for (in the statement's order)."""
    out: dict[tuple[tuple[str, ...], bool], list[Any]] = {}
    for spec in grant.grantees or ():
        who = platform.grantee(spec)
        left = tuple(n for n in names if (place, who, n) not in kept)
        if left:
            out.setdefault((left, (place, who) in spelled), []).append(spec)
    return out


def _privileges(names: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(make(ast.AccessPriv, priv_name=name) for name in names)


def kept_note(kept: set[Privilege], why: str) -> str:
    """`why`, then the privileges it is said of (six at most)."""
    shown = sorted({f"{privilege.upper()} on {place} to {who}" for place, who, privilege in kept})
    more = f" and {len(shown) - 6} more" if len(shown) > 6 else ""
    return f"{why}: {'; '.join(shown[:6])}{more}"
