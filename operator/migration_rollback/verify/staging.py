"""Server binaries the server's user cannot reach, linked where it can.

As root the throwaway cluster's server runs as `postgres` (PostgreSQL refuses root), and a
self-contained install under a private home (the cache in /root, 0700) is out of its reach. Such
an install is linked, whole, into a folder the cluster removes when it stops.
"""

from __future__ import annotations

import os
import pwd
import shutil
import tempfile
from pathlib import Path

from migration_rollback.verify.leftovers import PREFIX
from migration_rollback.verify.scratch import Medium, ScratchBase, user_enters


def link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def staged_install(
    bindir: Path, run_as: str | None, scratch: ScratchBase
) -> tuple[Path, Path | None]:
    """`bindir`, or a linked copy of its install when `run_as` cannot reach it; and the folder
    of that copy, to remove with the cluster.

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
    folder = Path(
        tempfile.mkdtemp(prefix=f"{PREFIX}install-", dir=scratch.path if on_disk else None)
    )
    try:
        entry = pwd.getpwnam(run_as)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
        shutil.copytree(root, folder / "install", symlinks=True, copy_function=link_or_copy)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder / "install" / bindir.name, folder
