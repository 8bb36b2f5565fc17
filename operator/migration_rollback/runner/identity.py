"""Which database a run is connected to, as a short text with no secret in it, and the check
that it is the one a rehearsal ran on.

The operator rehearses the rollback in a dry-run Job, then runs it for real in a second Job
minutes later; each reads the database URL from the Secret when its pod starts. A Secret
edited in between would send the real run to a database nobody rehearsed (or approved). The
rehearsal reports this identity, the operator pins it with `--expect-database`, and the real
run refuses, before it writes anything (its audit row included), when it differs.

The identity is the cluster's system identifier (different for every initdb, the same on a
replica), the database's name and oid (a database dropped and created again gets a new oid),
and a digest of the host, port and database the URL names (`conninfo.DatabaseTarget.identity`,
the key of the operator's per-database Lease: a clone of production restored elsewhere, which
keeps the identifier, name and oid, is not taken for it).
"""

from __future__ import annotations

import re
from typing import Any

import psycopg

from migration_rollback.runner.errors import PreconditionError

# What `identify` returns: `<system identifier>/<database>(oid <n>)@<URL digest>`. The database
# name may hold any character but a NUL; the rest is digits and the URL's host display.
_SHAPE = re.compile(r"(?:[0-9]+|unknown)/.+\(oid [0-9]+\)@.+", re.DOTALL)
# Its three parts, to say which one differs (the name may hold "/", "(" or "@": greedy in the
# middle, anchored at both ends).
_PARTS = re.compile(
    r"(?P<cluster>[^/]*)/(?P<database>.*\(oid [0-9]+\))@(?P<where>[^@]*)", re.DOTALL
)
_PART_NAMES = {
    "cluster": "the cluster (system identifier)",
    "database": "the database name and oid",
    "where": "the host, port and database the URL names (its digest)",
}
# pg_control_system() revoked, missing (PostgreSQL < 9.6) or not offered by a proxy.
_NO_IDENTIFIER = (
    psycopg.errors.InsufficientPrivilege,
    psycopg.errors.FeatureNotSupported,
    psycopg.errors.UndefinedFunction,
)
MAX_LENGTH = 512
# runner.session's (imported from here, session would import options, which imports this).
Connection = psycopg.Connection[tuple[Any, ...]]


def identify(conn: Connection, where: str) -> str:
    """The identity of the database `conn` is connected to (`where`: the URL's digest)."""
    name, oid = conn.execute(
        "SELECT current_database(), (SELECT oid FROM pg_database"
        " WHERE datname = current_database())"
    ).fetchone() or ("", 0)
    return f"{_system_identifier(conn)}/{name}(oid {oid})@{where}"


def _system_identifier(conn: Connection) -> str:
    """pg_control_system() is granted to PUBLIC by default; a platform that revokes it leaves
    the name, oid and host to tell databases apart ("unknown" is then pinned as such)."""
    try:
        with conn.transaction():
            row = conn.execute("SELECT system_identifier FROM pg_control_system()").fetchone()
    except _NO_IDENTIFIER:
        return "unknown"
    return str(row[0]) if row else "unknown"


def check_expected(option: str, expected: str) -> None:
    """A malformed pin is a usage error, said before anything connects."""
    if len(expected) > MAX_LENGTH or not _SHAPE.fullmatch(expected):
        raise ValueError(
            f"{option} must be an identity a rehearsal reported "
            "(<system identifier>/<database>(oid <n>)@<URL digest>)"
        )


def require_same(actual: str, expected: str | None) -> None:
    """Refuse a run connected to another database than the pinned one."""
    if expected is not None and actual != expected:
        raise PreconditionError(
            f"the database URL now leads to {actual}, not to the rehearsed {expected} "
            f"(--expect-database; {differing(actual, expected)} differs): was the Secret "
            "changed after the rehearsal? Nothing was "
            "changed; rehearse against the new database with a new rollback"
        )


def differing(actual: str, expected: str) -> str:
    """Which parts of two identities differ, named for a reader ("the identity" when one of
    them is not of the shape)."""
    one, other = _PARTS.fullmatch(actual), _PARTS.fullmatch(expected)
    if one is None or other is None:
        return "the identity"
    names = [text for key, text in _PART_NAMES.items() if one[key] != other[key]]
    return " and ".join(names) or "the identity"
