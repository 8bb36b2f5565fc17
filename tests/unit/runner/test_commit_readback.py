"""What a lost COMMIT answer means, for apply and execute alike: one table, every row."""

from __future__ import annotations

import pytest

from migration_rollback.runner.commit_readback import CommitAnswer, ReadBack, raise_for
from migration_rollback.runner.errors import (
    CommitInterruptedError,
    CommitUnknownError,
    ConnectionLostError,
)
from migration_rollback.runner.exitcodes import ExitCode


@pytest.mark.parametrize(
    ("answer", "error", "code", "said"),
    [
        (CommitAnswer(ReadBack.LANDED, "SIGTERM"), CommitInterruptedError,
         ExitCode.INTERRUPTED, "stopped by SIGTERM during the COMMIT of m; read back on a new "
         "connection: it landed"),
        (CommitAnswer(ReadBack.NOT_LANDED, "SIGTERM"), CommitInterruptedError,
         ExitCode.INTERRUPTED, "it did not land"),
        (CommitAnswer(ReadBack.UNKNOWN, "SIGINT"), CommitUnknownError,
         ExitCode.COMMIT_UNKNOWN, "stopped by SIGINT during the COMMIT of m; its "
         "outcome could not"),
        (CommitAnswer(ReadBack.NOT_LANDED), ConnectionLostError,
         ExitCode.CONNECTION_LOST, "the connection broke during the COMMIT of m"),
        (CommitAnswer(ReadBack.UNKNOWN), CommitUnknownError, ExitCode.COMMIT_UNKNOWN,
         "check the history table"),
    ],
)  # fmt: skip
def test_each_lost_answer_is_said_with_its_exit_code(
    answer: CommitAnswer, error: type[Exception], code: ExitCode, said: str
) -> None:
    with pytest.raises(error) as caught:
        raise_for(answer, "m")
    assert caught.value.exit_code is code  # type: ignore[attr-defined]
    assert said in str(caught.value)


def test_a_broken_commit_that_landed_goes_on_with_a_warning() -> None:
    assert CommitAnswer(ReadBack.LANDED).landed
    warning = raise_for(CommitAnswer(ReadBack.LANDED), "m")
    assert (
        warning
        == "the connection broke during the COMMIT of m; read back on a new connection: it landed"
    )


def test_an_answered_commit_needs_no_read_back() -> None:
    assert CommitAnswer().landed
    assert raise_for(CommitAnswer(), "m") is None
    assert not CommitAnswer(ReadBack.UNKNOWN, "SIGTERM").landed
