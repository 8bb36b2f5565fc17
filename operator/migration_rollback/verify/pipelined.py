"""Run a migration's statements on the shadow in pipelines: one round trip for many.

A replay sent each statement and waited for its answer: a migration of ten statements and its
rollback cost some twenty round trips where applying it costs one. Inside an open transaction
nothing differs when consecutive statements are sent together (psycopg's pipeline mode): the
server runs them in order, and the first error aborts the transaction and skips the rest, as
stopping at the first failure did. The statement that failed is the first one without a result.
Statements that need a decision of their own (a stand-in extension, the runner's archiving)
are still run alone, in their place; outside a transaction every statement is sent alone, since
a pipeline would make them one implicit transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus

from migration_rollback.sql import Statement

Failed = tuple[Statement, psycopg.Error]


def run_statements(
    conn: psycopg.Connection[Any],
    statements: Sequence[Statement],
    alone: Callable[[Statement], bool],
    run_alone: Callable[[Statement], None],
) -> Failed | None:
    """Run in order; the first statement that fails and its error, or None."""
    batch: list[Statement] = []
    for st in statements:
        if not alone(st):
            batch.append(st)
            continue
        failed = _send(conn, batch)
        batch = []
        if failed is not None:
            return failed
        try:
            run_alone(st)
        except psycopg.Error as exc:
            return st, exc
    return _send(conn, batch)


def _send(conn: psycopg.Connection[Any], batch: Sequence[Statement]) -> Failed | None:
    if len(batch) < 2 or conn.info.transaction_status != TransactionStatus.INTRANS:
        for st in batch:
            try:
                conn.execute(st.text, prepare=False)
            except psycopg.Error as exc:
                return st, exc
        return None
    cursors: list[psycopg.Cursor[Any]] = []
    try:
        with conn.pipeline():
            for st in batch:
                cursors.append(conn.execute(st.text, prepare=False))
    except psycopg.Error as exc:
        answered = sum(1 for cursor in cursors if cursor.statusmessage is not None)
        return batch[min(answered, len(batch) - 1)], exc
    return None
