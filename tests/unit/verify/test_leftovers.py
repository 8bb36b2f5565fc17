"""Which leftover cluster folders may go: only a dead cluster's (its postmaster.pid names a
process that is gone), older than a minute, and ours. Anything less certain stays."""

from __future__ import annotations

from pathlib import Path

import pytest

from migration_rollback.verify.leftovers import MIN_AGE_S, Leftover, pid_in, removable

US, SERVER_USER, SOMEONE = 0, 104, 1000
OURS = {US, SERVER_USER}
OLD = MIN_AGE_S + 1


def found(
    pid: int | None = 4242, alive: bool = False, age: float = OLD, owner: int = US
) -> Leftover:
    return Leftover(Path("/dev/shm/migration-rollback-pg-x"), owner, pid, alive, age)


@pytest.mark.parametrize(
    ("leftover", "expected"),
    [
        (found(), True),  # dead, old, ours
        (found(owner=SERVER_USER), True),  # chowned to the user the server ran as
        (found(alive=True), False),  # a live cluster: another worker's
        (found(pid=None), False),  # no postmaster.pid: being made by initdb right now
        (found(age=MIN_AGE_S - 1), False),  # too young to tell
        (found(age=MIN_AGE_S), True),
        (found(owner=SOMEONE), False),  # another user's
    ],
)
def test_only_an_old_dead_cluster_of_ours_is_removable(leftover: Leftover, expected: bool) -> None:
    assert removable(leftover, OURS) is expected


@pytest.mark.parametrize(
    ("text", "pid"),
    [
        ("4242\n/dev/shm/x/data\n1733130000\n5432\n", 4242),
        ("4242", 4242),
        ("", None),
        ("0\n", None),
        ("-1\n", None),
        ("abc\n", None),
        ("٣\n", None),  # a Unicode digit is no pid
    ],
)
def test_the_pid_is_the_first_line_of_postmaster_pid(text: str, pid: int | None) -> None:
    assert pid_in(text) == pid
