"""The shadow out of room, judged once (room.py): which errors stop the run rather than become
a verdict, what a lost session with little room left means, and the words said (where, why
there, the override). The same on a real full filesystem: tests/integration/verify/
test_scratch_full.py."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from migration_rollback.verify.cluster import TemporaryCluster, c_messages
from migration_rollback.verify.room import (
    NO_SPACE,
    UNPLACED,
    WAL_SEGMENT,
    Room,
    refusal,
    short_of_room,
)
from migration_rollback.verify.scratch import (
    SCRATCH_DIR_ENV,
    SHM,
    Medium,
    ScratchBase,
    probe_oom_kills,
)
from migration_rollback.verify.shadow import _given_room, _room_of

MIB = 1024**2
HINT = f"set {SCRATCH_DIR_ENV}=/tmp (or another directory with more room) and run again"


def error(
    sqlstate: str, message: str = "could not extend file: No space left on device"
) -> psycopg.Error:
    found: psycopg.Error = psycopg.errors.lookup(sqlstate)(message)
    return found


@pytest.mark.parametrize(
    ("sqlstate", "stops"),
    [
        ("53100", True),  # disk_full
        ("53200", False),  # out_of_memory: a migration taking too many locks, as in production
        ("53300", False),  # too_many_connections
        ("53400", False),  # configuration_limit_exceeded
        ("23505", False),  # the migration's own failure
        ("42P01", False),
        ("0A000", False),  # feature_not_supported
    ],
)
def test_only_disk_full_stops_the_run_while_the_session_lives(sqlstate: str, stops: bool) -> None:
    room = Room("ran out of room in /x", "hint", data_dir=None)
    refused = refusal(room, error(sqlstate), lost=False)
    assert (refused is not None) is stops


@pytest.mark.parametrize(
    ("free", "log_says", "said"),
    [
        (3 * MIB, False, "3 MiB free, under the 16 MiB a WAL segment takes"),
        (200 * 1024, True, "200 KiB free, under the 16 MiB a WAL segment takes"),
        (WAL_SEGMENT - 1, False, "15 MiB free"),
        (WAL_SEGMENT, False, None),  # room for a segment: it was for something else
        (2 * 1024**3, False, None),
        (2 * 1024**3, True, "(the server's log)"),  # the log, the second signal
        (None, True, "(the server's log)"),  # the directory gone or unreadable
        (None, False, None),
    ],
)
def test_the_room_is_short_when_the_free_room_or_the_log_says_so(
    free: int | None, log_says: bool, said: str | None
) -> None:
    found = short_of_room(free, log_says)
    if said is None:
        assert found is None
    else:
        assert found is not None
        assert said in found
        assert found.startswith(NO_SPACE)


def test_a_lost_session_on_a_server_elsewhere_is_not_guessed_at() -> None:
    lost = psycopg.OperationalError("server closed the connection unexpectedly")
    assert refusal(_given_room("postgresql://u:pw@db.example/x"), lost, lost=True) is None


@pytest.mark.parametrize(
    ("exc", "lost", "said"),
    [
        (psycopg.OperationalError("server closed the connection"), True, "dropped every session"),
        (error("XX000", "checkpoint request failed"), False, "said: checkpoint request failed"),
        (error("57014", "canceling statement due to statement timeout"), False, None),
    ],
    ids=["lost", "internal", "timeout"],
)
def test_a_lost_session_or_an_internal_error_is_judged_by_the_room(
    tmp_path: Path, exc: psycopg.Error, lost: bool, said: str | None
) -> None:
    roomy = Room("ran out of room in here", "hint", data_dir=tmp_path, log=tmp_path / "log")
    assert refusal(roomy, exc, lost=lost) is None  # this machine's tmp_path has room
    (tmp_path / "log").write_text(f"PANIC:  could not write to file: {NO_SPACE}\n")
    refused = refusal(roomy, exc, lost=lost)
    if said is None:  # not a sign of room, whatever the log says
        assert refused is None
        return
    assert refused is not None
    assert str(refused).startswith(f"ran out of room in here: {NO_SPACE} (the server's log), ")
    assert said in str(refused)


def test_the_throwaway_cluster_says_where_why_and_the_override(tmp_path: Path) -> None:
    scratch = ScratchBase(SHM, Medium.MEMORY, f"{SHM} is a tmpfs with room")
    cluster = TemporaryCluster(Path("/bin"), SHM / "migration-rollback-pg-x", 5432, None,
                               scratch=scratch)  # fmt: skip
    refused = refusal(_room_of(cluster), error("53100"), lost=False)
    assert str(refused) == (
        f"the temporary PostgreSQL ran out of room in {SHM} (chosen because {SHM} is a tmpfs "
        f"with room): could not extend file: No space left on device; {HINT}"
    )


def test_a_given_server_is_named_without_its_password() -> None:
    room = _given_room("postgresql://me:s3cretpw@db.example:5433/app")
    said = str(refusal(room, error("53100"), lost=False))
    assert "s3cretpw" not in said
    assert "db.example:5433" in said
    assert "--shadow-url another server" in said


def test_a_server_built_without_a_place_still_stops_the_run() -> None:
    assert refusal(UNPLACED, error("53100"), lost=False) is not None


def test_an_oom_kill_since_the_start_is_a_want_of_room_in_memory() -> None:
    # A cluster in /dev/shm that reaches the memory cgroup's limit: the OOM killer takes a
    # backend, the postmaster restarts, every session is lost, and the tmpfs still has room.
    said = short_of_room(2 * 1024**3, log_says=False, oom_killed=1)
    assert said is not None
    assert "memory cgroup's limit was reached (1 process(es) OOM-killed" in said
    assert short_of_room(2 * 1024**3, log_says=False, oom_killed=0) is None


def test_a_cluster_in_memory_counts_oom_kills_from_its_start(tmp_path: Path) -> None:
    scratch = ScratchBase(SHM, Medium.MEMORY, f"{SHM} is a tmpfs with room")
    cluster = TemporaryCluster(Path("/bin"), SHM / "migration-rollback-pg-x", 5432, None,
                               scratch=scratch)  # fmt: skip
    room = _room_of(cluster)
    assert room.memory
    assert room.oom_kills == probe_oom_kills()
    on_disk = ScratchBase(tmp_path, Medium.DISK, "named")
    assert not _room_of(TemporaryCluster(Path("/bin"), tmp_path / "x", 5432, None,
                                         scratch=on_disk)).memory  # fmt: skip


def test_a_full_dev_shm_in_a_parallel_query_is_not_blamed_on_the_scratch_directory() -> None:
    said = 'could not resize shared memory segment "/PostgreSQL.1" to 8388608 bytes: No space left'
    room = Room("the temporary PostgreSQL ran out of room in /var/tmp", "hint", data_dir=None)
    refused = str(refusal(room, error("53100", said), lost=False))
    assert refused.startswith("the shadow PostgreSQL ran out of shared memory (/dev/shm on its")
    assert "/var/tmp" not in refused
    assert "max_parallel_workers_per_gather" in refused


def test_initdb_speaks_english_whatever_the_callers_locale() -> None:
    # Its stderr is searched for NO_SPACE to add the override: a translated message would not
    # hold it (this machine has no other locale to run initdb under, so the rule is checked).
    env = c_messages({"LANG": "de_DE.UTF-8", "LC_ALL": "de_DE.UTF-8", "LC_MESSAGES": "de_DE"})
    assert env["LC_ALL"] == "C"
    assert env["LANG"] == "de_DE.UTF-8"  # the rest passed on
