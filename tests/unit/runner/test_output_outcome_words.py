"""What a run says when output it was asked for could not be written (pure: no files here).

The exit code: a success that lost a file is OUTPUT_FAILED, a failure keeps its own code (it
says what the database came to). The line: one line whatever the path holds, and apply's
words for what the database came to match its result.
"""

from __future__ import annotations

import pytest

from migration_rollback.runner.apply_result import ApplyResult, outcome_line
from migration_rollback.runner.exitcodes import ExitCode
from migration_rollback.runner.output_file import Unwritten, exit_after

LOST = [Unwritten("the result file", "/ci/out.json", "No space left on device")]


@pytest.mark.parametrize(
    ("code", "lost", "expected"),
    [
        (ExitCode.OK, LOST, ExitCode.OUTPUT_FAILED),
        (ExitCode.OK, [], ExitCode.OK),
        (ExitCode.SQL_ERROR, LOST, ExitCode.SQL_ERROR),
        (ExitCode.DEFERRED_FAILED, LOST, ExitCode.DEFERRED_FAILED),
    ],
)
def test_only_a_success_becomes_output_failed(
    code: ExitCode, lost: list[Unwritten], expected: ExitCode
) -> None:
    assert exit_after(code, lost) is expected


def test_output_failed_is_not_retryable() -> None:
    # The work is done: running it again would meet a migration no longer applied.
    assert not ExitCode.OUTPUT_FAILED.retryable


def test_the_line_stays_one_line_whatever_the_path_holds() -> None:
    lost = Unwritten("the report", "/tmp/a\nmigration-rollback: OK", "No such file or directory")

    line = lost.line("execute", "rollback of x committed")

    assert "\n" not in line
    assert line == (
        "migration-rollback execute: error: rollback of x committed; could not write the "
        "report /tmp/a\\nmigration-rollback: OK: No such file or directory"
    )


def applied(**fields: object) -> ApplyResult:
    result = ApplyResult(database="db", dry_run=False)
    for name, value in fields.items():
        setattr(result, name, value)
    return result


@pytest.mark.parametrize(
    ("result", "words"),
    [
        (applied(), "nothing to apply"),
        (applied(dry_run=True, pending=["1_a"]), "dry run: nothing was committed"),
        (applied(pending=["1_a", "2_b"], committed=["1", "2"]), "2 migration(s) committed (1, 2)"),
        (
            applied(pending=["1_a", "2_b"], committed=["1"], error="boom"),
            "1 migration(s) committed (1), then the run failed",
        ),
        (applied(pending=["1_a"], error="boom"), "no migration was committed"),
        (
            applied(pending=["1_a"], commit_read_back={"1": "unknown"}, error="lost"),
            "whether 1 committed is unknown; check the history table",
        ),
    ],
)
def test_apply_says_what_the_database_came_to(result: ApplyResult, words: str) -> None:
    assert outcome_line(result) == words
