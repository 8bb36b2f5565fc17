"""Running the verifier's catalog queries cheaply and the same way every time.

Two things make catalog queries slow or wrong inside a replay, and this module handles both:

- Names: `format_type`, `pg_get_indexdef`, `regprocedure` and friends qualify a name only when
  the search_path does not make it visible, and a migration may set any search_path. Queries
  here run with `search_path = pg_catalog` (every user object comes out schema-qualified), and
  the session's own value is put back afterwards, in the same pipeline.
- Planning: the same dozen queries run thousands of times with different OID lists, so they are
  server-side prepared statements with generic plans. They are PREPAREd with SQL rather than
  through psycopg, because psycopg discards its prepared statements (DEALLOCATE ALL) after any
  ROLLBACK or DROP, which a replay issues constantly; SQL-level prepared statements survive
  rollbacks. Connections used here should have `prepare_threshold = None` so psycopg never
  prepares (and so never deallocates) anything itself.
- JIT: a catalog query's estimated cost grows with the rows the planner expects (a correlated
  subquery costed per row), and once the catalogs are analyzed it can pass `jit_above_cost`:
  compiling then took ~180 ms per execution of a 1 ms query (the functions' read, at 200
  tables). JIT is off while these queries run.
- Quoting: a migration may turn `quote_all_identifiers` on; every deparsed name then came out
  quoted (`"public"."t"`), so each object's identity changed and the full read's comments,
  keyed by `classoid::regclass::text`, were all lost. It is off while these queries run.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import weakref
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
from psycopg import sql

from migration_rollback.runner import prepared as runner_prepared
from migration_rollback.verify.batch import Batch, Fetched, Target

_ENTER = (
    "SELECT pg_catalog.set_config('migration_rollback.saved_search_path', "
    "pg_catalog.current_setting('search_path'), false), "
    "pg_catalog.set_config('migration_rollback.saved_plan_cache_mode', "
    "pg_catalog.current_setting('plan_cache_mode'), false), "
    "pg_catalog.set_config('migration_rollback.saved_jit', "
    "pg_catalog.current_setting('jit'), false), "
    "pg_catalog.set_config('migration_rollback.saved_quote_all_identifiers', "
    "pg_catalog.current_setting('quote_all_identifiers'), false), "
    "pg_catalog.set_config('search_path', 'pg_catalog', false), "
    "pg_catalog.set_config('plan_cache_mode', 'force_generic_plan', false), "
    "pg_catalog.set_config('jit', 'off', false), "
    "pg_catalog.set_config('quote_all_identifiers', 'off', false)"
)
_LEAVE = (
    "SELECT pg_catalog.set_config('search_path', "
    "pg_catalog.current_setting('migration_rollback.saved_search_path'), false), "
    "pg_catalog.set_config('plan_cache_mode', "
    "pg_catalog.current_setting('migration_rollback.saved_plan_cache_mode'), false), "
    "pg_catalog.set_config('jit', "
    "pg_catalog.current_setting('migration_rollback.saved_jit'), false), "
    "pg_catalog.set_config('quote_all_identifiers', "
    "pg_catalog.current_setting('migration_rollback.saved_quote_all_identifiers'), false)"
)

# What each session has prepared: name -> its PREPARE, to send again when a migration's
# DEALLOCATE ALL (or DISCARD) dropped them all.
_prepared: weakref.WeakKeyDictionary[psycopg.Connection[Any], dict[str, str]] = (
    weakref.WeakKeyDictionary()
)


def prepare_connection(conn: psycopg.Connection[Any]) -> None:
    """Stop psycopg from preparing (and later deallocating) statements on this connection."""
    conn.prepare_threshold = None


@contextlib.contextmanager
def reading(conn: psycopg.Connection[Any], before: Sequence[sql.Composed] = ()) -> Iterator[None]:
    """A pipeline with the settings catalog queries need, restored when it ends. `before` run
    first in the same round trip, under the session's own settings (a DROP there may fire a
    migration's event trigger, which must not see the catalog reads' search_path)."""
    with conn.pipeline():
        for statement in before:
            conn.execute(statement, prepare=False)
        with settings(conn):
            yield


@contextlib.contextmanager
def settings(conn: Target) -> Iterator[None]:
    """Inside the caller's pipeline: the catalog queries' settings, restored when it ends (so
    that what the caller sends next in that pipeline runs under the session's own)."""
    conn.execute(_ENTER, prepare=False)
    try:
        yield
    finally:
        conn.execute(_LEAVE, prepare=False)


_UNQUOTED = (
    "SELECT pg_catalog.set_config('migration_rollback.saved_quote_all_identifiers', "
    "pg_catalog.current_setting('quote_all_identifiers'), false), "
    "pg_catalog.set_config('quote_all_identifiers', 'off', false)"
)
_QUOTED_BACK = (
    "SELECT pg_catalog.set_config('quote_all_identifiers', "
    "pg_catalog.current_setting('migration_rollback.saved_quote_all_identifiers'), false)"
)


@contextlib.contextmanager
def unquoted(conn: Target) -> Iterator[None]:
    """For the reads that run under the session's own search_path (the stand-ins' members):
    only `quote_all_identifiers` off, as `settings` sets it, restored when it ends."""
    conn.execute(_UNQUOTED, prepare=False)
    try:
        yield
    finally:
        conn.execute(_QUOTED_BACK, prepare=False)


@functools.cache  # the queries are the module constants of their callers: a few dozen
def statement_name(query: str) -> str:
    return "_mr_" + hashlib.sha1(query.encode(), usedforsecurity=False).hexdigest()[:16]


def execute(
    conn: Target,
    query: str,
    args: Sequence[tuple[Any, str]] = (),
) -> Fetched:
    """Run a query (parameters written $1, $2...) as a server-side prepared statement.

    `args` pairs each value with its SQL type (e.g. `([1, 2], "oid[]")`). Call it inside
    `reading(conn)`: the statement must be analyzed and run with the same search_path. `conn`
    may be a batch (batch.py): the statement then runs when the batch is sent.
    """
    name = statement_name(query)
    known = _prepared.setdefault(conn.conn if isinstance(conn, Batch) else conn, {})
    if name not in known and not (isinstance(conn, Batch) and name in conn.preparing):
        types = ", ".join(runner_prepared.qualified(t) for _, t in args)
        header = f"PREPARE {name}({types})" if args else f"PREPARE {name}"
        preparing = f"{header} AS {query}"
        conn.execute(preparing, prepare=False)
        if isinstance(conn, Batch):  # known once the batch ran
            conn.preparing.add(name)
            conn.once_ran(lambda: known.__setitem__(name, preparing))
        else:
            known[name] = preparing
    # EXECUTE is a utility statement: its arguments cannot be bound parameters of unknown
    # type (an empty list), so they are passed as typed literals.
    return conn.execute(runner_prepared.executing(name, args), prepare=False)


# Statements after which the session's prepared statements may be gone (DEALLOCATE ALL or
# a name; DISCARD ALL).
DEALLOCATING = frozenset({"DeallocateStmt", "DiscardStmt"})


def prepare_again(conn: psycopg.Connection[Any]) -> None:
    """After a migration's statement of `DEALLOCATING` ran on the session: those of its reads
    the server no longer holds are prepared again (under the catalog reads' settings, as first
    prepared), and the archive's are prepared again with the next archive (runner/prepared.py).
    Without this the next read failed: prepared statement "_mr_..." does not exist."""
    held = {str(row[0]) for row in conn.execute(_HELD, prepare=False)}
    runner_prepared.keep_only(conn, held)
    missing = [text for name, text in _prepared.get(conn, {}).items() if name not in held]
    if missing:
        with reading(conn):
            for preparing in missing:
                conn.execute(preparing, prepare=False)


_HELD = "SELECT name FROM pg_catalog.pg_prepared_statements"
