"""Which leftover cluster folders may go: only a dead cluster's (its postmaster.pid names a
process that is gone), older than a minute, and ours; and which copies of server binaries: only
one whose maker is gone and whose cluster is gone, older than a minute, and ours. Anything less
certain stays."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from migration_rollback.verify.leftovers import (
    INSTALL_PREFIX,
    MAKER_FILE,
    MIN_AGE_S,
    OWNER_FILE,
    Leftover,
    StagedCopy,
    maker_text,
    orphaned,
    owner_text,
    pid_in,
    removable,
    removable_copy,
    survey,
    survey_copies,
)

US, SERVER_USER, SOMEONE = 0, 104, 1000
OURS = {US, SERVER_USER}
OLD = MIN_AGE_S + 1


def found(
    pid: int | None = 4242,
    alive: bool = False,
    age: float = OLD,
    owner: int = US,
    maker_alive: bool | None = None,
) -> Leftover:
    return Leftover(Path("/dev/shm/migration-rollback-pg-x"), owner, pid, alive, age, maker_alive)


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


def copy(
    pid: int | None = 4242,
    alive: bool = False,
    serves: bool = False,
    age: float = OLD,
    owner: int = US,
) -> StagedCopy:
    return StagedCopy(Path("/tmp/migration-rollback-pg-install-x"), owner, pid, alive, serves, age)


@pytest.mark.parametrize(
    ("leftover", "expected"),
    [
        (copy(), True),  # its maker dead, its cluster gone, old, ours
        (copy(owner=SERVER_USER), True),  # chowned to the server's user
        (copy(alive=True), False),  # its maker alive: in use
        (copy(serves=True), False),  # its cluster still there: a server may run from it
        (copy(pid=None), False),  # no owner file: an older version's, or being made
        (copy(age=MIN_AGE_S - 1), False),
        (copy(owner=SOMEONE), False),
    ],
)
def test_only_an_old_copy_of_ours_nobody_uses_is_removable(
    leftover: StagedCopy, expected: bool
) -> None:
    assert removable_copy(leftover, OURS) is expected


def test_a_copys_owner_file_reads_back(tmp_path: Path) -> None:
    cluster = tmp_path / "migration-rollback-pg-abc"
    folder = tmp_path / f"{INSTALL_PREFIX}x"
    folder.mkdir()
    (folder / OWNER_FILE).write_text(owner_text(4242, cluster))
    (found_copy,) = survey_copies(tmp_path)
    assert (found_copy.pid, found_copy.serves_a_cluster) == (4242, False)
    cluster.mkdir()
    assert survey_copies(tmp_path)[0].serves_a_cluster
    assert survey(tmp_path) != []  # the cluster folder
    assert all(not f.path.name.startswith(INSTALL_PREFIX) for f in survey(tmp_path))


@pytest.mark.parametrize(
    ("leftover", "expected"),
    [
        (found(alive=True, maker_alive=False), True),  # running, its maker SIGKILLed
        (found(alive=True, maker_alive=False, owner=SERVER_USER), True),
        (found(alive=True, maker_alive=True), False),  # its maker runs: another run's
        (found(alive=True, maker_alive=None), False),  # no maker file: an older version's
        (found(alive=False, maker_alive=False), False),  # not running: removable() says
        (found(pid=None, alive=False, maker_alive=False), False),  # initdb, maybe now
        (found(alive=True, maker_alive=False, age=MIN_AGE_S - 1), False),  # too young
        (found(alive=True, maker_alive=False, owner=SOMEONE), False),  # another user's
    ],
)
def test_only_an_old_running_server_of_ours_whose_maker_is_gone_is_orphaned(
    leftover: Leftover, expected: bool
) -> None:
    assert orphaned(leftover, OURS) is expected
    assert not (orphaned(leftover, OURS) and removable(leftover, OURS))  # one rule each


def _cluster_folder(base: Path, maker: str | None) -> Path:
    folder = base / "migration-rollback-pg-m"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "postmaster.pid").write_text(f"{os.getpid()}\n")
    if maker is not None:
        (folder / MAKER_FILE).write_text(maker)
    return folder


@pytest.mark.parametrize(
    ("maker", "expected"),
    [
        (maker_text(os.getpid()), True),  # this very process
        (f"{os.getpid()}\n", True),  # no start time recorded: the pid alone
        (f"{os.getpid()}\n1\n", False),  # the pid reused by another process since
        (None, None),  # no file: an older version's folder
        ("garbage\n", None),
    ],
)
def test_a_maker_is_alive_only_as_the_same_process(
    tmp_path: Path, maker: str | None, expected: bool | None
) -> None:
    _cluster_folder(tmp_path, maker)
    (leftover,) = survey(tmp_path)
    assert leftover.maker_alive is expected
