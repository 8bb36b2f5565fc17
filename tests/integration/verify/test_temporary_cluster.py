"""The throwaway cluster is the one it started: a port picked free but taken before the server
binds it (by another cluster starting at the same moment) is given up for another, and the
readiness check cannot be answered by whatever server holds the port. It lives where the
scratch rule says (in memory with its WAL bounded, or in the directory named), leaves
nothing behind on any path out, and removes what a killed one left (never a live one)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from migration_rollback.errors import DatabaseUnavailableError
from migration_rollback.verify import cluster
from migration_rollback.verify.leftovers import (
    INSTALL_PREFIX,
    MAKER_FILE,
    OWNER_FILE,
    PREFIX,
    maker_text,
    owner_text,
)
from migration_rollback.verify.scratch import (
    MEMORY_SETTINGS,
    SCRATCH_DIR_ENV,
    SHM,
    Medium,
    probe_mount,
)

pytestmark = pytest.mark.integration


def test_a_port_taken_before_the_bind_is_given_up_for_another(
    pg_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = int(psycopg.conninfo.conninfo_to_dict(pg_server.admin_url)["port"] or 5432)
    picks = iter([taken])
    free = cluster._free_port
    # The session's server holds the first port picked, as another cluster could by then.
    monkeypatch.setattr(cluster, "_free_port", lambda: next(picks, None) or free())
    with cluster.temporary_cluster() as ours:
        assert ours.port != taken
        with psycopg.connect(ours.url()) as conn:
            row = conn.execute("SHOW data_directory").fetchone()
        assert row is not None
        assert row[0] == str(ours.data_dir)


# --- where it lives, and that it leaves nothing behind ------------------------------------------


@pytest.fixture
def scratch_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A directory named in the scratch variable, that the server's user may enter (pytest's
    tmp_path is 0700 under root: the `postgres` user could not)."""
    folder = Path(tempfile.mkdtemp(prefix="scratch-test-"))
    folder.chmod(0o711)
    monkeypatch.setenv(SCRATCH_DIR_ENV, str(folder))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def show(ours: cluster.TemporaryCluster, setting: str) -> str:
    with psycopg.connect(ours.url()) as conn:
        row = conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(setting))).fetchone()
    assert row is not None
    return str(row[0])


def test_a_named_directory_holds_the_cluster_and_is_left_empty(scratch_dir: Path) -> None:
    with cluster.temporary_cluster() as ours:
        assert ours.base_dir.parent == scratch_dir
        assert Path(show(ours, "data_directory")) == ours.data_dir
        expected = "64MB" if ours.medium is Medium.MEMORY else "1GB"  # PostgreSQL's default
        assert show(ours, "max_wal_size") == expected
    assert list(scratch_dir.iterdir()) == []


@pytest.mark.skipif(probe_mount(SHM).fstype != "tmpfs", reason="no tmpfs at /dev/shm here")
def test_a_cluster_in_memory_has_its_wal_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    folder = Path(tempfile.mkdtemp(prefix="scratch-test-", dir=SHM))
    folder.chmod(0o711)
    monkeypatch.setenv(SCRATCH_DIR_ENV, str(folder))
    try:
        with cluster.temporary_cluster() as ours:
            assert ours.medium is Medium.MEMORY
            assert show(ours, "max_wal_size") == MEMORY_SETTINGS["max_wal_size"]
            assert show(ours, "min_wal_size") == MEMORY_SETTINGS["min_wal_size"]
            assert show(ours, "wal_level") == "logical"
        assert list(folder.iterdir()) == []
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class Boom(Exception):
    pass


def _raise(*_args: object, **_kwargs: object) -> None:
    raise Boom


@pytest.mark.parametrize("where", ["staged_install", "start"])
def test_a_cluster_that_fails_to_start_leaves_nothing(
    scratch_dir: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    target = cluster if where == "staged_install" else cluster.TemporaryCluster
    monkeypatch.setattr(target, where, _raise)
    with pytest.raises(Boom):
        cluster.create_cluster()
    assert list(scratch_dir.iterdir()) == []


def test_a_block_that_fails_leaves_nothing(scratch_dir: Path) -> None:
    def fail_inside() -> None:
        with cluster.temporary_cluster() as ours:
            assert ours.data_dir.is_dir()
            raise Boom

    with pytest.raises(Boom):
        fail_inside()
    assert list(scratch_dir.iterdir()) == []


CACHED = [b for b in cluster.server_bindirs() if cluster.cache_root() in b.parents]


@pytest.fixture
def private_cache() -> Iterator[None]:
    """The cache out of the server user's reach, as under a 0700 home: whether the home is
    private is the machine's business (a tool run may have opened it), the staging is ours."""
    root = cluster.cache_root()
    mode = root.stat().st_mode & 0o7777
    root.chmod(0o700)
    try:
        yield
    finally:
        root.chmod(mode)


@pytest.mark.skipif(
    os.geteuid() != 0 or not CACHED, reason="staging is for cached binaries run as root"
)
@pytest.mark.usefixtures("private_cache")
def test_binaries_staged_for_the_server_user_are_removed_with_the_cluster(
    scratch_dir: Path,
) -> None:
    # Staged on disk: in the named directory when it is on disk (the user said where to write),
    # else in the system temp dir; in memory they would be a full copy.
    with cluster.temporary_cluster(CACHED[0]) as ours:
        staged = ours.install_dir
        assert staged is not None
        assert staged.is_dir()
        on_disk = ours.medium is Medium.DISK
        assert (staged.parent == scratch_dir) is on_disk
        assert (Path(tempfile.gettempdir()) == staged.parent) is not on_disk
    assert not staged.exists()
    assert list(scratch_dir.iterdir()) == []


@pytest.mark.skipif(
    os.geteuid() != 0 or not CACHED or probe_mount(SHM).fstype != "tmpfs",
    reason="staging is for cached binaries run as root; needs a tmpfs at /dev/shm",
)
@pytest.mark.usefixtures("private_cache")
def test_binaries_are_never_staged_in_a_named_directory_in_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = Path(tempfile.mkdtemp(prefix="scratch-test-", dir=SHM))
    folder.chmod(0o711)
    monkeypatch.setenv(SCRATCH_DIR_ENV, str(folder))
    try:
        with cluster.temporary_cluster(CACHED[0]) as ours:
            assert ours.medium is Medium.MEMORY
            assert ours.install_dir is not None
            assert ours.install_dir.parent == Path(tempfile.gettempdir())
        assert list(folder.iterdir()) == []
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="the server runs as another user only under root")
def test_a_named_directory_the_server_user_cannot_enter_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o700)
    monkeypatch.setenv(SCRATCH_DIR_ENV, str(locked))
    with pytest.raises(DatabaseUnavailableError) as caught:
        cluster.create_cluster()
    assert str(caught.value) == (
        f"{SCRATCH_DIR_ENV}={locked}: the server's user (postgres) cannot enter it"
    )
    assert list(locked.iterdir()) == []


# --- what a SIGKILL left behind -----------------------------------------------------------------

LONG_AGO = 3 * 60.0


def dead_pid() -> int:
    """The pid of a process that has exited (and was reaped)."""
    gone = subprocess.Popen(["true"])
    gone.wait()
    return gone.pid


def leftover(base: Path, name: str, pid: int | None, age: float = LONG_AGO) -> Path:
    folder = base / f"{PREFIX}{name}"
    (folder / "data").mkdir(parents=True)
    if pid is not None:
        (folder / "data" / "postmaster.pid").write_text(f"{pid}\n{folder / 'data'}\n")
    aged(folder, age)
    return folder


def aged(folder: Path, age: float) -> None:
    then = time.time() - age
    for path in (folder, folder / "data" / "postmaster.pid"):
        if path.exists():
            os.utime(path, (then, then))


def test_a_dead_clusters_folder_is_removed_and_nothing_else(scratch_dir: Path) -> None:
    dead = leftover(scratch_dir, "dead", dead_pid())
    kept = [
        leftover(scratch_dir, "young", dead_pid(), age=5.0),  # may be starting right now
        leftover(scratch_dir, "alive", os.getpid()),  # a live process: another worker's
        leftover(scratch_dir, "initdb", None),  # no postmaster.pid: being made
    ]
    with cluster.temporary_cluster() as ours:
        assert not dead.exists()
        assert all(folder.is_dir() for folder in kept)
        assert ours.base_dir.is_dir()
    assert sorted(scratch_dir.iterdir()) == sorted(kept)


@pytest.mark.skipif(os.geteuid() != 0, reason="a folder of another owner needs root to make")
def test_another_users_dead_cluster_is_left(scratch_dir: Path) -> None:
    theirs = leftover(scratch_dir, "theirs", dead_pid())
    os.chown(theirs, 65534, 65534)  # nobody
    with cluster.temporary_cluster():
        assert theirs.is_dir()


def test_a_live_cluster_is_never_removed_even_when_its_pid_looks_dead(scratch_dir: Path) -> None:
    # Another worker's cluster, old: its pid alive. Then its pid as seen from another pid
    # namespace (a /dev/shm shared with another container): dead here, but it answers on its
    # socket, so it stays.
    with cluster.temporary_cluster() as other:
        pid_file = other.data_dir / "postmaster.pid"
        aged(other.base_dir, LONG_AGO)
        with cluster.temporary_cluster():
            assert other.data_dir.is_dir()
        lines = pid_file.read_text().split("\n", 1)
        pid_file.write_text(f"{dead_pid()}\n{lines[1]}")
        aged(other.base_dir, LONG_AGO)
        with cluster.temporary_cluster():
            assert other.data_dir.is_dir()
        with psycopg.connect(other.url()) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)


# --- a server whose maker was SIGKILLed ---------------------------------------------------------

_MAKER = """
import sys, time
from migration_rollback.verify import cluster
made = cluster.create_cluster()
print(made.base_dir, flush=True)
time.sleep(600)
"""


def postmaster_pid(folder: Path) -> int:
    return int((folder / "data" / "postmaster.pid").read_text().split("\n", 1)[0])


def wait_gone(pid: int, seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_a_server_whose_maker_was_killed_is_stopped_and_its_folder_removed(
    scratch_dir: Path,
) -> None:
    maker = subprocess.Popen(
        [sys.executable, "-c", _MAKER], stdout=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    assert maker.stdout is not None
    folder = Path(maker.stdout.readline().strip())
    pid = postmaster_pid(folder)
    maker.kill()  # SIGKILL: nothing of the tool's own cleanup runs
    maker.wait()
    os.kill(pid, 0)  # the server outlived its maker (a session of its own)
    with cluster.temporary_cluster():
        assert folder.is_dir()  # too young to tell: it may be starting right now
    aged(folder, LONG_AGO)
    try:
        with cluster.temporary_cluster() as ours:
            assert wait_gone(pid)
            assert not folder.exists()
            assert ours.base_dir.is_dir()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def test_a_process_that_merely_reused_an_orphans_pid_is_never_signalled(
    scratch_dir: Path,
) -> None:
    # The maker is gone and the pid in postmaster.pid is alive, but it is not this folder's
    # server (a pid reused by another program): nothing is sent to it, the folder stays.
    other = subprocess.Popen(["sleep", "300"])
    try:
        folder = leftover(scratch_dir, "reused", other.pid)
        (folder / MAKER_FILE).write_text(maker_text(dead_pid()))
        aged(folder, LONG_AGO)
        with cluster.temporary_cluster():
            assert other.poll() is None
            assert folder.is_dir()
    finally:
        other.kill()
        other.wait()


# --- the binaries' copies a SIGKILL left behind, and a copy that cannot be made ------------------


def staged_copy(base: Path, name: str, pid: int | None, cluster_dir: Path, age: float) -> Path:
    folder = base / f"{INSTALL_PREFIX}{name}"
    (folder / "install" / "bin").mkdir(parents=True)
    if pid is not None:
        (folder / OWNER_FILE).write_text(owner_text(pid, cluster_dir))
    then = time.time() - age
    os.utime(folder, (then, then))
    return folder


@pytest.mark.skipif(
    os.geteuid() != 0 or not CACHED, reason="staging is for cached binaries run as root"
)
@pytest.mark.usefixtures("private_cache")
def test_a_dead_processs_copy_of_the_binaries_is_removed_and_nothing_else(
    scratch_dir: Path,
) -> None:
    gone_cluster = scratch_dir / "no-such-cluster"
    live_cluster = leftover(scratch_dir, "live", os.getpid())  # a cluster still there
    dead = staged_copy(scratch_dir, "dead", dead_pid(), gone_cluster, LONG_AGO)
    kept = [
        staged_copy(scratch_dir, "young", dead_pid(), gone_cluster, 5.0),
        staged_copy(scratch_dir, "maker-alive", os.getpid(), gone_cluster, LONG_AGO),
        staged_copy(scratch_dir, "serving", dead_pid(), live_cluster, LONG_AGO),
        staged_copy(scratch_dir, "no-owner", None, gone_cluster, LONG_AGO),
    ]
    with cluster.temporary_cluster(CACHED[0]) as ours:
        assert ours.install_dir is not None  # staged: so the sweep ran where it stages
        assert ours.install_dir.parent == scratch_dir
        assert not dead.exists()
        assert all(folder.is_dir() for folder in kept)
    assert sorted(scratch_dir.iterdir()) == sorted([live_cluster, *kept])


@pytest.mark.skipif(
    os.geteuid() != 0 or not CACHED, reason="staging is for cached binaries run as root"
)
@pytest.mark.usefixtures("private_cache")
def test_a_copy_of_the_binaries_that_cannot_be_made_says_where_and_what_to_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The system temp dir on a 2 MiB filesystem: the copy (hard links fail across filesystems,
    # so a real copy) runs out of room. It was a bare OSError out of shutil.
    point = Path(tempfile.mkdtemp(prefix="staging-full-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m,mode=0711", "tmpfs", str(point)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        point.rmdir()
        pytest.skip("cannot mount a tmpfs here")
    monkeypatch.delenv(SCRATCH_DIR_ENV, raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(point))
    try:
        with pytest.raises(DatabaseUnavailableError) as caught:
            cluster.create_cluster(CACHED[0])
        said = str(caught.value)
        assert said.startswith(
            f"cannot copy the PostgreSQL server binaries where postgres can run them, in {point} "
            "(the system temp dir: "
        )
        assert "No space left on device" in said
        assert said.endswith(f"set {SCRATCH_DIR_ENV}=/tmp (or another directory with more room) "
                             "and run again")  # fmt: skip
        assert list(point.iterdir()) == []
    finally:
        subprocess.run(["umount", str(point)], check=True)
        point.rmdir()
