"""Connections to the target database, the run lock, and the translation of psycopg errors.

Everything that can go wrong on the wire is turned here into one of the runner's errors,
classified by SQLSTATE (lock not available, query cancelled, server shutdown...) with the
password scrubbed from the message, so the rest of the runner never handles a raw psycopg error.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import psycopg
from psycopg import errors as pg_errors
from psycopg import sql

from migration_rollback.conninfo import DatabaseTarget, InvalidDatabaseUrlError, parse_database_url
from migration_rollback.redact import Redactor
from migration_rollback.redact_sql import sql_excerpt
from migration_rollback.runner.catalog_path import guard_session
from migration_rollback.runner.errors import (
    ConnectionFailedError,
    ConnectionLostError,
    LockTimeoutError,
    PostCheckError,
    RollbackSqlError,
    RunnerError,
    StatementTimeoutError,
    TransactionConflictError,
)
from migration_rollback.runner.options import postgres_interval
from migration_rollback.url_env import DATABASE_URL_ENV

APPLICATION_NAME = "migration-rollback"
LOCK_NAME = "migration-rollback"
CONNECT_TIMEOUT_SECONDS = 10

Connection = psycopg.Connection[tuple[Any, ...]]

# Where a bad URL came from, for the error (`execute` and `apply` take it the same way).
URL_WHERE = f"the database URL (--database-url or {DATABASE_URL_ENV})"

# libpq says these when the request itself is wrong: retrying cannot help.
_PERMANENT_CONNECT_FAILURES = (
    "password authentication failed",
    "authentication failed",
    "no pg_hba.conf entry",
    "does not exist",
    "no password supplied",
    "invalid",
    "sslmode",
    # The client's own configuration: the same on every try.
    "definition of service",
    "service file",
    "does not support ssl",
    "certificate verify failed",
    "root certificate file",
)
_SHUTDOWN = (pg_errors.AdminShutdown, pg_errors.CrashShutdown, pg_errors.CannotConnectNow)
# The server aborted the transaction to let another session on: a new try can succeed.
_CONFLICT = (pg_errors.DeadlockDetected, pg_errors.SerializationFailure)


def parse_target(url: str) -> tuple[DatabaseTarget | None, ConnectionFailedError | None]:
    """The parsed target, or the refusal the connect step raises (recorded like any failure)."""
    try:
        return parse_database_url(url, where=URL_WHERE), None
    except InvalidDatabaseUrlError as exc:
        return None, ConnectionFailedError(str(exc), transient=False)


def connect(url: str, redactor: Redactor, *, purpose: str) -> Connection:
    """An autocommit connection; fail fast, with a message that names the cause, not the URL."""
    try:
        conn = psycopg.connect(
            url,
            autocommit=True,
            application_name=APPLICATION_NAME,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
        )
        guard_session(conn)  # a role's search_path must not decide what the catalog means
        return conn
    except psycopg.ProgrammingError as exc:
        # Raised for a malformed URL/DSN; psycopg quotes the string, password included.
        raise ConnectionFailedError(
            f"invalid database URL ({purpose} connection): {_first_line(redactor.scrub(str(exc)))}",
            transient=False,
        ) from None
    except psycopg.Error as exc:
        message = redactor.scrub(str(exc)).strip()
        permanent = any(marker in message.lower() for marker in _PERMANENT_CONNECT_FAILURES)
        raise ConnectionFailedError(
            f"cannot connect ({purpose} connection): {_condense(message)}", transient=not permanent
        ) from None


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def _condense(text: str) -> str:
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def set_timeouts(conn: Connection, lock_timeout: timedelta, statement_timeout: timedelta) -> None:
    """Session limits: no statement of the run may wait on a lock, or run, forever."""
    conn.execute(
        "SELECT set_config('lock_timeout', %s, false), set_config('statement_timeout', %s, false)",
        [postgres_interval(lock_timeout), postgres_interval(statement_timeout)],
    )


def backend_pid(conn: Connection) -> int:
    return int(conn.info.backend_pid)


class Session(NamedTuple):
    """A backend as the server knows it. The pid the client was given is a pooler's key behind
    a transaction pooler, and a pid can be reused: with its start time it is that backend."""

    pid: int
    started: datetime


_SESSION = "SELECT pid, backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()"


def session_of(conn: Connection) -> Session:
    """The backend `conn` runs on now (inside a transaction: the one that will COMMIT it)."""
    row = conn.execute(_SESSION).fetchone()
    assert row is not None  # a backend always sees its own row
    return Session(int(row[0]), row[1])


_TRY_LOCK = sql.SQL(
    "SELECT pg_try_advisory_lock(hashtext({name}), hashtext(current_database()))"
).format(name=sql.Literal(LOCK_NAME))
_LOCK_HOLDER = sql.SQL(
    """
    SELECT l.pid, a.application_name, a.usename, a.client_addr::text, a.backend_start
    FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND l.classid = hashtext({name})::oid AND l.objid = hashtext(current_database())::oid
      AND l.pid <> pg_backend_pid()
    """
).format(name=sql.Literal(LOCK_NAME))
_HOLDS_LOCK = sql.SQL(
    """
    SELECT EXISTS (
      SELECT 1 FROM pg_locks l
      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.pid = %s
        AND l.classid = hashtext({name})::oid AND l.objid = hashtext(current_database())::oid)
    """
).format(name=sql.Literal(LOCK_NAME))


def acquire_run_lock(
    conn: Connection,
    wait: timedelta,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Take the per-database run lock on this session, polling up to `wait`.

    A session-level advisory lock (not a transaction one) so that it covers the backup, the
    transaction and the deferred statements, and disappears by itself if this process dies.
    """
    deadline = clock() + wait.total_seconds()
    while True:
        row = conn.execute(_TRY_LOCK).fetchone()
        if row is not None and row[0]:
            return
        remaining = deadline - clock()
        if remaining <= 0:
            raise LockTimeoutError(
                f"another rollback is running on this database ({_describe_holder(conn)}); "
                f"waited {wait.total_seconds():g}s for it"
            )
        sleep(min(0.2, remaining))


def _describe_holder(conn: Connection) -> str:
    row = conn.execute(_LOCK_HOLDER).fetchone()
    if row is None:
        return "lock holder already gone"
    pid, app, user, addr, started = row
    return f"pid {pid}, application {app!r}, user {user!r}, from {addr or 'local'}, since {started}"


def holds_run_lock(conn: Connection, pid: int) -> bool:
    """Whether session `pid` still holds the run lock (asked from any session)."""
    row = conn.execute(_HOLDS_LOCK, [pid]).fetchone()
    return bool(row and row[0])


RUN_LOCK_LOST = (
    "the run lock was lost (the lock session ended, so another runner may hold it now); "
    "not committing"
)


def check_run_lock(work: Connection, holder_pid: int) -> None:
    """Right before a COMMIT made under the run lock: still ours, asked on the session that
    commits (a lock session that died took the lock with it, and another runner may have it)."""
    if not holds_run_lock(work, holder_pid):
        raise PostCheckError(RUN_LOCK_LOST)


def release_run_lock(conn: Connection) -> None:
    conn.execute(
        sql.SQL("SELECT pg_advisory_unlock(hashtext({name}), hashtext(current_database()))").format(
            name=sql.Literal(LOCK_NAME)
        )
    )


def connection_broken(conn: Connection | None) -> bool:
    return conn is None or conn.closed or conn.broken


def close_sessions(control: Connection | None, work: Connection | None) -> None:
    """Release the run lock if the lock session still lives, then close both sessions."""
    if control is not None and not connection_broken(control):
        with contextlib.suppress(psycopg.Error):  # closing the session releases it anyway
            release_run_lock(control)
    for conn in (work, control):
        if conn is not None:
            conn.close()


def translate(
    exc: BaseException,
    redactor: Redactor,
    *,
    statement: int | None = None,
    location: str | None = None,
    context: str | None = None,
) -> RunnerError:
    """The runner error for a psycopg error, classified by SQLSTATE."""
    if isinstance(exc, RunnerError):
        return exc
    sqlstate = getattr(exc, "sqlstate", None)
    # The server quotes what it could not take (a JSON token, a literal near a syntax error).
    message = sql_excerpt(redactor.scrub(_describe(exc)))
    if context:
        message = f"{context}: {message}"
    kwargs: dict[str, Any] = {"sqlstate": sqlstate, "statement": statement, "location": location}
    if isinstance(exc, pg_errors.LockNotAvailable):
        return LockTimeoutError(f"lock_timeout: {message}", **kwargs)
    if isinstance(exc, pg_errors.QueryCanceled):
        return StatementTimeoutError(message, **kwargs)
    if isinstance(exc, _CONFLICT):
        return TransactionConflictError(message, **kwargs)
    if isinstance(exc, _SHUTDOWN) or (
        isinstance(exc, psycopg.OperationalError) and sqlstate is None
    ):
        return ConnectionLostError(f"the server ended the session: {message}", **kwargs)
    return RollbackSqlError(message, **kwargs)


def _describe(exc: BaseException) -> str:
    """The server's message with its detail and hint (psycopg's str() has only the first)."""
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    if not primary:
        return _condense(str(exc)) or type(exc).__name__
    parts = [str(primary)]
    assert diag is not None
    for label, value in (("detail", diag.message_detail), ("hint", diag.message_hint)):
        if value:
            parts.append(f"{label}: {_condense(str(value))}")
    return "; ".join(parts)
