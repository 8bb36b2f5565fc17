"""A scratch directory that fills is said as such: initdb's failure names the directory, why it
was chosen, initdb's own words and the override; during a replay it is not the migration's
failure but a DatabaseUnavailableError saying the same, whether PostgreSQL reported it (SQLSTATE
53100, a sort spilling to disk) or restarted because it could not write its WAL (the session
lost). On real tmpfs mounts of 2 and 64 MiB."""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from verify_support import write_project

from migration_rollback.errors import DatabaseUnavailableError
from migration_rollback.verify import cluster, verify_project
from migration_rollback.verify.scratch import SCRATCH_DIR_ENV

pytestmark = pytest.mark.integration

SORT_SPILL = (
    "create table public.t (id int);\n"
    "do $$ begin perform count(*) from (select g, repeat(md5(g::text), 30)\n"
    "  from generate_series(1, 300000) g order by 2) s; end $$;\n"
)
WAL_FILL = (
    "create table public.big (id int primary key, pad text);\n"
    "insert into public.big select g, repeat(md5(g::text), 20)\n"
    "  from generate_series(1, 200000) g;\n"
)


@contextlib.contextmanager
def tmpfs_named(size: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A tmpfs of `size` named in the scratch variable (mounting needs root, or is skipped)."""
    point = Path(tempfile.mkdtemp(prefix="scratch-full-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0711", "tmpfs", str(point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        point.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip() or mounted.returncode}")
    monkeypatch.setenv(SCRATCH_DIR_ENV, str(point))
    try:
        yield point
    finally:
        subprocess.run(["umount", str(point)], check=True)
        point.rmdir()


@pytest.fixture
def small_tmpfs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    with tmpfs_named("64m", monkeypatch) as point:
        yield point


@pytest.mark.parametrize("forward", [SORT_SPILL, WAL_FILL], ids=["sqlstate-53100", "wal-restart"])
def test_a_full_scratch_directory_is_said_not_a_migration_failure(
    small_tmpfs: Path, tmp_path: Path, forward: str
) -> None:
    pairs = write_project(tmp_path, [("big", forward, "drop table public.t;")])
    with pytest.raises(DatabaseUnavailableError) as caught:
        verify_project(pairs, None)
    said = str(caught.value)
    assert f"ran out of room in {small_tmpfs} (chosen because {SCRATCH_DIR_ENV} names it)" in said
    assert "No space left on device" in said
    assert f"set {SCRATCH_DIR_ENV}=/tmp" in said
    assert list(small_tmpfs.iterdir()) == []  # the cluster removed all the same


def test_initdb_out_of_room_is_said_with_the_directory_and_its_tail(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # It was a bare CalledProcessError: no directory, no reason, no way out.
    with tmpfs_named("2m", monkeypatch) as point:
        with pytest.raises(DatabaseUnavailableError) as caught:
            cluster.create_cluster()
        said = str(caught.value)
        assert said.startswith(
            f"initdb failed in {point} (chosen because {SCRATCH_DIR_ENV} names it): "
        )
        assert "No space left on device" in said
        assert said.endswith(
            f"set {SCRATCH_DIR_ENV}=/tmp (or another directory with more room) and run again"
        )
        assert list(point.iterdir()) == []
