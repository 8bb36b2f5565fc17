"""Backups before a rollback: take one with pg_dump, or insist that a recent one exists.

A backup only counts once `pg_restore --list` has read it back and found entries. pg_dump must
be at least as new as the server, so the one matching the server's major version is preferred
(Debian installs each under /usr/lib/postgresql/<major>/bin). No secret goes on pg_dump's
command line, where `ps` would show it: the password goes in its environment, the other secret
keywords (sslpassword) in a service file that is never on disk (a memory file it inherits).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple

from psycopg.conninfo import make_conninfo

from migration_rollback.redact import SECRET_KEYWORDS, Redactor
from migration_rollback.runner.errors import BackupError
from migration_rollback.runner.naming import run_stamp
from migration_rollback.runner.result import BackupInfo
from migration_rollback.runner.session import Connection

DUMP_SUFFIX = ".dump"


def _sweep_old_temp_folders() -> None:
    """Imported here, not at the top: importing the verify package loads the verifier, which
    the rollback Job's `execute` must not load (test_job_imports.py)."""
    from migration_rollback.verify.old_leftovers import sweep_old

    sweep_old(Path(tempfile.gettempdir()), {os.geteuid()})


_BINDIR_TEMPLATE = "/usr/lib/postgresql/{major}/bin"
_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)")


def find_client_tool(name: str, server_major: int, bindir_template: str = _BINDIR_TEMPLATE) -> Path:
    """The `pg_dump` / `pg_restore` for this server: same major if installed, else a newer one."""
    exact = Path(bindir_template.format(major=server_major)) / name
    if exact.exists():
        return exact
    candidates = [Path(p) / name for p in sorted(Path("/usr/lib/postgresql").glob("*/bin"))]
    on_path = shutil.which(name)
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        major = tool_major(candidate)
        if candidate.exists() and major is not None and major >= server_major:
            return candidate
    raise BackupError(
        f"no {name} for PostgreSQL {server_major} or newer (looked in "
        f"{bindir_template.format(major=server_major)} and PATH); install postgresql-client-"
        f"{server_major}"
    )


def tool_major(tool: Path) -> int | None:
    try:
        out = subprocess.run([str(tool), "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = _VERSION.search(out.stdout)
    return int(match.group(1)) if match else None


# The service (a section of a private service file) that carries the secrets libpq has no
# environment variable for: `sslpassword` above all (the key file's passphrase).
_SERVICE = "migration_rollback_backup"


# What is carried over from the live connection: libpq's keywords that every pg_dump since
# PostgreSQL 14 knows (the driver's newer libpq reports more, `sslcertmode`, which an older
# pg_dump refuses). Not the service (its values are already resolved into these, and the
# user's own would be read again, or replaced by the private one), nor the password (it goes
# in the environment), nor the ways to choose among several hosts (the one reached is named).
_CARRIED = frozenset(
    {"host", "hostaddr", "port", "dbname", "user", "passfile", "options", "client_encoding",
     "connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval",
     "keepalives_count", "tcp_user_timeout", "sslmode", "sslcompression", "sslcert", "sslkey",
     "sslpassword", "sslrootcert", "sslcrl", "sslcrldir", "sslsni", "requirepeer",
     "ssl_min_protocol_version", "ssl_max_protocol_version", "krbsrvname", "gsslib",
     "gssencmode", "channel_binding", "scram_client_key", "scram_server_key",
     "oauth_client_secret"}
)  # fmt: skip


def connected_target(conn: Connection) -> tuple[dict[str, str], str | None]:
    """The parameters of the server `conn` is connected to, as libpq resolved them (from the
    URL, the environment, a service file), with the host and port it reached, and the
    password it used: what pg_dump must connect to, and nothing else."""
    info = conn.info
    params = {k: v for k, v in info.get_parameters().items() if k in _CARRIED}
    params.update(host=info.host, port=str(info.port), dbname=info.dbname, user=info.user)
    if "hostaddr" in params:
        params["hostaddr"] = info.hostaddr
    return params, info.password or None


# The environment variables that would choose another server than the parameters name.
_SERVICE_ENV = ("PGSERVICE", "PGSERVICEFILE")


class ClientTarget(NamedTuple):
    """What a client tool is started with: a connection string that holds no secret, the
    environment that carries the secrets, and the descriptors it must inherit."""

    conninfo: str
    env: dict[str, str]
    fds: tuple[int, ...] = ()


@contextmanager
def libpq_target(params: Mapping[str, str], password: str | None) -> Iterator[ClientTarget]:
    """The password goes in PGPASSWORD, every other secret keyword in a service file that is
    never on disk: an anonymous memory file the tool inherits, named /proc/self/fd/N (a file
    in /tmp stayed behind, sslpassword in it, when the process was killed). A command line is
    readable by every local user (`ps`, /proc/<pid>/cmdline) for as long as it runs.
    `params` are resolved (connected_target): no service of the user's is read again."""
    params = dict(params)
    env: dict[str, str] = {"PGAPPNAME": "migration-rollback-backup"}
    if password is not None:
        env["PGPASSWORD"] = password
    hidden = {key: params.pop(key) for key in sorted(SECRET_KEYWORDS & params.keys())}
    if not hidden:
        yield ClientTarget(make_conninfo(**params), env)
        return
    _check_service_values(hidden)
    text = f"[{_SERVICE}]\n" + "".join(f"{k}={v}\n" for k, v in hidden.items())
    fd = os.memfd_create("migration-rollback-service")  # close-on-exec but for pass_fds
    try:
        os.write(fd, text.encode("utf-8"))
        service_env = {**env, "PGSERVICEFILE": f"/proc/self/fd/{fd}"}
        yield ClientTarget(make_conninfo(**params, service=_SERVICE), service_env, (fd,))
    finally:
        os.close(fd)


def _check_service_values(hidden: Mapping[str, str]) -> None:
    """A service file holds one `key=value` a line, trimmed: what it cannot hold as it is is
    refused (naming the key, not the value)."""
    for key, value in hidden.items():
        if value != value.strip() or "\n" in value or "\r" in value:
            raise BackupError(
                f"the connection string's {key} starts or ends with a space or holds a line "
                "break: pg_dump cannot be given it off its command line (a service file cannot "
                "hold it)"
            )


def dump_command(pg_dump: Path, partial: Path, target: str) -> list[str]:
    """pg_dump's command line: `target` is libpq_target's, which holds no secret."""
    return [str(pg_dump), "--format=custom", "--no-password", f"--file={partial}",
            f"--dbname={target}"]  # fmt: skip


def check_backup_dir(backup_dir: Path, *, writable: bool) -> None:
    if not backup_dir.is_dir():
        raise BackupError(
            f"backup directory {backup_dir} does not exist (or is not a directory): mount the "
            "backup volume or create it"
        )
    if writable and not os.access(backup_dir, os.W_OK | os.X_OK):
        raise BackupError(f"backup directory {backup_dir} is not writable")


def verify_dump(pg_restore: Path, path: Path, redactor: Redactor) -> int:
    """Read the archive's table of contents back; the number of entries it lists."""
    proc = subprocess.run(
        [str(pg_restore), "--list", str(path)], capture_output=True, text=True, timeout=600
    )
    if proc.returncode != 0:
        raise BackupError(
            f"backup {path} does not read back: pg_restore --list failed: "
            f"{redactor.scrub(proc.stderr.strip())[-500:]}"
        )
    entries = [
        line for line in proc.stdout.splitlines() if line.strip() and not line.startswith(";")
    ]
    if not entries:
        raise BackupError(f"backup {path} reads back but lists no entries")
    return len(entries)


def take_dump(
    conn: Connection,
    backup_dir: Path,
    *,
    server_major: int,
    label: str,
    when: datetime,
    redactor: Redactor,
    base_env: Mapping[str, str] | None = None,
) -> BackupInfo:
    """`pg_dump -Fc` of the database `conn` is connected to, into the backup directory,
    verified, then renamed into place."""
    check_backup_dir(backup_dir, writable=True)
    # Older versions wrote pg_dump's service file (sslpassword) in a temp folder a killed run
    # left behind: gone now, when ours and not in use.
    _sweep_old_temp_folders()
    pg_dump = find_client_tool("pg_dump", server_major)
    pg_restore = find_client_tool("pg_restore", server_major)
    final = backup_dir / f"{label}__{run_stamp(when)}{DUMP_SUFFIX}"
    partial = final.with_name(final.name + ".partial")
    base = {
        k: v
        for k, v in (base_env if base_env is not None else os.environ).items()
        if k not in _SERVICE_ENV
    }
    # A dump holds every row of the database: readable by its owner only, from the first byte.
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    try:
        with libpq_target(*connected_target(conn)) as target:
            entries = _dump_into(pg_dump, pg_restore, partial, target, base, redactor)
        partial.rename(final)
    except BaseException:
        # Failed, or stopped (SIGTERM turns into KeyboardInterrupt, and subprocess.run kills
        # pg_dump): an incomplete dump must not stay beside the good ones.
        partial.unlink(missing_ok=True)
        raise
    return BackupInfo(
        mode="pg-dump",
        path=str(final),
        size_bytes=final.stat().st_size,
        verified=True,
        entries=entries,
        note=f"{pg_dump} (server {server_major})",
    )


def _dump_into(
    pg_dump: Path,
    pg_restore: Path,
    partial: Path,
    target: ClientTarget,
    base_env: Mapping[str, str],
    redactor: Redactor,
) -> int:
    """pg_dump into `partial`, then pg_restore --list of it; the entry count."""
    proc = subprocess.run(
        dump_command(pg_dump, partial, target.conninfo),
        capture_output=True,
        text=True,
        env={**base_env, **target.env},
        pass_fds=target.fds,
    )
    if proc.returncode != 0:
        raise BackupError(
            f"pg_dump failed (exit {proc.returncode}): {redactor.scrub(proc.stderr.strip())[-800:]}"
        )
    return verify_dump(pg_restore, partial, redactor)


def plan_dump(backup_dir: Path, *, server_major: int) -> BackupInfo:
    """Dry run: check a dump could be taken (directory, pg_dump), without taking it."""
    check_backup_dir(backup_dir, writable=True)
    # Older versions wrote pg_dump's service file (sslpassword) in a temp folder a killed run
    # left behind: gone now, when ours and not in use.
    _sweep_old_temp_folders()
    pg_dump = find_client_tool("pg_dump", server_major)
    return BackupInfo(
        mode="pg-dump",
        path=str(backup_dir),
        verified=False,
        note=f"dry run: {pg_dump} would dump into {backup_dir}",
    )


def find_recent_dump(
    backup_dir: Path,
    *,
    max_age: timedelta,
    server_major: int,
    now: datetime,
    redactor: Redactor,
    listing: Callable[[Path], list[Path]] | None = None,
) -> BackupInfo:
    """The newest dump younger than `max_age` that reads back; refuse if there is none."""
    check_backup_dir(backup_dir, writable=False)
    files = (listing or _files)(backup_dir)
    recent = [
        (path, now.timestamp() - path.stat().st_mtime)
        for path in files
        if now.timestamp() - path.stat().st_mtime <= max_age.total_seconds()
    ]
    if not recent:
        newest = max(files, key=lambda p: p.stat().st_mtime, default=None)
        seen = (
            f"the newest, {newest.name}, is {_age(now.timestamp() - newest.stat().st_mtime)} old"
            if newest
            else "it is empty"
        )
        raise BackupError(
            f"no backup newer than {_age(max_age.total_seconds())} in {backup_dir} ({seen}); take "
            "one, or use --backup pg-dump"
        )
    pg_restore = find_client_tool("pg_restore", server_major)
    failures: list[str] = []
    for path, age in sorted(recent, key=lambda item: item[1]):
        try:
            entries = verify_dump(pg_restore, path, redactor)
        except BackupError as exc:
            failures.append(exc.message)
            continue
        return BackupInfo(
            mode="require-recent",
            path=str(path),
            size_bytes=path.stat().st_size,
            verified=True,
            entries=entries,
            age_seconds=int(age),
        )
    raise BackupError(
        f"no recent backup in {backup_dir} reads back with pg_restore: {'; '.join(failures)[:800]}"
    )


def _files(directory: Path) -> list[Path]:
    return [p for p in directory.iterdir() if p.is_file() and not p.name.endswith(".partial")]


def _age(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 120:
        return f"{minutes}m"
    return f"{minutes // 60}h{minutes % 60:02d}m"
