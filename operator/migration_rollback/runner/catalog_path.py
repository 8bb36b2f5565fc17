"""The runner's own SQL reads PostgreSQL's catalog, whatever search_path the migration set.

A migration or rollback may set a search_path (`SET`, `set_config`, a role's setting) that
names a schema before pg_catalog: a type, function or operator there with a built-in's name
(a domain `oid` or `regclass`, a function `to_regclass` or `pg_get_indexdef`, an operator `=`
on oids) then stands for pg_catalog's in every unqualified name of the runner's queries, which
fail, or answer wrong, in the middle of an archive or a capture. Qualifying each name of
hundreds of queries would miss the next one written; instead, inside the transaction, the
runner's SQL runs with pg_catalog first, and each statement of the migration with the path it
set itself. pg_catalog first is where PostgreSQL searches it when a path does not name it, so
nothing else resolves differently. Only a path that puts another schema first costs the two
extra statements around each of the migration's statements.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import Cursor

Connection = psycopg.Connection[tuple[Any, ...]]  # as runner.session's, which imports this

# Every name qualified: these run while the path may be the hostile one.
_READ = (
    "SELECT pg_catalog.current_setting('search_path'), "
    "pg_catalog.current_schemas(true)::pg_catalog.text[]"
)
_SET_LOCAL = "SELECT pg_catalog.set_config('search_path', %s, true)"
_SET_SESSION = "SELECT pg_catalog.set_config('search_path', %s, false)"
# A session whose own path (a role's or database's setting) was set aside when it connected:
# the path its migration statements run with, and the one the runner's SQL runs with.
_SET_ASIDE: weakref.WeakKeyDictionary[Connection, tuple[str, str]] = weakref.WeakKeyDictionary()


def _read(conn: Connection) -> tuple[str, bool]:
    row = conn.execute(_READ).fetchone()
    assert row is not None
    return str(row[0]), _catalog_first([str(s) for s in row[1]])


def _first(path: str) -> str:
    return f"pg_catalog, {path}" if path.strip() else "pg_catalog"


def guard_session(conn: Connection) -> None:
    """At connect (autocommit), and after a COMMIT (a migration's plain SET outlives its
    transaction): a path a role, the database or the migration set with another schema before
    pg_catalog is set aside for the session, pg_catalog put first; `CatalogPath.run` gives
    the migration's statements the path set aside."""
    if conn.closed or conn.broken:  # a session lost at COMMIT: nothing more runs on it
        return
    path, safe = _read(conn)
    if not safe:
        conn.execute(_SET_SESSION, [_first(path)])
        _SET_ASIDE[conn] = (path, _first(path))
    if not conn.autocommit:  # the reads opened a transaction: it holds nothing, close it
        conn.commit()


def _catalog_first(schemas: list[str]) -> bool:
    """pg_catalog is searched before any schema a user can create things in (a session's
    temporary schema stands first only for relations and types, and is the session's own)."""
    searched = [s for s in schemas if not s.startswith("pg_temp_")]
    return not searched or searched[0] == "pg_catalog"


@dataclass
class CatalogPath:
    """The search_path of one transaction: `guard` after the migration's SQL ran (its path is
    kept aside and pg_catalog put first), `run` to run one statement of the migration's."""

    conn: Connection
    users: str | None = None  # the migration's own path, while the runner's is in force

    def guard(self) -> None:
        path, safe = _read(self.conn)
        aside = _SET_ASIDE.get(self.conn)
        if safe:  # the session's own path, unless it is the one guard_session put first
            self.users = aside[0] if aside is not None and path == aside[1] else None
            return
        self.users = path
        self.conn.execute(_SET_LOCAL, [_first(path)])

    def run(self, statement: str) -> Cursor[tuple[object, ...]]:
        """The migration's statement, on its own path; the runner's back in force after it."""
        if self.users is not None:
            self.conn.execute(_SET_LOCAL, [self.users])
        cursor = self.conn.execute(statement)
        self.guard()
        return cursor
