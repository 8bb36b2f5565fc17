"""SIGTERM / SIGHUP during `validate --verify` stop the throwaway cluster and remove its folder.

The cluster runs in its own process group: a signal to the CLI alone ended the CLI at once
and left the postmaster running (reparented to init) with its folder in /dev/shm, where the
next run's sweep never removes a folder whose server is alive. The CLI now turns the signal
into the clean stop Ctrl-C makes. A real subprocess; the signal is sent once the forward
migration is seen running on the cluster (its marker in pg_stat_activity), no fixed sleeps.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from migration_rollback.verify.leftovers import INSTALL_PREFIX, PREFIX
from migration_rollback.verify.scratch import SHM

pytestmark = pytest.mark.integration
OPERATOR = Path(__file__).resolve().parents[2] / "operator"


def _folders() -> set[Path]:
    bases = {SHM, Path(tempfile.gettempdir())}
    found = {p for base in bases if base.is_dir() for p in base.glob(f"{PREFIX}*")}
    return {p for p in found if not p.name.startswith(INSTALL_PREFIX)}


def _running(folder: Path, marker: str) -> int | None:
    """The postmaster's pid when the cluster in `folder` is running the marked query."""
    try:
        lines = (folder / "data" / "postmaster.pid").read_text().splitlines()
        with psycopg.connect(
            host=lines[4], port=lines[3], user="postgres", dbname="postgres", connect_timeout=2
        ) as conn:
            query = "select count(*) from pg_stat_activity where query like %s"
            seen = conn.execute(query, (f"%{marker}%",)).fetchone()
    except (OSError, IndexError, psycopg.Error):
        return None
    return int(lines[0]) if seen and seen[0] else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_for(check: object, what: str, seconds: float = 120.0) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := check():  # type: ignore[operator]
            return value
        time.sleep(0.1)  # a poll of the state waited for, not a guess at how long it takes
    raise AssertionError(f"never saw {what}")


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, str]:
    marker = f"run_safety_{uuid.uuid4().hex[:10]}"
    folder = tmp_path / "supabase" / "migrations"
    folder.mkdir(parents=True)
    (folder / "20250101000000_t.sql").write_text("create table public.t (id int);\n")
    (folder / "20250102000000_slow.sql").write_text(f"select pg_sleep(300) /* {marker} */;\n")
    return tmp_path, marker


@contextlib.contextmanager
def _cli(cwd: Path, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, "PYTHONPATH": str(OPERATOR)}
    env.pop("MIGRATION_ROLLBACK_SHADOW_URL", None)
    command = [sys.executable, "-m", "migration_rollback", *args]
    proc = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize(
    "signums",
    [(signal.SIGTERM,), (signal.SIGHUP,), (signal.SIGINT, signal.SIGTERM)],
    ids=["SIGTERM", "SIGHUP", "SIGINT then SIGTERM"],  # the second: a CI runner's, mid-cleanup
)
def test_a_signal_during_verify_stops_the_cluster_and_removes_its_folder(
    project: tuple[Path, str], signums: tuple[signal.Signals, ...]
) -> None:
    cwd, marker = project
    before = _folders()
    postmaster: int | None = None
    folder: Path | None = None
    try:
        with _cli(cwd, "validate", "--verify", "--jobs", "1") as proc:

            def running() -> tuple[Path, int] | None:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                for candidate in _folders() - before:
                    if (pid := _running(candidate, marker)) is not None:
                        return candidate, pid
                return None

            folder, postmaster = _wait_for(running, "the slow migration running")  # type: ignore[misc]
            for signum in signums:
                proc.send_signal(signum)
            proc.wait(timeout=60)

        assert not _alive(postmaster), "the shadow's postmaster outlived the CLI"
        assert not folder.exists(), "the cluster's folder was left behind"
        assert proc.returncode != 0
    finally:  # the old behaviour's orphan, if any: stop it here
        if postmaster is not None and _alive(postmaster):
            os.kill(postmaster, signal.SIGQUIT)
            _wait_for(lambda: not _alive(postmaster), "the orphan stopped", 30)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def test_sigterm_during_verify_on_a_shadow_url_drops_the_scratch_database(
    project: tuple[Path, str],
) -> None:
    from migration_rollback.verify.cluster import create_cluster

    cwd, marker = project
    server = create_cluster()
    try:
        with _cli(cwd, "validate", "--verify", "--jobs", "1", "--shadow-url", server.url()) as proc:

            def running() -> bool:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                with psycopg.connect(server.url(), autocommit=True) as conn:
                    query = "select count(*) from pg_stat_activity where query like %s"
                    seen = conn.execute(query, (f"%{marker}%",)).fetchone()
                return bool(seen and seen[0])

            _wait_for(running, "the slow migration running")
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
        with psycopg.connect(server.url(), autocommit=True) as conn:
            left = "select count(*) from pg_database where datname like 'mr_shadow%'"
            assert conn.execute(left).fetchone() == (0,)
    finally:
        server.stop()
