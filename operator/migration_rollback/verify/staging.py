"""Server binaries the server's user cannot reach, linked where it can.

As root the throwaway cluster's server runs as `postgres` (PostgreSQL refuses root), and a
self-contained install under a private home (the cache in /root, 0700) is out of its reach. Such
an install is linked, whole, into a folder the cluster removes when it stops; one a killed
process left is removed by the next (leftovers.py). A copy that cannot be made says where, why
there, and what to do, like the cluster's own folder.
"""

from __future__ import annotations

import errno
import os
import pwd
import shutil
import tempfile
from pathlib import Path

from migration_rollback.errors import DatabaseUnavailableError
from migration_rollback.verify.leftovers import (
    INSTALL_PREFIX,
    OWNER_FILE,
    owner_text,
    owners,
    sweep_copies,
)
from migration_rollback.verify.scratch import (
    OVERRIDE_HINT,
    SCRATCH_DIR_ENV,
    Medium,
    ScratchBase,
    placed,
    user_enters,
)


def link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def staged_install(
    bindir: Path, run_as: str | None, scratch: ScratchBase, cluster: Path
) -> tuple[Path, Path | None]:
    """`bindir`, or a linked copy of its install when `run_as` cannot reach it; and the folder
    of that copy, to remove with the cluster (whose folder is `cluster`).

    A self-contained install (bin/, lib/, share/ side by side, like the cached ones) under a
    private home (/root is 0700) is invisible to the `postgres` user the server runs as. The
    copy goes beside the data when the user named a directory on disk (where this tool may
    write), else to the system temp dir; never to memory (/dev/shm), where it would be a full
    copy of the binaries rather than hard links.
    """
    if run_as is None or user_enters(run_as, bindir / "postgres"):
        return bindir, None
    root = bindir.resolve().parent
    if not (root / "share").is_dir():
        return bindir, None  # not relocatable: leave it, initdb will say what it cannot read
    on_disk = scratch.named and scratch.medium is Medium.DISK
    base = scratch.path if on_disk else Path(tempfile.gettempdir())
    sweep_copies(base, owners(run_as))
    try:
        folder = Path(tempfile.mkdtemp(prefix=INSTALL_PREFIX, dir=base))
        _fill_copy(folder, root, run_as, cluster)
    except OSError as exc:
        raise DatabaseUnavailableError(_cannot(run_as, scratch, on_disk, base, exc)) from None
    return folder / "install" / bindir.name, folder


def _fill_copy(folder: Path, root: Path, run_as: str, cluster: Path) -> None:
    """The owner file, the folder given to `run_as`, the install linked in; all removed when
    any part fails (an interrupt too)."""
    try:
        (folder / OWNER_FILE).write_text(owner_text(os.getpid(), cluster))
        entry = pwd.getpwnam(run_as)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
        shutil.copytree(root, folder / "install", symlinks=True, copy_function=link_or_copy)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _cannot(run_as: str, scratch: ScratchBase, on_disk: bool, base: Path, exc: OSError) -> str:
    """The copy could not be made: where, why there, the system's words, and what to do."""
    where = placed(scratch) if on_disk else f"{base} (the system temp dir: {_why_temp(scratch)})"
    said = _first_error(exc)
    full = exc.errno == errno.ENOSPC or os.strerror(errno.ENOSPC) in said
    hint = (
        OVERRIDE_HINT
        if full
        else f"set {SCRATCH_DIR_ENV} to a directory on disk this user may write in"
    )
    return (
        f"cannot copy the PostgreSQL server binaries where {run_as} can run them, in {where}: "
        f"{said}; {hint}"
    )


def _first_error(exc: OSError) -> str:
    """The system's words: copytree gathers one error a file (shutil.Error), the first says it."""
    if isinstance(exc, shutil.Error) and exc.args and isinstance(exc.args[0], list):
        first = exc.args[0][0] if exc.args[0] else ()
        return str(first[-1]) if first else str(exc)
    return exc.strerror or str(exc)


def _why_temp(scratch: ScratchBase) -> str:
    if scratch.medium is Medium.MEMORY:
        return f"the cluster's files are in memory in {scratch.path}, never the binaries"
    return f"no directory on disk is named in {SCRATCH_DIR_ENV}"
