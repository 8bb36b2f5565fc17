"""The owner and privileges of a recreated routine or view, kept with its definition.

A dropped routine or view comes back owned by the rollback's role, with the default privileges
(ALTER DEFAULT PRIVILEGES included) instead of those it had. What it had is kept with its
definition, every privilege spelled out (a NULL ACL means the defaults for its owner), and
restored where the recreated object differs: every grantee's privileges revoked, the kept ones
granted again, the owner set back when the rollback's role may (membership in it); else said.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg import sql

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
    return {"class": klass, "identity": identity, "owner": row[0], "grants": grants}


def restore_rights(conn: Connection, rights: dict[str, Any]) -> list[str]:
    """The owner and privileges as kept, where the recreated object differs; notes."""
    kind, identity = CLASSES[rights["class"]], rights["identity"]
    resolve = sql.SQL(_RESOLVE[rights["class"]])
    row = conn.execute(sql.SQL("SELECT {}(%s)::oid").format(resolve), [identity]).fetchone()
    if row is None or row[0] is None:
        return [f"{identity} not found after recreating it: owner and grants not set"]
    oid, named, notes = int(row[0]), sql.SQL(identity), []
    if _grants(conn, kind, oid) != rights["grants"]:
        _regrant(conn, kind, named, oid, rights["grants"])
        notes.append("privileges restored")
    owner = conn.execute(
        sql.SQL("SELECT pg_get_userbyid({}) FROM {} WHERE oid = %s").format(
            sql.Identifier(kind.owner), sql.Identifier(kind.catalog)
        ),
        [oid],
    ).fetchone()
    if owner is not None and owner[0] != rights["owner"]:
        notes.append(_owner(conn, kind, named, rights["owner"]))
    return notes


def _regrant(
    conn: Connection, kind: Grantable, named: sql.Composable, oid: int, kept: list[Any]
) -> None:
    on = sql.SQL(kind.keyword)
    for grantee in sorted({str(g[0]) for g in _grants(conn, kind, oid)}):
        conn.execute(sql.SQL("REVOKE ALL ON {} {} FROM {}").format(on, named, _role(grantee)))
    for grantee, privilege, grantable in kept:
        option = sql.SQL(" WITH GRANT OPTION") if grantable else sql.SQL("")
        conn.execute(
            sql.SQL("GRANT {} ON {} {} TO {}{}").format(
                sql.SQL(privilege), on, named, _role(grantee), option
            )
        )


def _role(name: str) -> sql.Composable:
    return sql.Identifier(name) if name else sql.SQL("PUBLIC")


def _owner(conn: Connection, kind: Grantable, named: sql.Composable, owner: str) -> str:
    """ALTER ... OWNER needs membership in the owner role: without it the owner is said, not
    set (the rollback's role owns the object then)."""
    row = conn.execute("SELECT pg_has_role(%s, 'MEMBER')", [owner]).fetchone()
    if not (row and row[0]):
        return f"owner {owner} not set back (the rollback's role is not a member of it)"
    conn.execute(
        sql.SQL("ALTER {} {} OWNER TO {}").format(sql.SQL(kind.alter), named, sql.Identifier(owner))
    )
    return f"owner {owner} set back"
