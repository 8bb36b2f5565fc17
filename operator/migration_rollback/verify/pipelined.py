"""Run a migration's statements on the shadow in pipelines: one round trip for many.

A replay sent each statement and waited for its answer: a migration of ten statements and its
rollback cost some twenty round trips where applying it costs one. Inside an open transaction
nothing differs when consecutive statements are sent together (psycopg's pipeline mode): the
server runs them in order, and the first error aborts the transaction and skips the rest, as
stopping at the first failure did. The statement that failed is the first one without a result.
Statements that need a decision of their own (a stand-in extension, the runner's archiving)
are still run alone, in their place; outside a transaction every statement is sent alone, since
a pipeline would make them one implicit transaction.

What frames a script inside its transaction goes in the same pipelines (`lead`: BEGIN, the
session reset, a SAVEPOINT, a read queued by the caller; `tail`: SET CONSTRAINTS ALL
IMMEDIATE), so that framing costs no round trip of its own. A failure of a lead statement is
raised as it would be alone; one of a tail statement raises `TailError`: the script itself ran.

A pipeline still costs the client a statement's handling per statement. When the caller says
how to undo the lead (`rewind`) and the lead holds only commands, the first of which cannot fail
when run (BEGIN, RESET ALL), the lead, the statements and the tail go as one simple-query batch
instead (batch.py): one statement sent. A batch is for the success path only: should any of it
fail (or the server refuse its text before running any of it), what ran is undone (`rewind`:
ROLLBACK after a BEGIN; a ROLLBACK TO a savepoint made before, inside a transaction) and the
pipeline runs the script again: its failure, position and verdict are the pipeline's by
construction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import psycopg
from psycopg.pq import TransactionStatus

from migration_rollback.sql import Statement
from migration_rollback.verify import batch as batches


class Failed(NamedTuple):
    """The statement that failed, its error, and the error's position within its text."""

    statement: Statement
    error: psycopg.Error
    position: int | None


# A statement sent before the script, or a read the caller queues there (it gives its cursor).
Lead = str | Callable[[psycopg.Connection[Any]], psycopg.Cursor[Any]]


class TailError(Exception):
    """A statement sent after the script (`tail`) failed; the script's statements all ran."""

    def __init__(self, error: psycopg.Error) -> None:
        super().__init__(str(error))
        self.error = error


def run_statements(
    conn: psycopg.Connection[Any],
    statements: Sequence[Statement],
    alone: Callable[[Statement], bool],
    run_alone: Callable[[Statement], None],
    *,
    lead: Sequence[Lead] = (),
    tail: Sequence[str] = (),
    rewind: Sequence[str] | None = None,
    then: batches.Batch | None = None,
) -> Failed | None:
    """Run in order; the first statement that fails and its error, or None. `lead` and `tail`
    (for a run inside a transaction, which `lead` may open) go with the first and last sends;
    with `rewind` (see above), the first send may be a batch. `then`: the caller's reads, sent
    when all ran (with the last send when that is a batch)."""
    batch: list[Statement] = []
    for st in statements:
        if not alone(st):
            batch.append(st)
            continue
        failed = _send(conn, batch, lead, rewind=rewind)
        batch, lead, rewind = [], (), None
        if failed is not None:
            return failed
        try:
            run_alone(st)
        except psycopg.Error as exc:
            return _failed(st, exc)
    failed = _send(conn, batch, lead, tail, rewind, then)
    if failed is None and then is not None:
        then.send()  # unless the last send took it
    return failed


def _failed(st: Statement, exc: psycopg.Error) -> Failed:
    return Failed(st, exc, int(exc.diag.statement_position or 0) or None)


def _send(
    conn: psycopg.Connection[Any],
    batch: Sequence[Statement],
    lead: Sequence[Lead] = (),
    tail: Sequence[str] = (),
    rewind: Sequence[str] | None = None,
    then: batches.Batch | None = None,
) -> Failed | None:
    commands = _batch_lead(batch, lead) if rewind is not None else None
    if commands is not None and rewind is not None:
        if batches.run(conn, [*commands, *(st.text for st in batch), *tail], then) is None:
            return None
        if conn.info.transaction_status != TransactionStatus.IDLE:  # else nothing of it stays
            for command in rewind:
                conn.execute(command, prepare=False)
    framed = bool(lead or tail)
    if not framed and (len(batch) < 2 or conn.info.transaction_status != TransactionStatus.INTRANS):
        for st in batch:
            try:
                conn.execute(st.text, prepare=False)
            except psycopg.Error as exc:
                return _failed(st, exc)
        return None
    cursors: list[psycopg.Cursor[Any]] = []
    try:
        with conn.pipeline():
            for item in (*lead, *(st.text for st in batch), *tail):
                cursors.append(_queue(conn, item))
    except psycopg.Error as exc:
        answered = sum(1 for cursor in cursors if cursor.statusmessage is not None)
        return _failed_at(answered - len(lead), batch, bool(tail), exc)
    return None


def _batch_lead(batch: Sequence[Statement], lead: Sequence[Lead]) -> list[str] | None:
    """The lead's commands when one batch will do: there is a lead, it asks for no result,
    and the statements parse alike in a batch (None: it will not)."""
    commands = [item for item in lead if isinstance(item, str)]
    if not commands or len(commands) < len(lead):
        return None
    plain = all(batches.batchable(st.text, st.kind) for st in batch)
    return commands if plain else None


def _queue(conn: psycopg.Connection[Any], item: Lead) -> psycopg.Cursor[Any]:
    return conn.execute(item, prepare=False) if isinstance(item, str) else item(conn)


def _failed_at(index: int, batch: Sequence[Statement], tail: bool, exc: psycopg.Error) -> Failed:
    """The statement of the batch at `index` failed (before it: the lead; after: the tail)."""
    if index >= len(batch) and tail:
        raise TailError(exc) from exc
    if index < 0 or not batch:
        raise exc
    return _failed(batch[min(index, len(batch) - 1)], exc)
