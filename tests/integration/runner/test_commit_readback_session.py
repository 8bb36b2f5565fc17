"""The read-back ends the session that ran the COMMIT, known by the server's own identity.

A pid alone is not that identity: behind a transaction pooler the client's pid is the pooler's
key, and a pid can be reused. With its start time (`Session`), only that backend is ended and
waited for; another session that holds the same pid is left alone.
"""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from migration_rollback.redact import Redactor
from migration_rollback.runner.commit_readback import ReadBack, read_back
from migration_rollback.runner.session import Session, session_of

pytestmark = pytest.mark.integration


def _landed(_conn: object) -> bool:
    return True


def test_the_session_is_read_as_the_server_knows_it(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        seen = session_of(conn)  # inside a transaction, as before COMMIT
        assert seen.pid == conn.info.backend_pid  # no pooler here: the same pid
        started = conn.execute(
            "SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()"
        ).fetchone()
        assert started is not None
        assert seen.started == started[0]


def test_the_read_back_ends_the_session_that_committed(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as old:
        answer = read_back(database_url, Redactor.none(), _landed, session_of(old))
        assert answer is ReadBack.LANDED
        with pytest.raises(psycopg.OperationalError):
            old.execute("SELECT 1")  # it was ended before the history was read


def test_another_session_with_the_same_pid_is_left_alone(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as other:
        now = session_of(other)
        reused = Session(now.pid, now.started - timedelta(seconds=1))  # an earlier backend

        answer = read_back(database_url, Redactor.none(), _landed, reused)

        assert answer is ReadBack.LANDED  # that session is gone: its outcome is final
        assert other.execute("SELECT 1").fetchone() == (1,)  # not terminated
