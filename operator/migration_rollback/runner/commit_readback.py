"""A COMMIT whose answer the client never saw: whether it landed, read back on a new connection.

Two things take COMMIT's answer away: a broken connection, and a signal (SIGTERM from a
cancelled CI job or the Job's deadline) while COMMIT runs. psycopg then cancels the COMMIT and
may close the session, but the server may have committed all the same: a COMMIT past its
commit record is not undone by a cancel. Saying "rolled back" then is false (a retry would
apply the migration twice, or roll back a rollback that already happened); saying "committed"
is a guess. So the old session is ended first (once it is gone its outcome is final), then a new
connection reads the history table: landed, not landed, or unknown (the session would not end,
the read failed, or a second signal cut the read-back short). `apply` and `execute` both commit
through `commit_or_read_back`, and both report the answer the same way (`raise_for`): one
table, keyed by (interrupted?, read-back).

The old session is known by the server's own identity of it (`Session`: its pid and start time,
read inside the transaction that commits), not by the pid the client was given: behind a
transaction pooler that is the pooler's key, and a pid can be reused. Only that very backend is
told to end and waited for.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from typing import NamedTuple

import psycopg

from migration_rollback.redact import Redactor
from migration_rollback.runner.errors import (
    CommitInterruptedError,
    CommitUnknownError,
    ConnectionLostError,
    RunnerError,
)
from migration_rollback.runner.session import Connection, Session, connect, session_of

# How long the old session may take to end once told to: its COMMIT is then final.
SESSION_END_S = 10.0


class ReadBack(enum.StrEnum):
    LANDED = "landed"
    NOT_LANDED = "not landed"
    UNKNOWN = "unknown"


class CommitAnswer(NamedTuple):
    """What became of a COMMIT: None read back when its answer came (it landed), the signal
    that stopped it if one did."""

    read_back: ReadBack | None = None
    signal: str | None = None

    @property
    def landed(self) -> bool:
        return self.read_back in (None, ReadBack.LANDED)


_LANDED = "read back on a new connection: it landed"
_NOT_LANDED = "read back on a new connection: it did not land (the transaction did not commit)"
_UNKNOWN = "its outcome could not be read back: check the history table before running again"
# (stopped by a signal?, read back) -> the error to raise (None: go on, it landed), and why.
_VERDICTS: dict[tuple[bool, ReadBack], tuple[type[RunnerError] | None, str]] = {
    (True, ReadBack.LANDED): (CommitInterruptedError, _LANDED),
    (True, ReadBack.NOT_LANDED): (CommitInterruptedError, _NOT_LANDED),
    (True, ReadBack.UNKNOWN): (CommitUnknownError, _UNKNOWN),
    (False, ReadBack.LANDED): (None, _LANDED),
    (False, ReadBack.NOT_LANDED): (ConnectionLostError, _NOT_LANDED),
    (False, ReadBack.UNKNOWN): (CommitUnknownError, _UNKNOWN),
}


def commit_or_read_back(conn: Connection, read_back: Callable[[Session], ReadBack]) -> CommitAnswer:
    """COMMIT; when its answer is lost (a signal, a broken connection), what the database says."""
    old = session_of(conn)  # in the transaction: the backend that runs its COMMIT
    try:
        conn.commit()
    except KeyboardInterrupt as stop:  # SIGINT, or SIGTERM turned into it (run.py)
        return CommitAnswer(_read(read_back, old), str(stop.args[0]) if stop.args else "SIGINT")
    except psycopg.OperationalError:
        if not (conn.closed or conn.broken):
            raise
        return CommitAnswer(_read(read_back, old))
    return CommitAnswer()


def _read(read_back: Callable[[Session], ReadBack], old: Session) -> ReadBack:
    # A second signal cuts the read-back short: the outcome is then unknown, never "not landed".
    try:
        return read_back(old)
    except KeyboardInterrupt:
        return ReadBack.UNKNOWN


def raise_for(answer: CommitAnswer, what: str) -> str | None:
    """Raise what the answer means for `what` (the COMMIT of ...); the warning to give when a
    broken COMMIT landed after all, None when nothing was lost."""
    if answer.read_back is None:
        return None
    error, why = _VERDICTS[(answer.signal is not None, answer.read_back)]
    cause = f"stopped by {answer.signal}" if answer.signal else "the connection broke"
    message = f"{cause} during the COMMIT of {what}; {why}"
    if error is None:
        return message
    raise error(message)


def read_back(
    dsn: str, redactor: Redactor, landed: Callable[[Connection], bool | None], old: Session
) -> ReadBack:
    """End the old session, then ask `landed` (None: the history is neither before nor after)."""
    try:
        with connect(dsn, redactor, purpose="read-back") as conn:
            if not _ended(conn, old):
                return ReadBack.UNKNOWN
            state = landed(conn)
    except (psycopg.Error, RunnerError):
        return ReadBack.UNKNOWN
    return {True: ReadBack.LANDED, False: ReadBack.NOT_LANDED, None: ReadBack.UNKNOWN}[state]


# That backend and no other: the same pid with another start time is another session.
_THE_SESSION = "FROM pg_stat_activity WHERE pid = %s AND backend_start = %s"
_END = f"SELECT pg_terminate_backend(pid) {_THE_SESSION}"
_ALIVE = f"SELECT EXISTS (SELECT 1 {_THE_SESSION})"


def _ended(conn: Connection, old: Session) -> bool:
    """The session `old` gone (told to end if still there): a COMMIT it ran is final then."""
    conn.execute(_END, list(old))
    deadline = time.monotonic() + SESSION_END_S
    while _alive(conn, old):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _alive(conn: Connection, old: Session) -> bool:
    row = conn.execute(_ALIVE, list(old)).fetchone()
    return bool(row and row[0])
