"""A throwaway PostgreSQL cluster: initdb in a temp dir, a random port, a unix socket.

The shadow database of `validate --verify` and the test fixtures both use it, so what the tests
exercise is what users run. It needs Debian's (or any) PostgreSQL server binaries; when the
current user is root, the server runs as the `postgres` user because PostgreSQL refuses root.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from migration_rollback.errors import DatabaseUnavailableError

_SEARCH_GLOBS = (
    "/usr/lib/postgresql/*/bin",
    "/usr/local/pgsql/bin",
    "/opt/homebrew/opt/postgresql*/bin",
)


def find_server_bindir(preferred_major: int | None = None) -> Path | None:
    """The newest directory holding `initdb` and `postgres` (or the preferred major's)."""
    candidates: list[Path] = []
    env = os.environ.get("MIGRATION_ROLLBACK_PG_BINDIR")
    if env:
        candidates.append(Path(env))
    for pattern in _SEARCH_GLOBS:
        candidates.extend(sorted(Path("/").glob(pattern.lstrip("/")), key=_major_of, reverse=True))
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    usable = [c for c in candidates if (c / "initdb").exists() and (c / "postgres").exists()]
    if preferred_major is not None:
        for c in usable:
            if _major_of(c) == preferred_major:
                return c
    return usable[0] if usable else None


def _major_of(bindir: Path) -> int:
    for part in bindir.parts:
        if part.isdigit():
            return int(part)
    return 0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class TemporaryCluster:
    """A PostgreSQL server private to this process; `stop()` removes every trace of it."""

    bindir: Path
    base_dir: Path
    port: int
    run_as: str | None
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def socket_dir(self) -> Path:
        return self.base_dir / "socket"

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def superuser(self) -> str:
        return "postgres"

    def url(self, dbname: str = "postgres") -> str:
        """A libpq URL over TCP on loopback (no password: trust auth on a private cluster)."""
        return f"postgresql://{self.superuser}@127.0.0.1:{self.port}/{dbname}"

    def _cmd(self, *args: str) -> list[str]:
        if self.run_as:
            return ["runuser", "-u", self.run_as, "--", *args]
        return list(args)

    def start(self, timeout: float = 30.0) -> None:
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        if self.run_as:
            entry = pwd.getpwnam(self.run_as)
            os.chown(self.base_dir, entry.pw_uid, entry.pw_gid)
            os.chown(self.socket_dir, entry.pw_uid, entry.pw_gid)
        subprocess.run(
            self._cmd(
                str(self.bindir / "initdb"),
                "-D", str(self.data_dir),
                "-U", self.superuser,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ),
            check=True,
            capture_output=True,
        )  # fmt: skip
        log = self.base_dir / "postgres.log"
        self._proc = subprocess.Popen(
            self._cmd(
                str(self.bindir / "postgres"),
                "-D", str(self.data_dir),
                "-p", str(self.port),
                "-k", str(self.socket_dir),
                "-c", "listen_addresses=127.0.0.1",
                "-c", "fsync=off",
                "-c", "synchronous_commit=off",
                "-c", "full_page_writes=off",
                "-c", "max_connections=100",
                "-c", "wal_level=logical",
            ),
            stdout=subprocess.DEVNULL,
            stderr=log.open("wb"),
            start_new_session=True,
        )  # fmt: skip
        self._wait_ready(timeout, log)

    def _wait_ready(self, timeout: float, log: Path) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise DatabaseUnavailableError(
                    f"temporary PostgreSQL exited early: {log.read_text(errors='replace')[-2000:]}"
                )
            address = ("127.0.0.1", self.port)
            with contextlib.suppress(OSError), socket.create_connection(address, 0.2):
                ready = subprocess.run(
                    [str(self.bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                    capture_output=True,
                )
                if ready.returncode == 0:
                    return
            time.sleep(0.05)
        raise DatabaseUnavailableError(f"temporary PostgreSQL not ready after {timeout:.0f}s")

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            # SIGINT is PostgreSQL's "fast" shutdown; sent to the group so runuser's child gets it.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, signal.SIGINT)
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self._proc.pid, signal.SIGKILL)
                self._proc.wait()
        shutil.rmtree(self.base_dir, ignore_errors=True)


def _server_user() -> str | None:
    if os.geteuid() != 0:
        return None
    return os.environ.get("MIGRATION_ROLLBACK_PG_USER", "postgres")


def create_cluster(bindir: Path | None = None) -> TemporaryCluster:
    """Start a new private cluster; the caller must `stop()` it (see `temporary_cluster`)."""
    found = bindir or find_server_bindir()
    if found is None:
        raise DatabaseUnavailableError(
            "no PostgreSQL server binaries found (install Debian's postgresql package or "
            "set MIGRATION_ROLLBACK_PG_BINDIR), and no --shadow-url was given"
        )
    base = Path(tempfile.mkdtemp(prefix="migration-rollback-pg-"))
    cluster = TemporaryCluster(
        bindir=found, base_dir=base, port=_free_port(), run_as=_server_user()
    )
    try:
        cluster.start()
    except BaseException:
        cluster.stop()
        raise
    return cluster


@contextlib.contextmanager
def temporary_cluster(bindir: Path | None = None) -> Iterator[TemporaryCluster]:
    """Start a private cluster for the duration of the block, then remove it."""
    cluster = create_cluster(bindir)
    try:
        yield cluster
    finally:
        cluster.stop()
