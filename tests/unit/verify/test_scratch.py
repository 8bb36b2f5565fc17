"""Where the throwaway cluster lives: /dev/shm only when it is a tmpfs with room (a Docker
default /dev/shm is 64 MiB and must not be used), a named directory first, the system temp dir
otherwise; and a named directory that cannot serve is said what is wrong with it."""

from __future__ import annotations

from pathlib import Path

import pytest

import migration_rollback
from migration_rollback.verify.scratch import (
    MEMORY_SETTINGS,
    MIN_MEMORY_FREE,
    SCRATCH_DIR_ENV,
    SHM,
    DirState,
    Medium,
    Mount,
    cgroup_path,
    cgroup_room,
    choose_base,
    dir_problem,
    least,
    memory_refusal,
    oom_kills,
    probe_cgroup_room,
    probe_oom_kills,
)

GIB = 1024**3
TMP = Path("/var/tmp-system")
ROOMY_SHM = Mount("tmpfs", 20 * GIB, 20 * GIB)
EXT4 = Mount("ext4", 500 * GIB)
UNKNOWN = Mount(None, None)


def test_a_roomy_tmpfs_holds_the_cluster_with_its_wal_bounded() -> None:
    base = choose_base(None, ROOMY_SHM, TMP, UNKNOWN)
    assert (base.path, base.medium) == (SHM, Medium.MEMORY)
    assert base.server_settings == MEMORY_SETTINGS
    assert set(MEMORY_SETTINGS) == {"min_wal_size", "max_wal_size"}


@pytest.mark.parametrize(
    ("shm", "said"),
    [
        (Mount("tmpfs", 64 * 1024**2, 20 * GIB), "64 MiB free"),  # Docker's default
        (Mount("tmpfs", MIN_MEMORY_FREE - 1, 20 * GIB), "free, under 2.0 GiB"),
        (Mount("tmpfs", 20 * GIB, 1 * GIB), "1.0 GiB free"),  # a tmpfs claiming more than RAM
        (Mount("tmpfs", None, None), "unknown free"),
        (Mount("ext4", 20 * GIB, 20 * GIB), "not a tmpfs (ext4)"),
        (UNKNOWN, "not a tmpfs (filesystem unknown)"),  # no /dev/shm, not Linux
    ],
    ids=["docker-64MiB", "just-under", "little-memory", "free-unknown", "ext4", "absent"],
)
def test_the_system_temp_dir_serves_when_shm_cannot(shm: Mount, said: str) -> None:
    base = choose_base(None, shm, TMP, UNKNOWN)
    assert (base.path, base.medium) == (TMP, Medium.DISK)
    assert base.server_settings == {}
    assert said in base.why


def test_the_threshold_itself_is_enough() -> None:
    assert memory_refusal(Mount("tmpfs", MIN_MEMORY_FREE, MIN_MEMORY_FREE)) is None


@pytest.mark.parametrize(
    ("named", "medium"), [(EXT4, Medium.DISK), (Mount("tmpfs", 1, 1), Medium.MEMORY)]
)
def test_a_named_directory_wins_and_its_own_filesystem_sets_the_medium(
    named: Mount, medium: Medium
) -> None:
    # Named, it is used even on a small tmpfs (the user chose it), with the WAL bounded there.
    base = choose_base("/srv/scratch", ROOMY_SHM, TMP, named)
    assert (base.path, base.medium) == (Path("/srv/scratch"), medium)
    assert SCRATCH_DIR_ENV in base.why
    assert (base.server_settings == MEMORY_SETTINGS) is (medium is Medium.MEMORY)


def test_an_empty_name_is_no_name() -> None:
    assert choose_base("", ROOMY_SHM, TMP, UNKNOWN).path == SHM


@pytest.mark.parametrize(
    ("state", "problem"),
    [
        (DirState(False, False, False, False), "no such directory"),
        (DirState(True, False, False, False), "not a directory"),
        (DirState(True, True, False, True), "not writable by this user"),
        (DirState(True, True, True, False), "the server's user (postgres) cannot enter it"),
        (DirState(True, True, True, True), None),
    ],
    ids=["missing", "file", "read-only", "server-locked-out", "fine"],
)
def test_a_named_directory_that_cannot_serve_says_why(state: DirState, problem: str) -> None:
    assert dir_problem(state, "postgres") == problem


def test_the_variable_is_spelled_only_in_scratch() -> None:
    package = Path(migration_rollback.__file__).parent
    spelled = {
        path.name for path in package.rglob("*.py") if SCRATCH_DIR_ENV in path.read_text("utf-8")
    }
    assert spelled == {"scratch.py"}


# --- a container's memory: its cgroup's room, not the host's MemAvailable ----------------------


@pytest.mark.parametrize(
    ("limit", "usage", "room"),
    [
        ("4294967296\n", "1073741824\n", 3 * GIB),  # v2 memory.max / memory.current
        ("max\n", "1073741824\n", None),  # v2: no limit
        ("9223372036854771712\n", "2456780800\n", None),  # v1: "no limit" is LONG_MAX, paged
        ("1073741824", "2147483648", 0),  # over the limit (reclaimable cache): no room
        ("", "0", None),  # unreadable: unknown, not zero
    ],
)
def test_a_cgroups_room_is_its_limit_less_its_usage(
    limit: str, usage: str, room: int | None
) -> None:
    assert cgroup_room(limit, usage) == room


V1_AND_V2 = "9:name=systemd:/\n4:memory,hugetlb:/kubepods/pod1\n1:cpu:/\n0::/kubepods/pod2\n"


@pytest.mark.parametrize(
    ("text", "controller", "path"),
    [
        (V1_AND_V2, "memory", "/kubepods/pod1"),
        (V1_AND_V2, "", "/kubepods/pod2"),
        ("0::/\n", "memory", None),  # v2 only: no v1 memory controller
        ("4:memory:/x\n", "", None),  # v1 only
        ("", "", None),
    ],
)
def test_the_cgroup_of_a_controller_is_read_from_proc(
    text: str, controller: str, path: str | None
) -> None:
    assert cgroup_path(text, controller) == path


@pytest.mark.parametrize(
    ("amounts", "expected"),
    [((None, None), None), ((5, None), 5), ((None, 3), 3), ((5, 3), 3), ((3, 5), 3)],
)
def test_the_lower_room_wins(amounts: tuple[int | None, int | None], expected: int | None) -> None:
    assert least(*amounts) == expected


def test_a_tmpfs_with_host_memory_but_a_small_container_limit_is_refused() -> None:
    # The host has 20 GiB available; the container may take 1 GiB more: memory would run out.
    shm = Mount("tmpfs", 20 * GIB, least(20 * GIB, cgroup_room(str(4 * GIB), str(3 * GIB))))
    assert memory_refusal(shm) == f"{SHM} has 1.0 GiB free, under 2.0 GiB"
    assert choose_base(None, shm, TMP, UNKNOWN).path == TMP


def test_the_least_room_of_the_cgroup_and_its_parents_is_taken(tmp_path: Path) -> None:
    # The limit set on the parent (the pod) binds the child (the container), whose own is max.
    mount = tmp_path / "cgroup"
    child = mount / "kubepods" / "pod1"
    child.mkdir(parents=True)
    for folder, limit, used in ((mount, "max", 0), (mount / "kubepods", 3 * GIB, GIB)):
        (folder / "memory.max").write_text(f"{limit}\n")
        (folder / "memory.current").write_text(f"{used}\n")
    (child / "memory.max").write_text("max\n")
    (child / "memory.current").write_text(f"{GIB}\n")
    proc = tmp_path / "cgroup.txt"
    proc.write_text("0::/kubepods/pod1\n")
    hierarchies = (("", mount, "memory.max", "memory.current"),)
    assert probe_cgroup_room(proc, hierarchies) == 2 * GIB
    proc.write_text("0::/elsewhere/not-visible\n")  # another namespace's path: the mount's
    assert probe_cgroup_room(proc, hierarchies) is None


@pytest.mark.parametrize(
    ("free", "said"),
    [
        (MIN_MEMORY_FREE - 1, "1.9 GiB"),  # it read "has 2.0 GiB free, under 2.0 GiB"
        (MIN_MEMORY_FREE - 1024**2, "1.9 GiB"),
        (GIB + GIB // 2, "1.5 GiB"),
        (GIB - 1, "1023 MiB"),
        (64 * 1024**2, "64 MiB"),
    ],
)
def test_a_size_under_the_minimum_never_reads_as_the_minimum(free: int, said: str) -> None:
    assert memory_refusal(Mount("tmpfs", free, 20 * GIB)) == f"{SHM} has {said} free, under 2.0 GiB"


V2_EVENTS = "low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\noom_group_kill 0\n"
V1_OOM_CONTROL = "oom_kill_disable 0\nunder_oom 0\noom_kill 5\n"


@pytest.mark.parametrize(
    ("text", "count"), [(V2_EVENTS, 2), (V1_OOM_CONTROL, 5), ("oom_kill_disable 0\n", None)]
)
def test_the_oom_kill_count_is_read_from_either_cgroup_version(
    text: str, count: int | None
) -> None:
    assert oom_kills(text) == count


def test_the_oom_kills_of_this_processs_cgroup_are_read(tmp_path: Path) -> None:
    mount = tmp_path / "cgroup"
    own = mount / "kubepods" / "pod1"
    own.mkdir(parents=True)
    (own / "memory.events").write_text(V2_EVENTS)
    (mount / "memory.events").write_text("oom_kill 40\n")
    proc = tmp_path / "cgroup.txt"
    proc.write_text("0::/kubepods/pod1\n")
    hierarchies = (("", mount, "memory.events"),)
    assert probe_oom_kills(proc, hierarchies) == 2
    proc.write_text("0::/elsewhere/not-visible\n")  # another namespace's path: the mount's
    assert probe_oom_kills(proc, hierarchies) == 40
    proc.write_text("4:memory:/x\n")  # no v2 hierarchy for this process
    assert probe_oom_kills(proc, hierarchies) is None
