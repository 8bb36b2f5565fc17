"""What each role held on an object just before a GRANT or REVOKE, as far as the migrations
tell: the undo of a GRANT or REVOKE gives back that, not the statement flipped.

The flipped statement is wrong whenever the forward changed nothing for some privilege: a
REVOKE of what an earlier migration had already revoked (its flip grants it to PUBLIC again,
found on irontracks and hivecom), a GRANT of what an earlier migration had granted (its flip
takes it away), a table-level REVOKE that also took the column privileges (PostgreSQL revokes
them with it). So every GRANT and REVOKE of earlier migrations, and of this one up to the
statement, is kept per place (platform_grants.places) and (grantee, privilege); a column
privilege is `select(col)` on its table's place. What no statement set comes from how the
object was made: an earlier migration's object holds what the platform's default privileges
give (platform_grants.given) and a routine's EXECUTE for PUBLIC, nothing else; of an object
the migrations did not make nothing is known (None), and the undo says MANUAL for it.

A new object starts over (DROP then CREATE resets its ACL: History._start_over, forget); a
REVOKE GRANT OPTION FOR leaves the privilege. Known limits: a rename does not carry the
states to the new name (the object's states then fall back to its defaults); the grantor
is not followed (a GRANTED BY is taken for the owner's).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pglast.enums.parsenodes import ObjectType

from migration_rollback.sql import platform_grants as platform
from migration_rollback.sql.model import ObjectRef
from migration_rollback.sql.names import strings
from migration_rollback.sql.platform_grants import Privilege

if TYPE_CHECKING:
    from migration_rollback.sql.history import History

# place -> (grantee, privilege) -> held; privilege as platform_grants names it, `name(col)`
# for a column's.
Grants = dict[str, dict[tuple[str, str], bool]]
Held = bool | None  # None: the migrations do not tell

# The history's kinds -> the kind word of their privileges' place (platform_grants._KIND).
_PLACE_KIND = {
    "function": "functions", "procedure": "functions", "table": "tables", "view": "tables",
    "materialized view": "tables", "foreign table": "tables", "sequence": "sequences",
    "type": "types", "domain": "types",
}  # fmt: skip
# What PostgreSQL gives PUBLIC on an object it makes (kind of place -> privilege).
_PUBLIC_BY_DEFAULT = {"functions": "execute", "types": "usage"}
# Who owns what the migrations make (Supabase runs them as postgres): its privileges are the
# owner's, which no GRANT or REVOKE by the owner is needed for; not followed here.
_OWNER = "postgres"


def place_of(ref: ObjectRef) -> str | None:
    """The place an object's privileges are kept under (None: a kind not followed)."""
    if ref.kind == "schema":
        return f"schema {ref.name}".lower()
    kind = _PLACE_KIND.get(ref.kind)
    return f"{kind} {ref.schema}.{ref.name}".lower() if kind and ref.schema else None


def forget(grants: Grants, ref: ObjectRef) -> None:
    """A new object, or one dropped: what earlier GRANTs and REVOKEs set no longer holds."""
    place = place_of(ref)
    if place is not None:
        grants.pop(place, None)


def named(node: Any, default_schema: str) -> tuple[Privilege, ...]:
    """What a GRANT or REVOKE names: its object privileges, then its column privileges."""
    return platform.privileges_of(node, default_schema) + tuple(
        _column_privileges(node, default_schema)
    )


def _column_privileges(node: Any, default_schema: str) -> Iterator[Privilege]:
    grant, defaults = platform.grant_of(node)
    if grant is None or defaults is not None or grant.objtype != ObjectType.OBJECT_TABLE:
        return
    columns = [
        f"{str(p.priv_name).lower()}({col.lower()})"
        for p in grant.privileges or ()
        if p.cols
        for col in strings(p.cols)
    ]
    for place, _part in platform.places(grant, None, default_schema):
        for spec in grant.grantees or ():
            yield from ((place, platform.grantee(spec), name) for name in columns)


def learn(grants: Grants, node: Any, default_schema: str, below: Grants | None = None) -> None:
    """A GRANT sets what it names held, a REVOKE not held (a table's privilege revoked takes
    that privilege of every column with it, those `below` set too); a REVOKE GRANT OPTION FOR
    changes nothing."""
    grant = platform.grant_of(node)[0]
    if grant is None or (not grant.is_grant and grant.grant_option):
        return
    for place, who, name in named(node, default_schema):
        held = grants.setdefault(place, {})
        held[(who, name)] = bool(grant.is_grant)
        if not grant.is_grant and "(" not in name:
            for col in _columns_of(place, who, name, (below or {}, grants)):
                held[(who, f"{name}({col})")] = False


def _columns_of(place: str, who: str, name: str, layers: tuple[Grants, ...]) -> dict[str, bool]:
    """The columns with a privilege `name` state for `who` at `place`, the last layer's word
    winning -> held."""
    found: dict[str, bool] = {}
    for grants in layers:
        for (grantee, privilege), held in grants.get(place, {}).items():
            if grantee == who and privilege.startswith(f"{name}("):
                found[privilege[len(name) + 1 : -1]] = held
    return found


def before(
    node: Any, here: Grants, history: History | None, default_schema: str
) -> dict[Privilege, Held]:
    """Each privilege the statement names -> whether its grantee held it just before: as
    this migration (`here`), then earlier ones left it, else as the object was made."""
    given = platform.given(node, default_schema, history)
    out: dict[Privilege, Held] = {}
    for p in named(node, default_schema):
        out[p] = _set_by_statement(p, here, history)
        if out[p] is None:
            out[p] = _as_made(p, node, given, history, default_schema)
    return out


def columns_held(
    place: str, who: str, name: str, here: Grants, history: History | None
) -> list[str]:
    """The columns whose privilege `name` `who` held at `place` (what a table-level REVOKE of
    it also takes)."""
    layers = (history.privileges if history else {}, here)
    return [col for col, held in _columns_of(place, who, name, layers).items() if held]


def _set_by_statement(p: Privilege, here: Grants, history: History | None) -> Held:
    place, who, name = p
    for grants in (here, history.privileges if history else {}):
        held = grants.get(place, {}).get((who, name))
        if held is not None:
            return held
    return None


def _as_made(
    p: Privilege, node: Any, given: set[Privilege], history: History | None, default_schema: str
) -> Held:
    """What the object held when it was made, for an object an earlier migration made (or
    what the platform gives its own); None where the migrations do not tell."""
    place, who, name = p
    if p in given:
        return True
    if history is None or who in (_OWNER, "<current_user>", "<session_user>"):
        return None
    if place.startswith("default "):
        return False if f" of {_OWNER} in " in place else None
    if not platform.made_earlier(node, place, default_schema, history):
        return None
    return who == "public" and _PUBLIC_BY_DEFAULT.get(place.split(" ", 1)[0]) == name
