"""One round trip of the archive: its commands gathered, then sent together.

Each statement psycopg sends costs the client some 0.1 ms (a cursor, the query's conversion,
its result's handling), in a pipeline or not; an archived table took some 35. Commands without
parameters can instead go as one simple-query message: the server runs them in order, each as
if sent alone, and stops at the first error, as a pipeline does up to its sync. The archive
sends only its own composed statements and the DROP it carries out, none of which sets how the
text after it parses, so the server's parsing the whole text first changes nothing. What does
differ: an error's position counts from the start of the message (the archive's commands were
parsed or composed already, so their errors are the server's runtime ones, which carry none),
and a trigger reading `current_query()` sees the whole message.

So only the verifier's session sends one message (the one prepared.py prepares on, psycopg
preparing nothing itself): the verifier batches its own commands the same way (verify/batch.py).
`execute`'s session keeps its pipelines, each statement on its own on a production database;
the statements and their order are the same. A trip holding a command with parameters (a read
sent as written, before it is prepared) or on a connection already in a pipeline is pipelined
too. Either way a command's answer is read the same way (`Answer`) once the trip is sent: what
ran has its status, what did not has none.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

import psycopg
from psycopg import errors, generators, pq, sql
from psycopg.abc import Transformer as Loading
from psycopg.adapt import Transformer

from migration_rollback.runner.session import Connection

Query = str | bytes | sql.SQL | sql.Composed
Params = Sequence[Any] | Mapping[str, Any] | None
_SEPARATOR = b"\n;\n"  # a newline ends a `--` comment a command may end with


class Fetched(Protocol):
    """What a command answered: psycopg's cursor, or the same read from a batch."""

    @property
    def statusmessage(self) -> str | None: ...

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> tuple[Any, ...] | None: ...

    def fetchall(self) -> list[tuple[Any, ...]]: ...


@dataclass
class Answer:
    """A command's answer, filled once its trip is sent (nothing: it did not run)."""

    cursor: psycopg.Cursor[Any] | None = None
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    status: str | None = None
    count: int = -1
    returns_rows: bool = False
    _at: int = 0

    @property
    def statusmessage(self) -> str | None:
        return self.cursor.statusmessage if self.cursor is not None else self.status

    @property
    def rowcount(self) -> int:
        return self.cursor.rowcount if self.cursor is not None else self.count

    def fetchone(self) -> tuple[Any, ...] | None:
        if self.cursor is not None:
            return self.cursor.fetchone()
        self._check()
        self._at += 1
        return self.rows[self._at - 1] if self._at <= len(self.rows) else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        if self.cursor is not None:
            return self.cursor.fetchall()
        self._check()
        rest, self._at = self.rows[self._at :], len(self.rows)
        return rest

    def _check(self) -> None:
        """As psycopg's cursor: rows only from a command that returns them."""
        if not self.returns_rows:
            raise psycopg.ProgrammingError(
                f"the last operation didn't produce records (command status: {self.status})"
            )


class _Command(NamedTuple):
    query: Query
    params: Params
    prepare: bool | None
    answer: Answer


@dataclass
class Trip:
    """Commands for one round trip, in order (see `trip`)."""

    conn: Connection
    commands: list[_Command] = field(default_factory=list)

    def execute(
        self, query: Query, params: Params = None, *, prepare: bool | None = None
    ) -> Answer:
        """Queue a command (`prepare`: as psycopg's, for a pipelined trip)."""
        answer = Answer()
        self.commands.append(_Command(query, params, prepare, answer))
        return answer

    def send(self) -> None:
        """Run the commands (the first error raised as psycopg raises it)."""
        if not self.commands:
            return
        if self._batchable():
            _send_batch(self.conn, self.commands)
        else:
            _send_pipeline(self.conn, self.commands)

    def _batchable(self) -> bool:
        """The verifier's session (it prepares nothing itself, prepared.py), outside a
        pipeline, and no command with parameters."""
        conn = self.conn
        return (
            conn.prepare_threshold is None
            and conn.pgconn.pipeline_status == pq.PipelineStatus.OFF
            and all(command.params is None for command in self.commands)
        )


@contextlib.contextmanager
def trip(conn: Connection) -> Iterator[Trip]:
    """Gather the block's commands; send them when it ends (not when it raises)."""
    gathered = Trip(conn)
    yield gathered
    gathered.send()


def _send_pipeline(conn: Connection, commands: list[_Command]) -> None:
    with conn.pipeline():
        for command in commands:
            answer = command.answer
            answer.cursor = conn.execute(command.query, command.params, prepare=command.prepare)


def _send_batch(conn: Connection, commands: list[_Command]) -> None:
    encoding = conn.info.encoding
    text = _SEPARATOR.join(_bytes(conn, command.query, encoding) for command in commands)
    with conn.lock:
        conn.pgconn.send_query(text)
        results = conn.wait(generators.execute(conn.pgconn))
    loader = Transformer.from_context(conn)
    for command, result in zip(commands, results, strict=False):
        if result.status == pq.ExecStatus.FATAL_ERROR:
            raise errors.error_from_result(result, encoding=encoding)
        _load(loader, result, command.answer, encoding)


def _load(loader: Loading, result: pq.abc.PGresult, answer: Answer, encoding: str) -> None:
    """The answer as psycopg's cursor reads it (its loaders, its status and row count)."""
    if result.status == pq.ExecStatus.TUPLES_OK:
        answer.returns_rows = True
        loader.set_pgresult(result)
        answer.rows = loader.load_rows(0, result.ntuples, tuple)
    status = result.command_status
    answer.status = status.decode(encoding) if status else ""
    tuples = result.command_tuples
    answer.count = tuples if tuples is not None else -1


def _bytes(conn: Connection, query: Query, encoding: str) -> bytes:
    if isinstance(query, bytes):
        return query
    if isinstance(query, str):
        return query.encode(encoding)
    return query.as_bytes(conn)
