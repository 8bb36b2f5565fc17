"""The throwaway cluster is the one it started: a port picked free but taken before the server
binds it (by another cluster starting at the same moment) is given up for another, and the
readiness check cannot be answered by whatever server holds the port. It lives where the
scratch rule says (in memory with its WAL bounded, or in the directory named), and leaves
nothing behind on any path out."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from migration_rollback.errors import DatabaseUnavailableError
from migration_rollback.verify import cluster
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


@pytest.mark.parametrize("where", ["_staged_install", "start"])
def test_a_cluster_that_fails_to_start_leaves_nothing(
    scratch_dir: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    target = cluster if where == "_staged_install" else cluster.TemporaryCluster
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


@pytest.mark.skipif(
    os.geteuid() != 0 or not CACHED, reason="staging is for cached binaries run as root"
)
def test_binaries_staged_for_the_server_user_are_removed_with_the_cluster(
    scratch_dir: Path,
) -> None:
    # Staged on disk beside nothing of the cluster's: in memory they would be a full copy.
    with cluster.temporary_cluster(CACHED[0]) as ours:
        staged = ours.install_dir
        assert staged is not None
        assert staged.is_dir()
        assert scratch_dir not in staged.parents
    assert not staged.exists()
    assert list(scratch_dir.iterdir()) == []


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
