"""apply's own session against a forward migration's changes: the pure decisions of
runner/apply_session.py (what is put back, what a stricter timeout is, the warnings)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from migration_rollback.runner.apply_session import (
    TIMEOUTS,
    WATCHED,
    is_stricter,
    put_back,
    refuse_forward,
    session_warnings,
)
from migration_rollback.runner.errors import PreconditionError
from migration_rollback.sql import parse_script

BASE = {"lock_timeout": "5000", "statement_timeout": "1800000", "synchronous_commit": "on"}
FIVE_S, HALF_HOUR = timedelta(seconds=5), timedelta(minutes=30)


@pytest.mark.parametrize(
    ("value", "baseline", "stricter"),
    [("1000", "5000", True), ("5000", "5000", True), ("0", "5000", False),
     ("6000", "5000", False), ("1000", "0", True), (None, "5000", False), ("on", "5000", False)],
)  # fmt: skip
def test_a_stricter_timeout_fires_and_no_later(
    value: str | None, baseline: str, stricter: bool
) -> None:
    assert is_stricter(value, baseline) is stricter


def test_a_switched_off_timeout_is_put_back_and_a_stricter_one_holds() -> None:
    now = {**BASE, "lock_timeout": "1000", "statement_timeout": "0"}

    assert put_back(now, BASE, TIMEOUTS, stricter=True) == {"statement_timeout": "1800000"}


def test_at_the_end_of_the_file_everything_is_put_back() -> None:
    now = {"lock_timeout": "1000", "statement_timeout": "0", "synchronous_commit": "off"}

    assert put_back(now, BASE, WATCHED, stricter=False) == BASE


def test_nothing_changed_nothing_put_back() -> None:
    assert put_back(dict(BASE), BASE, WATCHED, stricter=False) == {}


def test_one_warning_per_file_and_kind_at_its_first_statement() -> None:
    script = parse_script(
        "SET statement_timeout = 0;\nSET lock_timeout = 0;\nSET ROLE app;\n"
        "SET client_encoding = 'UTF8';\n",
        "supabase/migrations/1_remote_schema.sql",
    )

    warnings = session_warnings(script, FIVE_S, HALF_HOUR, keep=False)

    assert warnings == [
        "supabase/migrations/1_remote_schema.sql:1: `SET statement_timeout = 0` changes the "
        "runner's timeouts: apply keeps its own, put back right after it (a stricter timeout "
        "holds to the end of the file; --keep-migration-timeouts keeps the file's own until "
        "then) [and 1 more like it] (apply's: --lock-timeout 5s, --statement-timeout 30m)",
        "supabase/migrations/1_remote_schema.sql:3: `SET ROLE app` changes the role the runner's "
        "statements run as: the file's later statements run as that role, to the end of the "
        "file: apply resets it before its COMMIT and the next file (the history row is written "
        "as the connecting role)",
    ]


def test_the_warning_says_when_the_files_own_timeouts_are_kept() -> None:
    script = parse_script("SET lock_timeout = 0;\n", "a.sql")

    (warning,) = session_warnings(script, timedelta(seconds=90), timedelta(hours=2), keep=True)

    assert warning.endswith(
        "(apply's: --lock-timeout 90s, --statement-timeout 2h; --keep-migration-timeouts given)"
    )


def test_replica_mode_is_refused_with_file_line_column_and_advice() -> None:
    script = parse_script("CREATE TABLE t (id int);\n  SET session_replication_role = replica;\n",
                          "a.sql")  # fmt: skip

    with pytest.raises(PreconditionError) as refused:
        refuse_forward(script)

    message = str(refused.value)
    assert message.startswith("a.sql:2:3: `SET session_replication_role = replica` changes ")
    assert "apply refuses it" in message
    assert "DISABLE TRIGGER" in message
    assert session_warnings(script, FIVE_S, HALF_HOUR, keep=False) == []  # said as the error


def test_a_header_only_file_is_not_refused() -> None:
    refuse_forward(parse_script("SET statement_timeout = 0;\nSET ROLE app;\n", "a.sql"))
