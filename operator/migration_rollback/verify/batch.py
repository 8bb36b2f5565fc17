"""Several commands in one simple-query message: one statement sent, one round trip.

Each statement psycopg sends costs the client some 0.1 ms (a cursor, the query's conversion,
its result's handling), whether alone or in a pipeline: a replay sent about 45 per migration,
and that was a third of its time. A query without parameters sent outside a pipeline goes with
the simple protocol, which takes any number of commands separated by semicolons; the server
runs them in order, each as if sent alone, and stops at the first error. What differs:

- the server parses the whole text before running any of it, under the settings in force when
  it arrives: what a command sets (`standard_conforming_strings` and its kin) would not apply
  to the text after it, so a script that may set them, or whose literals they change (a
  backslash, `U&`), is not batched (`batchable`); and a syntax error the server's parser finds
  anywhere fails the batch before its first command ran;
- an error position counts from the start of the whole text, and the server places an error
  in a code body by searching the whole text for the body: a failure is therefore never taken
  from a batch (pipelined.py runs the script again, statement by statement);
- `current_query()` returns the whole text: code that reads it (an event trigger) would see
  the other commands. No batch is sent while an event trigger other than the verifier's and
  the platform's own is enabled (roundtrip.py); a row trigger reading it still sees the batch.

`run` says whether a command failed (the caller then undoes what ran). `Batch` gathers the
verifier's own commands (catalog reads, bookkeeping) where a connection would take them one by
one, and sends them in one message: the rows of each are there after `send`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from psycopg import errors, generators, sql
from psycopg.adapt import Transformer
from psycopg.pq import ExecStatus
from psycopg.pq.abc import PGresult

Command = str | sql.Composable
# After each command: a newline ends a `--` comment the command's text may end with.
SEPARATOR = "\n;\n"


# Statement kinds that change how the text after them parses or what code DDL runs.
_UNBATCHABLE_KINDS = frozenset(
    {"VariableSetStmt", "CopyStmt", "CreateEventTrigStmt", "AlterEventTrigStmt"}
)
# Words that set the parser's settings (set_config, a function's SET clause, a DO block's SET)
# or whose parse depends on them (a backslash, a Unicode-escaped literal).
_UNBATCHABLE_WORDS = (
    "\\", "u&", "set_config", "standard_conforming_strings", "backslash_quote",
    "escape_string_warning",
)  # fmt: skip


def batchable(text: str, kind: str) -> bool:
    """A statement of this kind and text runs the same in a batch as sent alone: it sets none
    of the settings the server parses the batch's text under, reads none, and adds no event
    trigger (conservative: a word in a comment counts)."""
    lowered = text.lower()
    return kind not in _UNBATCHABLE_KINDS and not any(w in lowered for w in _UNBATCHABLE_WORDS)


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
        # What to do once a command ran (its index): even when a later one failed.
        self.on_sent: list[tuple[int, Callable[[], None]]] = []

    @property
    def info(self) -> psycopg.ConnectionInfo:
        return self.conn.info

    def execute(self, command: Command, *, prepare: bool | None = None) -> Rows:
        self.commands.append(command)
        self.results.append(Rows())
        return self.results[-1]

    def once_ran(self, hook: Callable[[], None]) -> None:
        """Call `hook` once the last command queued ran (a PREPARE: the statement exists)."""
        self.on_sent.append((len(self.commands) - 1, hook))

    def send(self) -> None:
        """Run the commands (an error is raised as psycopg raises it); then their rows."""
        if self.commands:
            run(self.conn, (), self)


# Where a command goes: to the server at once, or into a batch; and what gives its rows.
Target = psycopg.Connection[Any] | Batch
Fetched = psycopg.Cursor[Any] | Rows


def run(
    conn: psycopg.Connection[Any], commands: Sequence[Command], then: Batch | None = None
) -> psycopg.Error | None:
    """Send the commands, then those of `then`, as one message (outside a pipeline): the error
    of the first of `commands` that failed (or of a text the server's parser refused), or None.
    An error in `then` is raised; when all ran, `then`'s commands have their rows (and `then`
    is emptied)."""
    texts = [_text(conn, c) for c in (*commands, *(then.commands if then else ()))]
    encoding = conn.info.encoding
    with conn.lock:
        conn.pgconn.send_query(SEPARATOR.join(texts).encode(encoding))
        results = conn.wait(generators.execute(conn.pgconn))
    for index, result in enumerate(results):
        if result.status == ExecStatus.FATAL_ERROR:
            error = errors.error_from_result(result, encoding=encoding)
            if index >= len(commands):
                if then is not None:  # what it PREPAREd before the error stays
                    _ran(then, index - len(commands))
                    then.commands, then.results, then.preparing, then.on_sent = [], [], set(), []
                raise error
            return error
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
    _ran(batch, len(batch.commands))
    batch.commands, batch.results, batch.preparing, batch.on_sent = [], [], set(), []


def _ran(batch: Batch, count: int) -> None:
    """The first `count` commands of the batch ran: their hooks."""
    for index, hook in batch.on_sent:
        if index < count:
            hook()


def _text(conn: psycopg.Connection[Any], command: Command) -> str:
    return command if isinstance(command, str) else command.as_string(conn)
