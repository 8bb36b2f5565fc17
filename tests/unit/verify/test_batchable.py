"""What a batch may hold: its commands stay apart, and what the server would parse or run
otherwise in a batch is not batched (pure, no server)."""

from __future__ import annotations

import pytest

from migration_rollback.verify import batch


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
