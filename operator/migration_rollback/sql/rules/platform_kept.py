"""The undo of a GRANT that says again some of what the platform granted: it revokes only the
rest (sql/platform_grants.py says why and what the platform grants).

The forward's GRANT is cut along what it names: one REVOKE per object (or per role and schema of
ALTER DEFAULT PRIVILEGES) and set of privileges left, to the grantees that set is left for; the
privileges and grantees the platform already had are named in a note, never revoked.
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


def kept_by_platform(node: Any, ctx: Context) -> set[Privilege]:
    """The privileges of this GRANT the platform had already given."""
    return platform.restated(node, ctx.default_schema, ctx.history)


def undo_rest(node: Any, kept: set[Privilege], ctx: Context, flip: Flip) -> Iterator[Inverse]:
    """A note of what stays, then the REVOKEs of the rest (none when the platform had it all)."""
    grant, defaults = platform.grant_of(node)
    yield nothing(_kept_note(kept))
    names = platform.privilege_names(grant)
    for place, part in platform.places(grant, defaults, ctx.default_schema):
        for left, grantees in _left_by_grantee(grant, place, names, kept).items():
            privileges = grant.privileges if left == names else _privileges(left)
            yield flip(part, tuple(grantees), privileges, defaults)


def _left_by_grantee(
    grant: Any, place: str, names: tuple[str, ...], kept: set[Privilege]
) -> dict[tuple[str, ...], list[Any]]:
    """The privileges left to revoke at `place` -> the grantees they are left for (in the
    statement's order)."""
    out: dict[tuple[str, ...], list[Any]] = {}
    for spec in grant.grantees or ():
        who = platform.grantee(spec)
        left = tuple(n for n in names if (place, who, n) not in kept)
        if left:
            out.setdefault(left, []).append(spec)
    return out


def _privileges(names: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(make(ast.AccessPriv, priv_name=name) for name in names)


def _kept_note(kept: set[Privilege]) -> str:
    shown = sorted({f"{privilege.upper()} on {place} to {who}" for place, who, privilege in kept})
    more = f" and {len(shown) - 6} more" if len(shown) > 6 else ""
    return (
        "the Supabase platform grants this itself (platform/supabase.sql), kept: revoking it "
        f"would take it from the platform's roles: {'; '.join(shown[:6])}{more}"
    )
