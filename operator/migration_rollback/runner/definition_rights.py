"""The owner and privileges of a recreated routine or view, kept with its definition.

A dropped routine or view comes back owned by the rollback's role, with the default privileges
(ALTER DEFAULT PRIVILEGES included) instead of those it had. What it had is kept with its
definition, every privilege spelled out (a NULL ACL means the defaults for its owner), and
restored where the recreated object differs: every grantee's privileges revoked, the kept ones
granted again, the owner set back when the rollback's role may (membership in it). When it may
not, a routine running with its caller's rights keeps a note (the rollback's role owns it); a
SECURITY DEFINER routine or a view without security_invoker runs with its owner's rights, which
would be the rollback role's: the restore is refused and the whole rollback with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg import sql

from migration_rollback.runner.capture_definition_read import qualified_reads
from migration_rollback.runner.errors import PreconditionError
from migration_rollback.runner.session import Connection


@dataclass(frozen=True, slots=True)
class Grantable:
    """How one class of object names its ACL, owner and itself in GRANT and ALTER."""

    catalog: str  # the catalog row, by oid
    acl: str
    owner: str
    default: str  # acldefault's object type
    keyword: str  # GRANT ... ON <keyword>
    alter: str  # ALTER <alter> ... OWNER TO


CLASSES = {
    "routine": Grantable("pg_proc", "proacl", "proowner", "f", "ROUTINE", "ROUTINE"),
    "view": Grantable("pg_class", "relacl", "relowner", "r", "TABLE", "VIEW"),
}
_RESOLVE = {"routine": "to_regprocedure", "view": "to_regclass"}


def _grants(conn: Connection, kind: Grantable, oid: int) -> list[list[Any]]:
    query = sql.SQL(
        "SELECT coalesce(pg_get_userbyid(NULLIF(a.grantee, 0)), ''), a.privilege_type, "
        "a.is_grantable FROM {} o, aclexplode(coalesce(o.{}, acldefault({}, o.{}))) a "
        "WHERE o.oid = %s ORDER BY 1, 2, 3"
    ).format(
        sql.Identifier(kind.catalog),
        sql.Identifier(kind.acl),
        sql.Literal(kind.default),
        sql.Identifier(kind.owner),
    )
    return [list(row) for row in conn.execute(query, [oid]).fetchall()]


def kept_rights(conn: Connection, klass: str, oid: int, identity: str) -> dict[str, Any]:
    """What goes into the capture's detail: `identity` names the object in SQL, qualified."""
    kind = CLASSES[klass]
    row = conn.execute(
        sql.SQL("SELECT pg_get_userbyid({}) FROM {} WHERE oid = %s").format(
            sql.Identifier(kind.owner), sql.Identifier(kind.catalog)
        ),
        [oid],
    ).fetchone()
    assert row is not None  # read in the same transaction as its definition
    grants = _grants(conn, kind, oid)
    as_owner = conn.execute(_RUNS_AS_OWNER[klass], [oid]).fetchone()
    return {
        "class": klass,
        "identity": identity,
        "owner": row[0],
        "grants": grants,
        "runs_as_owner": bool(as_owner and as_owner[0]),
    }


def require_settable_owner(conn: Connection, rights: dict[str, Any]) -> None:
    """Before anything runs: the refusal restore_rights would raise for an object kept running
    with its owner's rights whose owner this role cannot set back (checked again there, on the
    recreated object, for captures kept before this was recorded)."""
    owner = str(rights.get("owner") or "")
    if rights.get("runs_as_owner") and owner and not _may_become(conn, owner):
        how = "SECURITY DEFINER" if rights["class"] == "routine" else _OWNER_VIEW
        raise PreconditionError(_owner_refusal(str(rights["identity"]), how, owner))


def restore_rights(conn: Connection, rights: dict[str, Any]) -> list[str]:
    """The owner and privileges as kept, where the recreated object differs; notes. Refused
    (PreconditionError: the rollback's transaction rolls back) when the owner cannot be set
    back on an object that runs with its owner's rights."""
    klass, kept_as = rights["class"], str(rights["identity"])
    kind, resolve = CLASSES[klass], sql.SQL(_RESOLVE[klass])
    row = conn.execute(sql.SQL("SELECT {}(%s)::oid").format(resolve), [kept_as]).fetchone()
    if row is None or row[0] is None:
        return [f"{kept_as} not found after recreating it: owner and grants not set"]
    oid = int(row[0])
    # Named as the server prints it (qualified), not as the catalog row says.
    identity = qualified_reads(conn, lambda: _named(conn, klass, oid))
    named, owner, notes = sql.SQL(identity), str(rights["owner"]), []
    settable = _owner_differs(conn, kind, oid, owner) and _may_become(conn, owner)
    if _owner_differs(conn, kind, oid, owner) and not settable:
        notes.append(_unset_owner(conn, klass, oid, identity, owner))
    if _grants(conn, kind, oid) != rights["grants"]:
        _regrant(conn, kind, named, oid, rights["grants"])
        notes.append("privileges restored")
    if settable:
        conn.execute(
            sql.SQL("ALTER {} {} OWNER TO {}").format(
                sql.SQL(kind.alter), named, sql.Identifier(owner)
            )
        )
        notes.append(f"owner {owner} set back")
    return notes


def _named(conn: Connection, klass: str, oid: int) -> str:
    cast = "regprocedure" if klass == "routine" else "regclass"
    row = conn.execute(sql.SQL("SELECT %s::{}::text").format(sql.SQL(cast)), [oid]).fetchone()
    assert row is not None
    return str(row[0])


def _owner_differs(conn: Connection, kind: Grantable, oid: int, owner: str) -> bool:
    row = conn.execute(
        sql.SQL("SELECT pg_get_userbyid({}) FROM {} WHERE oid = %s").format(
            sql.Identifier(kind.owner), sql.Identifier(kind.catalog)
        ),
        [oid],
    ).fetchone()
    return row is not None and row[0] != owner


def _may_become(conn: Connection, owner: str) -> bool:
    """ALTER ... OWNER needs membership in the owner role (a role dropped since: no one is)."""
    row = conn.execute(
        "SELECT coalesce((SELECT pg_has_role(r.oid, 'MEMBER') FROM pg_roles r "
        "WHERE r.rolname = %s), false)",
        [owner],
    ).fetchone()
    return bool(row and row[0])


# Whether an object runs with its owner's rights (what it does is its owner's doing), by class:
# a SECURITY DEFINER routine; a view unless security_invoker (PostgreSQL 15+) is on.
_RUNS_AS_OWNER = {
    "routine": "SELECT prosecdef FROM pg_proc WHERE oid = %s",
    "view": "SELECT NOT coalesce((SELECT o.option_value::bool FROM "
    "pg_options_to_table(c.reloptions) o WHERE o.option_name = 'security_invoker'), false) "
    "FROM pg_class c WHERE c.oid = %s",
}


def _unset_owner(conn: Connection, klass: str, oid: int, identity: str, owner: str) -> str:
    """The note for an owner the rollback's role may not set back (it owns the object then):
    enough for what runs with its caller's rights; a refusal for what runs with its owner's,
    which would run with the rollback role's rights instead, and its grants given again."""
    row = conn.execute(_RUNS_AS_OWNER[klass], [oid]).fetchone()
    if row is not None and row[0]:
        how = "SECURITY DEFINER" if klass == "routine" else _OWNER_VIEW
        raise PreconditionError(_owner_refusal(identity, how, owner))
    return f"owner {owner} not set back (the rollback's role is not a member of it)"


_OWNER_VIEW = "a view without security_invoker"


def _owner_refusal(identity: str, how: str, owner: str) -> str:
    return (
        f"{identity} ({how}) runs with its owner's rights, and its owner {owner} cannot be "
        "set back (the rollback's role is not a member of it): recreated, it would run "
        f"with the rollback role's rights. Run the rollback as {owner} or a member of it; "
        "nothing was rolled back"
    )


# The privileges aclexplode names: a kept grant is said again only as one of them.
_PRIVILEGES = frozenset(
    {"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER", "EXECUTE"}
    | {"USAGE", "MAINTAIN"}
)


def _regrant(
    conn: Connection, kind: Grantable, named: sql.Composable, oid: int, kept: list[Any]
) -> None:
    on = sql.SQL(kind.keyword)
    for grantee in sorted({str(g[0]) for g in _grants(conn, kind, oid)}):
        conn.execute(sql.SQL("REVOKE ALL ON {} {} FROM {}").format(on, named, _role(grantee)))
    for grantee, privilege, grantable in kept:
        if privilege not in _PRIVILEGES:
            raise PreconditionError(f"a kept grant of {named.as_string(conn)} is not a privilege")
        option = sql.SQL(" WITH GRANT OPTION") if grantable else sql.SQL("")
        conn.execute(
            sql.SQL("GRANT {} ON {} {} TO {}{}").format(
                sql.SQL(privilege), on, named, _role(grantee), option
            )
        )


def _role(name: str) -> sql.Composable:
    return sql.Identifier(name) if name else sql.SQL("PUBLIC")
