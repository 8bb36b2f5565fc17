"""Several commands in one simple-query message: one statement sent, one round trip.

Each statement psycopg sends costs the client some 0.1 ms (a cursor, the query's conversion,
its result's handling), whether alone or in a pipeline: a replay sent about 45 per migration,
and that was a third of its time. A query without parameters sent outside a pipeline goes with
the simple protocol, which takes any number of commands separated by semicolons; the server
runs them in order, each as if sent alone, and stops at the first error. What differs:

- the server parses the whole text before running any of it, under the settings of its start:
  the `standard_conforming_strings` a command sets would not apply to the text after it, so a
  text with a backslash is not batched (`batchable`); and a syntax error the server's parser
  finds anywhere fails the batch before its first command ran;
- an error position counts from the start of the whole text.

`run` answers both: which command failed (the results before it say how many ran; none ran
when the first failed, which the caller makes a command that cannot fail), and the position
within that command. `Batch` gathers the verifier's own commands (catalog reads, bookkeeping)
where a connection would take them one by one, and sends them in one message: the rows of each
are there after `send`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import psycopg
from psycopg import errors, generators, sql
from psycopg.adapt import Transformer
from psycopg.pq import ExecStatus
from psycopg.pq.abc import PGresult

Command = str | sql.Composable
# After each command: a newline ends a `--` comment the command's text may end with.
SEPARATOR = "\n;\n"


class BatchError(NamedTuple):
    """The command of a batch that failed (its index, `at`), the error, and its position within
    that command (None: the error has none)."""

    at: int
    error: psycopg.Error
    position: int | None


def batchable(text: str) -> bool:
    """The text parses the same in a batch as alone, whatever a command before it sets."""
    return "\\" not in text


class Rows:
    """One command's rows, once its batch was sent."""

    def __init__(self) -> None:
        self.rows: list[Any] | None = None

    def fetchall(self) -> list[Any]:
        if self.rows is None:
            raise RuntimeError("the batch holding this command was not sent")
        return self.rows


class Batch:
    """Commands gathered as a connection would run them (`execute`), sent in one message."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        self.commands: list[Command] = []
        self.results: list[Rows] = []
        # Server-side statements its commands PREPARE: known to exist only once it ran (a
        # batch sent after a forward never runs when the forward fails).
        self.preparing: set[str] = set()
        self.on_sent: list[Callable[[], None]] = []

    @property
    def info(self) -> psycopg.ConnectionInfo:
        return self.conn.info

    def execute(self, command: Command, *, prepare: bool | None = None) -> Rows:
        self.commands.append(command)
        self.results.append(Rows())
        return self.results[-1]

    def send(self) -> None:
        """Run the commands (an error is raised as psycopg raises it); then their rows."""
        if self.commands:
            run(self.conn, (), self)


# Where a command goes: to the server at once, or into a batch; and what gives its rows.
Target = psycopg.Connection[Any] | Batch
Fetched = psycopg.Cursor[Any] | Rows


def run(
    conn: psycopg.Connection[Any], commands: Sequence[Command], then: Batch | None = None
) -> BatchError | None:
    """Send the commands, then those of `then`, as one message (outside a pipeline): the first
    of `commands` that failed, or None. Index 0 also stands for a text the server's parser
    refused: nothing of it ran. An error in `then` is raised; when all ran, `then`'s commands
    have their rows (and `then` is emptied)."""
    texts = [_text(conn, c) for c in (*commands, *(then.commands if then else ()))]
    encoding = conn.info.encoding
    with conn.lock:
        conn.pgconn.send_query(SEPARATOR.join(texts).encode(encoding))
        results = conn.wait(generators.execute(conn.pgconn))
    for index, result in enumerate(results):
        if result.status == ExecStatus.FATAL_ERROR:
            error = errors.error_from_result(result, encoding=encoding)
            if index >= len(commands):
                raise error
            return BatchError(index, error, _position(error, texts, index))
    if then is not None:
        _load(conn, results[len(commands) :], then)
    return None


def _load(conn: psycopg.Connection[Any], results: Sequence[PGresult], batch: Batch) -> None:
    """Each command's rows, loaded as a cursor loads them (psycopg's adapters)."""
    loader = Transformer.from_context(conn)
    for rows, result in zip(batch.results, results, strict=True):
        loader.set_pgresult(result)
        tuples = result.status == ExecStatus.TUPLES_OK
        rows.rows = loader.load_rows(0, result.ntuples, tuple) if tuples else []
    for hook in batch.on_sent:
        hook()
    batch.commands, batch.results, batch.preparing, batch.on_sent = [], [], set(), []


def _text(conn: psycopg.Connection[Any], command: Command) -> str:
    return command if isinstance(command, str) else command.as_string(conn)


def _position(error: psycopg.Error, texts: Sequence[str], index: int) -> int | None:
    """The error's position in the text of command `index` (the server counts from the start
    of the whole message, in characters)."""
    position = int(error.diag.statement_position or 0)
    if not position:
        return None
    start = sum(len(t) + len(SEPARATOR) for t in texts[:index])
    return position - start if 0 < position - start <= len(texts[index]) else None
