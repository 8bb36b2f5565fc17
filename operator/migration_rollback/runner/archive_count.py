"""How many rows an archived table holds, for the record: exact when cheap, else the estimate.

The rule for "cheap" (impact.py's thresholds) is applied by the server, in the query that
reads the estimate: the count then rides in the round trip of the statements before it (the
move into the archive) instead of needing one of its own. It runs inside a savepoint, so that a
count cut short by statement_timeout costs the run nothing but the number.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
from psycopg import sql

from migration_rollback.runner.impact import EXACT_COUNT_BELOW, UNANALYSED_COUNT_MAX_BYTES
from migration_rollback.runner.relations import relation_ident
from migration_rollback.runner.session import Connection
from migration_rollback.runner.trip import Fetched, Trip

_COUNT = sql.Identifier("migration_rollback_count")

_FACTS = sql.SQL(
    "SELECT c.reltuples::bigint, "
    "COALESCE(pg_catalog.pg_relation_size(c.oid), 0) AS size, {count} "
    "FROM pg_catalog.pg_class c WHERE c.oid = {oid}"
)
# The exact count, or NULL where impact.py would rather give the estimate. The uncounted branch
# never runs the count: a scalar subquery is evaluated when first needed, not before.
_EXACT = sql.SQL(
    "CASE WHEN c.reltuples::bigint < {below} "
    "AND (c.reltuples::bigint >= 0 OR "
    "COALESCE(pg_catalog.pg_relation_size(c.oid), 0) <= {unanalysed}) "
    "THEN (SELECT pg_catalog.count(*) FROM {table}) END"
)
_ESTIMATE_ONLY = _FACTS.format(count=sql.SQL("NULL::bigint"), oid=sql.Placeholder())

T = TypeVar("T")


def count_rows(conn: Connection, oid: int) -> int | None:
    """Rows of an archived table."""
    table = relation_ident(conn, oid)
    return counted_after(conn, oid, table, lambda _: None)[0]


def counted_after(
    conn: Connection, oid: int, table: sql.Identifier, queue: Callable[[Trip], T]
) -> tuple[int | None, T]:
    """`queue` sends its statements, then the count of `table` (oid `oid`) follows in the same
    round trip: their results, and the count."""
    queued_trip = Trip(conn)  # a cancelled count skips the RELEASE: rolled back to below
    queued = queue(queued_trip)
    savepoint = queued_trip.execute(_SAVEPOINT)
    facts = queued_trip.execute(_counting(conn, table, oid))
    queued_trip.execute(_RELEASE)
    return _counted(conn, (oid, savepoint, facts), queued_trip), queued


def _counted(conn: Connection, sent: tuple[int, Fetched, Fetched], queued: Trip) -> int | None:
    """The count, once its trip (`queued`, not yet sent) is sent."""
    oid, savepoint, facts = sent
    try:
        queued.send()
    except psycopg.errors.QueryCanceled:
        if savepoint.statusmessage != "SAVEPOINT":
            raise  # what `queue` sent was cancelled, not the count
        conn.execute(_ROLLBACK)
        return _rows(conn.execute(_ESTIMATE_ONLY, [oid]).fetchone(), oid)
    return _rows(facts.fetchone(), oid)


_SAVEPOINT = sql.SQL("SAVEPOINT {}").format(_COUNT).as_string(None)
_RELEASE = sql.SQL("RELEASE SAVEPOINT {}").format(_COUNT).as_string(None)
_ROLLBACK = sql.SQL("ROLLBACK TO SAVEPOINT {}").format(_COUNT).as_string(None)


# The count's read, its table and oid left to fill in (composed once: psycopg.sql is slow).
_COUNTING = _FACTS.format(
    count=_EXACT.format(
        below=sql.Literal(EXACT_COUNT_BELOW),
        unanalysed=sql.Literal(UNANALYSED_COUNT_MAX_BYTES),
        table=sql.SQL("{table}"),
    ),
    oid=sql.SQL("{oid}"),
).as_string(None)


def _counting(conn: Connection, table: sql.Identifier, oid: int) -> str:
    """The count's read, the oid written in: the trip then needs no parameter."""
    return _COUNTING.format(table=table.as_string(conn), oid=int(oid))


def _rows(row: tuple[Any, ...] | None, oid: int) -> int | None:
    if row is None:
        raise LookupError(f"relation {oid} vanished")
    if row[2] is not None:
        return int(row[2])
    estimate = int(row[0]) if row[0] is not None else -1
    return estimate if estimate >= 0 else None
