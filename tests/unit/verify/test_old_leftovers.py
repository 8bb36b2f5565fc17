"""What older versions left in the temp directory goes, and only that: a service-file folder
(sslpassword in it) or a copy of binaries without an owner file, ours, older than a minute,
holding only what that version wrote, and not in use by any process we can see."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from migration_rollback.verify.leftovers import INSTALL_PREFIX, MIN_AGE_S, OWNER_FILE
from migration_rollback.verify.old_leftovers import (
    OldFolder,
    OldKind,
    kind_of,
    removable_old,
    survey_old,
    sweep_elsewhere,
    sweep_old,
)

US, SOMEONE = os.geteuid(), os.geteuid() + 1
OLD = MIN_AGE_S + 1
SERVICE = frozenset({"pg_service.conf"})


def old(kind: OldKind = OldKind.SERVICE_FILE, *, owner: int = US, age: float = OLD,
        entries: frozenset[str] = SERVICE, in_use: bool = False) -> OldFolder:  # fmt: skip
    return OldFolder(Path("/tmp/x"), kind, owner, age, entries, in_use)


@pytest.mark.parametrize(
    ("folder", "expected"),
    [
        (old(), True),
        (old(entries=frozenset()), True),  # emptied, the folder stayed
        (old(owner=SOMEONE), False),
        (old(age=MIN_AGE_S - 1), False),
        (old(in_use=True), False),
        (old(entries=SERVICE | {"notes.txt"}), False),  # not only what that version wrote
        (old(OldKind.UNOWNED_COPY, entries=frozenset({"install"})), True),
        (old(OldKind.UNOWNED_COPY, entries=frozenset({"install"}), in_use=True), False),
    ],
)
def test_only_an_old_unused_folder_of_ours_holding_what_it_held_goes(
    folder: OldFolder, expected: bool
) -> None:
    assert removable_old(folder, {US}) is expected


@pytest.mark.parametrize(
    ("name", "entries", "kind"),
    [
        ("migration-rollback-ab_c1234", SERVICE, OldKind.SERVICE_FILE),
        ("migration-rollback-abc", SERVICE, None),  # not tempfile's eight characters
        ("migration-rollback-pg-abcdefgh", frozenset({"data"}), None),  # a cluster: leftovers.py
        (f"{INSTALL_PREFIX}x1", frozenset({"install"}), OldKind.UNOWNED_COPY),
        (f"{INSTALL_PREFIX}x1", frozenset({"install", OWNER_FILE}), None),  # leftovers.py's
        ("migration-rollback-cache", frozenset(), None),
    ],
)
def test_the_old_names(name: str, entries: frozenset[str], kind: OldKind | None) -> None:
    assert kind_of(name, entries) is kind


def _aged(folder: Path) -> Path:
    then = time.time() - OLD - 5
    os.utime(folder, (then, then))
    return folder


def test_a_killed_old_runs_service_folder_is_removed_and_a_used_one_stays(tmp_path: Path) -> None:
    left = tmp_path / "migration-rollback-k1l2e3d4"
    used = tmp_path / "migration-rollback-u5s6e7d8"
    other = tmp_path / "migration-rollback-n0tm1ne0"
    for folder in (left, used, other):
        folder.mkdir()
        (folder / "pg_service.conf").write_text("[x]\nsslpassword=s3cret\n")
    (other / "yours.txt").write_text("")
    env = {**os.environ, "PGSERVICEFILE": str(used / "pg_service.conf")}
    holder = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                              stdin=subprocess.PIPE, env=env)  # fmt: skip
    try:
        for folder in (left, used, other):
            _aged(folder)
        gone = sweep_old(tmp_path, {US})
    finally:
        holder.communicate(b"")

    assert gone == [left]
    assert not left.exists()
    assert used.exists()
    assert other.exists()


def test_a_copy_a_process_works_in_stays(tmp_path: Path) -> None:
    copy = tmp_path / f"{INSTALL_PREFIX}old1"
    (copy / "install" / "bin").mkdir(parents=True)
    holder = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                              stdin=subprocess.PIPE, cwd=copy / "install")  # fmt: skip
    try:
        _aged(copy)
        assert [f.in_use for f in survey_old(tmp_path)] == [True]
        assert sweep_old(tmp_path, {US}) == []
    finally:
        holder.communicate(b"")
    assert sweep_old(tmp_path, {US}) == [copy]


def test_clusters_in_the_temp_directory_are_swept_when_it_is_not_the_scratch_one(
    tmp_path: Path,
) -> None:
    cluster = tmp_path / "migration-rollback-pg-dead"
    (cluster / "data").mkdir(parents=True)
    (cluster / "data" / "postmaster.pid").write_text("999999\n")
    for path in (cluster / "data" / "postmaster.pid", cluster):
        _aged(path)

    assert sweep_elsewhere(tmp_path, tmp_path, {US}) == []  # the scratch sweep's own
    assert sweep_elsewhere(tmp_path, tmp_path / "shm", {US}) == [cluster]
