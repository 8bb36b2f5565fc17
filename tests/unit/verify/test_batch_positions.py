"""Where an error of a batch is: the server counts its position from the start of the whole
message; a failure names it within the failing command (pure arithmetic, no server)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from migration_rollback.verify import batch

TEXTS = ["BEGIN", "create table a (id int) -- é", "select nosuch from a"]


def _error(position: int | None) -> Any:
    return SimpleNamespace(diag=SimpleNamespace(statement_position=position and str(position)))


def _start(index: int) -> int:
    return sum(len(t) + len(batch.SEPARATOR) for t in TEXTS[:index])


def test_a_position_is_counted_within_its_command() -> None:
    at = TEXTS[2].index("nosuch") + 1
    assert batch._position(_error(_start(2) + at), TEXTS, 2) == at


@pytest.mark.parametrize("position", [None, 1, 10_000])
def test_no_position_or_one_outside_the_command_is_none(position: int | None) -> None:
    assert batch._position(_error(position), TEXTS, 2) is None


def test_a_comment_at_a_commands_end_cannot_swallow_the_next() -> None:
    assert batch.SEPARATOR.startswith("\n")  # a `--` comment ends at the newline


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("comment on table t is E'a\\nb'", "CommentStmt"),  # a backslash
        ("comment on table t is U&'d0061t'", "CommentStmt"),  # parsed per the settings
        ("comment on table t is u&'d0061t'", "CommentStmt"),
        ("set standard_conforming_strings = off", "VariableSetStmt"),
        ("set local lock_timeout = '1s'", "VariableSetStmt"),
        ("reset all", "VariableSetStmt"),
        ("select set_config('standard_conforming_strings', 'off', true)", "SelectStmt"),
        ("do $$ begin set standard_conforming_strings = off; end $$", "DoStmt"),
        ("create event trigger e on ddl_command_start execute function f()", "CreateEventTrigStmt"),
        ("alter event trigger e enable", "AlterEventTrigStmt"),
        ("copy t from stdin", "CopyStmt"),
    ],
)
def test_what_may_parse_or_run_otherwise_in_a_batch_is_not_batched(text: str, kind: str) -> None:
    assert not batch.batchable(text, kind)


def test_plain_ddl_is_batched() -> None:
    assert batch.batchable("comment on table t is 'x'", "CommentStmt")
    assert batch.batchable("create table public.t (id int)", "CreateStmt")
