"""A throwaway PostgreSQL cluster: initdb in a private folder, a random port, a unix socket.

The shadow database of `validate --verify` and the test fixtures both use it, so what the tests
exercise is what users run. It needs PostgreSQL server binaries: Debian's (or any system
install), or the ones `scripts/pg-binaries.sh MAJOR` caches in
`~/.cache/migration-rollback/postgres/<major>/` (`$XDG_CACHE_HOME` if set). When the current
user is root, the server runs as the `postgres` user because PostgreSQL refuses root; binaries
that user cannot reach (a cache under /root) are first linked into a folder of the named scratch
directory when it is on disk, else of the system temp dir, removed with the cluster.

Without a required major, the first binaries found serve: `MIGRATION_ROLLBACK_PG_BINDIR`, then
system installs (newest first), then `initdb` on PATH, then cached ones (newest first). With
one (`create_cluster(major=17)`), only binaries of that major do, wherever they are.

The private folder is made in memory (/dev/shm) when that is safe, else in the system temp dir,
or in the directory `scratch.SCRATCH_DIR_ENV` names: see scratch.py for the rule.
"""

from __future__ import annotations

import contextlib
import functools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from migration_rollback.errors import DatabaseUnavailableError
from migration_rollback.verify.leftovers import MAKER_FILE, PREFIX, maker_text, owners, sweep
from migration_rollback.verify.majors import parse_version_output
from migration_rollback.verify.old_leftovers import sweep_elsewhere, sweep_old
from migration_rollback.verify.room import NO_SPACE
from migration_rollback.verify.scratch import (
    OVERRIDE_HINT,
    Medium,
    ScratchBase,
    placed,
    scratch_base,
)
from migration_rollback.verify.staging import staged_install

PG_BINDIR_ENV = "MIGRATION_ROLLBACK_PG_BINDIR"
PG_USER_ENV = "MIGRATION_ROLLBACK_PG_USER"

_SEARCH_GLOBS = (
    "/usr/lib/postgresql/*/bin",
    "/usr/local/pgsql/bin",
    "/opt/homebrew/opt/postgresql*/bin",
)


def cache_root() -> Path:
    """Where `scripts/pg-binaries.sh` installs server binaries, one folder per major."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "migration-rollback" / "postgres"


def _candidates() -> list[Path]:
    found: list[Path] = []
    env = os.environ.get(PG_BINDIR_ENV)
    if env:
        if not ((Path(env) / "initdb").exists() and (Path(env) / "postgres").exists()):
            # Asked for by name: never replaced by whatever other binaries there are.
            raise DatabaseUnavailableError(f"{PG_BINDIR_ENV}={env}: no initdb and postgres there")
        found.append(Path(env))
    for pattern in _SEARCH_GLOBS:
        found.extend(sorted(Path("/").glob(pattern.lstrip("/")), key=_major_of, reverse=True))
    on_path = shutil.which("initdb")
    if on_path:
        found.append(Path(on_path).resolve().parent)
    found.extend(sorted(cache_root().glob("*/bin"), key=_major_of, reverse=True))
    return found


def server_bindirs() -> list[Path]:
    """Every directory holding `initdb` and `postgres`, in order of preference, once each."""
    seen: set[Path] = set()
    usable: list[Path] = []
    for c in _candidates():
        if (c / "initdb").exists() and (c / "postgres").exists() and c not in seen:
            seen.add(c)
            usable.append(c)
    return usable


@functools.cache
def bindir_major(bindir: Path) -> int | None:
    """The major of the server in `bindir`, asked of `postgres --version` (None: unknown)."""
    try:
        out = subprocess.run(
            [str(bindir / "postgres"), "--version"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return parse_version_output(out.stdout) if out.returncode == 0 else None


def available_majors() -> dict[int, Path]:
    """Major -> the preferred bin directory of that major, for every major found here."""
    majors: dict[int, Path] = {}
    for bindir in server_bindirs():
        major = bindir_major(bindir)
        if major is not None:
            majors.setdefault(major, bindir)
    return majors


def find_server_bindir(preferred_major: int | None = None) -> Path | None:
    """The preferred major's bin directory if there is one, else the first found (see above)."""
    usable = server_bindirs()
    if preferred_major is not None:
        exact = find_major_bindir(preferred_major)
        if exact is not None:
            return exact
    return usable[0] if usable else None


def find_major_bindir(major: int) -> Path | None:
    """A bin directory of exactly this major, or None."""
    return available_majors().get(major)


def _major_of(bindir: Path) -> int:
    for part in reversed(bindir.parts):
        if part.isdigit():
            return int(part)
    return 0


# A port picked free can be taken before the server binds it (initdb runs in between, other
# clusters start at the same time): the server then exits with this, and tries another port.
PORT_TAKEN = "could not create any TCP/IP sockets"
PORT_ATTEMPTS = 5


def c_messages(environ: Mapping[str, str]) -> dict[str, str]:
    """`environ` with a program's messages in English: initdb's are read for NO_SPACE."""
    return {**environ, "LC_ALL": "C"}


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
    medium: Medium = Medium.DISK
    settings: Mapping[str, str] = field(default_factory=dict)
    # Binaries linked for the server's user, kept on disk apart from the (maybe in-memory) data.
    install_dir: Path | None = None
    scratch: ScratchBase | None = None  # where base_dir was made, and why there
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def major(self) -> int | None:
        """The server's major version (from its binaries)."""
        return bindir_major(self.bindir)

    @property
    def placement(self) -> str:
        """Where its files are and why there, for a bench's or a report's first lines."""
        where = placed(self.scratch) if self.scratch else str(self.base_dir.parent)
        return f"files in {self.medium.value}: {where}"

    @property
    def socket_dir(self) -> Path:
        return self.base_dir / "socket"

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def log(self) -> Path:
        return self.base_dir / "postgres.log"

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
        self._init()
        for attempt in range(PORT_ATTEMPTS):
            if attempt:
                self.port = _free_port()
            if self._serve(timeout):
                return
        raise DatabaseUnavailableError(
            f"temporary PostgreSQL: the port was taken before it could bind, {PORT_ATTEMPTS} times"
        )

    def _init(self) -> None:
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        if self.run_as:
            entry = pwd.getpwnam(self.run_as)
            os.chown(self.base_dir, entry.pw_uid, entry.pw_gid)
            os.chown(self.socket_dir, entry.pw_uid, entry.pw_gid)
        done = subprocess.run(
            self._cmd(
                str(self.bindir / "initdb"),
                "-D", str(self.data_dir),
                "-U", self.superuser,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ),
            check=False,
            capture_output=True,
            env=c_messages(os.environ),
        )  # fmt: skip
        if done.returncode != 0:
            said = done.stderr.decode(errors="replace").strip() or "(nothing on stderr)"
            raise DatabaseUnavailableError(self._failed("initdb failed", said))

    def _failed(self, what: str, said: str) -> str:
        """`what` went wrong in the scratch directory (named, with why it was chosen, and how
        to choose another when it is full), with the tail of what the program said."""
        where = placed(self.scratch) if self.scratch else str(self.base_dir.parent)
        hint = f"; {OVERRIDE_HINT}" if NO_SPACE in said else ""
        return f"{what} in {where}: {said[-1500:]}{hint}"

    def _serve(self, timeout: float) -> bool:
        """Start the server on `self.port`; False when another process had bound it."""
        log = self.log
        with log.open("wb") as stderr:
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
                    # No parallel query or index build: their shared memory is in /dev/shm
                    # whatever the scratch directory, and a verdict needs none of their speed.
                    "-c", "max_parallel_workers_per_gather=0",
                    "-c", "max_parallel_maintenance_workers=0",
                    *(arg for k, v in self.settings.items() for arg in ("-c", f"{k}={v}")),
                ),
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,
            )  # fmt: skip
        return self._wait_ready(timeout, log)

    def _wait_ready(self, timeout: float, log: Path) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                text = log.read_text(errors="replace")
                if PORT_TAKEN in text:
                    return False
                raise DatabaseUnavailableError(
                    self._failed("temporary PostgreSQL exited early", text)
                )
            if self._accepts_connections():
                return True
            time.sleep(0.05)
        raise DatabaseUnavailableError(f"temporary PostgreSQL not ready after {timeout:.0f}s")

    def _accepts_connections(self) -> bool:
        """Asked on the cluster's own unix socket: over TCP, whatever server holds the port
        would answer (the postmaster binds TCP before it creates the socket)."""
        # psycopg rather than pg_isready: not every server bundle ships the client tools.
        try:
            psycopg.connect(
                host=str(self.socket_dir),
                port=self.port,
                user=self.superuser,
                dbname="postgres",
                connect_timeout=1,
            ).close()
        except psycopg.Error:
            return False
        return True

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
        if self.install_dir is not None:
            shutil.rmtree(self.install_dir, ignore_errors=True)


def _server_user() -> str | None:
    if os.geteuid() != 0:
        return None
    user = os.environ.get(PG_USER_ENV, "postgres")
    try:
        pwd.getpwnam(user)
    except KeyError:
        raise DatabaseUnavailableError(
            f"{PG_USER_ENV}={user}: no such user to run the shadow server as"
        ) from None
    return user


def _private_folder(scratch: ScratchBase) -> Path:
    """The cluster's folder, with its maker's pid and start time in it (leftovers.py: a server
    whose maker was SIGKILLed is stopped by the next run's sweep)."""
    try:
        folder = Path(tempfile.mkdtemp(prefix=PREFIX, dir=scratch.path))
    except OSError as exc:
        raise _unmade(scratch, exc) from None
    try:
        (folder / MAKER_FILE).write_text(maker_text(os.getpid()))
    except OSError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise _unmade(scratch, exc) from None
    return folder


def _unmade(scratch: ScratchBase, exc: OSError) -> DatabaseUnavailableError:
    return DatabaseUnavailableError(
        f"cannot make the temporary cluster's folder in {placed(scratch)}: {exc.strerror}"
    )


def _no_binaries(major: int | None) -> DatabaseUnavailableError:
    which = f"PostgreSQL {major} server binaries" if major else "PostgreSQL server binaries"
    get = f"scripts/pg-binaries.sh {major}" if major else "Debian's postgresql package"
    return DatabaseUnavailableError(
        f"no {which} found (install them with {get}, or set {PG_BINDIR_ENV}), "
        "and no --shadow-url was given"
    )


def create_cluster(bindir: Path | None = None, *, major: int | None = None) -> TemporaryCluster:
    """Start a new private cluster; the caller must `stop()` it (see `temporary_cluster`).

    `major`: only binaries of that major (a DatabaseUnavailableError when there are none).
    """
    found = bindir or (find_major_bindir(major) if major else find_server_bindir())
    if found is None:
        raise _no_binaries(major)
    run_as = _server_user()
    scratch = scratch_base(run_as)
    _sweep(scratch.path, owners(run_as))
    base = _private_folder(scratch)
    try:
        runnable, install_dir = staged_install(found, run_as, scratch, base)
    except BaseException:
        shutil.rmtree(base, ignore_errors=True)
        raise
    cluster = TemporaryCluster(
        bindir=runnable,
        base_dir=base,
        port=_free_port(),
        run_as=run_as,
        medium=scratch.medium,
        settings=scratch.server_settings,
        install_dir=install_dir,
        scratch=scratch,
    )
    try:
        cluster.start()
    except BaseException:
        cluster.stop()
        raise
    return cluster


@contextlib.contextmanager
def temporary_cluster(
    bindir: Path | None = None, *, major: int | None = None
) -> Iterator[TemporaryCluster]:
    """Start a private cluster for the duration of the block, then remove it."""
    cluster = create_cluster(bindir, major=major)
    try:
        yield cluster
    finally:
        cluster.stop()


def _sweep(scratch: Path, ours: set[int]) -> None:
    """What killed runs left: dead clusters in the scratch directory, and in the temp directory
    what older versions made there, under today's names and the old ones (old_leftovers.py)."""
    sweep(scratch, ours)
    temp = Path(tempfile.gettempdir())
    sweep_elsewhere(temp, scratch, ours)
    sweep_old(temp, ours)
