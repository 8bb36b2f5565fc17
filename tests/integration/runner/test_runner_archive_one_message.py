"""A trip of the archive (runner/trip.py) sent as one simple-query message, on the verifier's
session, answers as the same commands pipelined (`execute`'s session): rows, status and row
count; and the first failing command stops it, those before it answered, those after not."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from migration_rollback.runner.trip import Trip

pytestmark = pytest.mark.integration

COMMANDS = [
    "SAVEPOINT one_message",
    "SELECT 1 AS a, 'it''s'::text AS b, NULL::int AS c, ARRAY[1, 2]::oid[] AS d, true",
    "CREATE TEMP TABLE copied AS SELECT g FROM generate_series(1, 3) g",
    "SELECT g FROM copied ORDER BY g",
    "SELECT g FROM copied WHERE false",
    "ROLLBACK TO SAVEPOINT one_message",
]
FAILING = ["SELECT 1", "SELECT 1 / 0", "SELECT 2"]


@pytest.fixture
def sessions(database_url: str) -> Iterator[tuple[psycopg.Connection[Any], ...]]:
    """The verifier's kind of session (psycopg prepares nothing), and a plain one."""
    with (
        psycopg.connect(database_url, autocommit=True, prepare_threshold=None) as batched,
        psycopg.connect(database_url, autocommit=True) as pipelined,
    ):
        for conn in (batched, pipelined):
            conn.execute("BEGIN")
        yield batched, pipelined
        for conn in (batched, pipelined):
            conn.execute("ROLLBACK")


def _answers(conn: psycopg.Connection[Any], commands: list[str]) -> list[Any]:
    sent = Trip(conn)
    answers = [sent.execute(command) for command in commands]
    sent.send()
    return [(a.statusmessage, a.rowcount, *_rows(a)) for a in answers]


def _rows(answer: Any) -> tuple[Any, ...]:
    """Its first row and the rest; or that it has none to give (a command without rows)."""
    try:
        return answer.fetchone(), answer.fetchall()
    except psycopg.ProgrammingError as exc:
        return (str(exc),)


def test_one_message_answers_as_a_pipeline(
    sessions: tuple[psycopg.Connection[Any], ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    batched, pipelined = sessions
    waits = [0]
    wait = psycopg.Connection.wait

    def counting(self: psycopg.Connection[Any], *args: Any, **kwargs: Any) -> Any:
        waits[0] += self is batched
        return wait(self, *args, **kwargs)

    monkeypatch.setattr(psycopg.Connection, "wait", counting)

    assert _answers(batched, COMMANDS) == _answers(pipelined, COMMANDS)
    assert waits[0] == 1  # one message, one wait for its answers
    assert _answers(batched, COMMANDS)[3][2:] == ((1,), [(2,), (3,)])


def test_the_first_failure_stops_the_message_as_it_stops_a_pipeline(
    sessions: tuple[psycopg.Connection[Any], ...],
) -> None:
    for conn in sessions:
        conn.execute("SAVEPOINT before")
        sent = Trip(conn)
        answers = [sent.execute(command) for command in FAILING]

        with pytest.raises(psycopg.errors.DivisionByZero):
            sent.send()

        assert [a.statusmessage for a in answers] == ["SELECT 1", None, None]
        conn.execute("ROLLBACK TO SAVEPOINT before")
