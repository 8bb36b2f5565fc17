"""`execute` reads each file once: the bytes checked are the bytes used.

The forward migration was read twice (`read_bytes()` for the Source-SHA256 check, then
`read_source()` for the statements that answer MANUAL markers): a file replaced in between
was checked as one file and used as another, and `read_bytes()` followed a link out of the
folder. Now one function reads every file of the folder, by the folder's rule.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from migration_rollback.project import migrations
from migration_rollback.runner.errors import PreconditionError
from migration_rollback.runner.options import MigrationId, RunOptions
from migration_rollback.runner.restore_captures import forward_statements
from migration_rollback.runner.run_sources import load_rollback, unchecked_source

NAME = "20251113000001_timeline"
FORWARD = b"CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\n"


def _project(folder: Path) -> RunOptions:
    folder.mkdir(exist_ok=True)
    (folder / f"{NAME}.sql").write_bytes(FORWARD)
    (folder / f"{NAME}_rollback.sql").write_text(
        f"-- ROLLBACK: {NAME}\n-- Source: {NAME}.sql\n"
        f"-- Source-SHA256: {hashlib.sha256(FORWARD).hexdigest()}\n\nDROP TABLE t;\n"
    )
    return RunOptions("postgresql:///x", MigrationId.parse(NAME), migrations_dir=folder)


def test_each_file_is_opened_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    options = _project(tmp_path / "m")
    opened: list[str] = []
    real = migrations.read_regular_file

    def counting(path: Path, *, follow: bool = True, limit: int | None = None) -> bytes:
        opened.append(Path(path).name)
        return real(path, follow=follow, limit=limit)

    monkeypatch.setattr(migrations, "read_regular_file", counting)
    source = load_rollback(options, NAME[:14])
    statements = forward_statements(source, options.migrations_dir)

    assert sorted(opened) == sorted([f"{NAME}.sql", f"{NAME}_rollback.sql"])
    assert source.forward is not None
    assert source.forward.sha256 == hashlib.sha256(FORWARD).hexdigest()
    assert sorted(statements) == [1, 2]  # parsed from the bytes the checksum was checked on


def test_the_forward_file_replaced_after_loading_is_not_read(tmp_path: Path) -> None:
    options = _project(tmp_path / "m")
    source = load_rollback(options, NAME[:14])
    (options.migrations_dir / f"{NAME}.sql").write_text("DROP SCHEMA public CASCADE;\n")

    statements = forward_statements(source, options.migrations_dir)

    assert next(s.text for s in statements.values()).startswith("CREATE TABLE t")


def test_a_forward_link_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    options = _project(tmp_path / "m")
    forward = options.migrations_dir / f"{NAME}.sql"
    outside = tmp_path / "elsewhere.sql"
    forward.rename(outside)
    forward.symlink_to(outside)

    with pytest.raises(PreconditionError, match="outside the migrations folder"):
        load_rollback(options, NAME[:14])


def test_a_missing_forward_file_is_reported_unchecked(tmp_path: Path) -> None:
    options = _project(tmp_path / "m")
    os.unlink(options.migrations_dir / f"{NAME}.sql")

    source = load_rollback(options, NAME[:14])

    assert source.forward is None
    assert unchecked_source(options, source) == options.migrations_dir / f"{NAME}.sql"
    assert forward_statements(source, options.migrations_dir) == {}


@pytest.mark.parametrize("swap", ["link-out", "fifo"])
def test_a_rollback_link_is_read_through_its_judged_target(tmp_path: Path, swap: str) -> None:
    """A link inside the folder is read; the target read is the one judged (no second
    resolution through a link that could have changed)."""
    options = _project(tmp_path / "m")
    rollback = options.migrations_dir / f"{NAME}_rollback.sql"
    inside = options.migrations_dir / "..data" / rollback.name
    inside.parent.mkdir()
    rollback.rename(inside)
    rollback.symlink_to(inside)
    assert load_rollback(options, NAME[:14]).script.statements

    inside.unlink()
    if swap == "link-out":
        (tmp_path / "evil.sql").write_text("DROP SCHEMA public CASCADE;\n")
        inside.symlink_to(tmp_path / "evil.sql")
        match = "outside the migrations folder"
    else:
        os.mkfifo(inside)
        match = "named pipe"
    with pytest.raises(PreconditionError, match=match):
        load_rollback(options, NAME[:14])
