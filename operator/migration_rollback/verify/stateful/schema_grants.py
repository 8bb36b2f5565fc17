"""The undo of `GRANT/REVOKE ... ON ALL <kind> IN SCHEMA s` (and `ON SCHEMA s`), object by
object, from the before-state: the static rule cannot say which objects of the schema held
the privilege already (it names no single object), the shadow's catalog can.

A GRANT's undo revokes, on each object of that kind the schema held before the migration and
from each grantee the statement names, only the privileges the GRANT gave that the grantee
lacked (WITH GRANT OPTION: of a privilege held without it, only the option). A REVOKE's undo
grants back what each grantee held (with the option where it was held with it). Objects the
before-state lacks (made later) are not touched: the rollback drops them or they get the
privilege from no one. Only what the object's owner granted counts (the statement ran as the
owner, as Supabase's migrations do, and so names the owner as grantor); column privileges a
table-level REVOKE took with it are not given back here.

Part of the state-aware rollbacks (see the package's docstring); pure, no database.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pglast.enums.parsenodes import GrantTargetType, ObjectType, RoleSpecType

from migration_rollback.sql.compose import quote_ident
from migration_rollback.sql.names import strings
from migration_rollback.sql.settings import role_named
from migration_rollback.verify.snapshot import Grant, Snapshot, SnapshotObject
from migration_rollback.verify.stateful.acl import Privileges
from migration_rollback.verify.stateful.lookups import Unknown

# The kind an ON ALL <kind> IN SCHEMA names -> the snapshot's kinds it reaches (PostgreSQL's
# objectsInSchemaToOids: FUNCTIONS takes every routine but procedures, ROUTINES all of them).
_REACHES = {
    ObjectType.OBJECT_TABLE: ("table", "view", "materialized view", "foreign table"),
    ObjectType.OBJECT_SEQUENCE: ("sequence",),
    ObjectType.OBJECT_FUNCTION: ("function", "aggregate"),
    ObjectType.OBJECT_PROCEDURE: ("procedure",),
    ObjectType.OBJECT_ROUTINE: ("function", "aggregate", "procedure"),
}


def answers(node: Any) -> bool:
    """Whether the statement is a GRANT or REVOKE ON ALL <kind> IN SCHEMA, or ON SCHEMA (the
    static rule names no object for either)."""
    return type(node).__name__ == "GrantStmt" and (
        node.targtype == GrantTargetType.ACL_TARGET_ALL_IN_SCHEMA
        or node.objtype == ObjectType.OBJECT_SCHEMA
    )


def undo(node: Any, gen: Privileges, after: Snapshot | None) -> tuple[list[str], str]:
    """GRANT/REVOKE per object giving each grantee back what it held before; raises Unknown
    for a kind or grantee the before-state cannot answer for."""
    reached = (
        ("schema",) if node.objtype == ObjectType.OBJECT_SCHEMA else _REACHES.get(node.objtype)
    )
    if reached is None:
        raise Unknown(f"ON ALL {node.objtype.name} IN SCHEMA is not followed")
    schemas = set(strings(node.objects or ()))
    grantees = [_grantee(spec) for spec in node.grantees or ()]
    objects = sorted(
        (o for o in gen.before.of_kind(*reached) if o.extra_text("schema") in schemas),
        key=lambda o: o.id,
    )  # a schema's own "schema" extra is its name
    if any(p.cols for p in node.privileges or ()):
        raise Unknown("column privileges ON ALL TABLES IN SCHEMA are not followed")
    every = _all_privileges(reached, gen.before, after) if node.privileges is None else None
    if node.objtype == ObjectType.OBJECT_SCHEMA and len(objects) < len(schemas):
        raise Unknown("a schema named is not in the schema before the migration")
    out = [
        text
        for obj in objects
        for who in grantees
        for text in _undo_one(node, gen.grant_target(obj), _held(obj, who), who, every)
    ]
    what = "given back" if node.is_grant is False else "revoked where the grantee lacked them"
    if not out:
        what = "each grantee held them already" if objects else "none there before"
    return out, f"privileges on the schema's objects as they were ({len(objects)}): {what}"


def _grantee(spec: Any) -> str:
    """A grantee as the snapshot's ACLs write it (quote_ident; PUBLIC)."""
    if spec.roletype == RoleSpecType.ROLESPEC_PUBLIC:
        return "PUBLIC"
    name = role_named(spec)
    if name is None:  # CURRENT_USER, SESSION_USER: who ran the forward is not known here
        raise Unknown(f"the grantee {spec.roletype.name} is not known to the before-state")
    return quote_ident(name)


def _held(obj: SnapshotObject, who: str) -> dict[str, bool]:
    """What `who` held on `obj` from its owner: privilege -> with the grant option."""
    out: dict[str, bool] = {}
    for text in obj.strings("privileges"):
        grant = Grant.parse(text)
        if grant.grantee == who and grant.grantor is None:
            out.update((p.rstrip("*"), p.endswith("*")) for p in grant.privileges)
    return out


def _all_privileges(reached: tuple[str, ...], *states: Snapshot | None) -> tuple[str, ...]:
    """What ALL means on these kinds on this server: every privilege some ACL of them holds
    (the owner's holds all, acldefault filling a NULL one; MAINTAIN only on PostgreSQL 17+)."""
    found: set[str] = set()
    for state in states:
        for obj in state.of_kind(*reached) if state is not None else ():
            found.update(
                p.rstrip("*") for t in obj.strings("privileges") for p in Grant.parse(t).privileges
            )
    return tuple(sorted(found))


def _undo_one(
    node: Any, target: str, held: dict[str, bool], who: str, every: tuple[str, ...] | None
) -> Iterator[str]:
    named = every if every is not None else _named(node)
    if node.is_grant:
        lacked = [p for p in named if p not in held]
        option_only = [p for p in named if node.grant_option and held.get(p) is False]
        yield from _statement("REVOKE", lacked, target, who)
        yield from _statement("REVOKE GRANT OPTION FOR", option_only, target, who)
    elif node.grant_option:  # REVOKE GRANT OPTION FOR: the option comes back where it was
        yield from _statement("GRANT", [p for p in named if held.get(p)], target, who, _OPTION)
    else:
        yield from _statement("GRANT", [p for p in named if held.get(p) is False], target, who)
        yield from _statement("GRANT", [p for p in named if held.get(p)], target, who, _OPTION)


_OPTION = " WITH GRANT OPTION"


def _named(node: Any) -> tuple[str, ...]:
    return tuple(str(p.priv_name).upper() for p in node.privileges)


def _statement(
    verb: str, privileges: list[str], target: str, who: str, suffix: str = ""
) -> Iterator[str]:
    if privileges:
        to = "FROM" if verb.startswith("REVOKE") else "TO"
        yield f"{verb} {', '.join(privileges)} ON {target} {to} {who}{suffix}"
