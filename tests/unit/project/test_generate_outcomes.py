"""`generate_one` rewrites a rollback only when what it would write differs: the same body
(line ends and surrounding blanks aside) from the same source is UNCHANGED; a body edited by
hand is kept unless forced."""

from __future__ import annotations

from pathlib import Path

from migration_rollback.project.generation import Outcome, generate_one
from migration_rollback.project.workspace import load


def _project(tmp_path: Path) -> Path:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "20250101000000_a.sql").write_text("create table public.a (id int);\n")
    return folder


def _generate(folder: Path, *, force: bool = False) -> Outcome:
    (item,) = load(folder)
    return generate_one(item, force=force).outcome


def test_the_same_body_again_is_unchanged_whatever_its_line_ends(tmp_path: Path) -> None:
    folder = _project(tmp_path)
    assert _generate(folder) == Outcome.WRITTEN
    assert _generate(folder) == Outcome.UNCHANGED
    rollback = folder / "20250101000000_a_rollback.sql"
    rollback.write_bytes(rollback.read_bytes().replace(b"\n", b"\r\n") + b"\r\n\r\n")
    assert _generate(folder) == Outcome.UNCHANGED


def test_a_body_edited_by_hand_is_kept_unless_forced(tmp_path: Path) -> None:
    folder = _project(tmp_path)
    _generate(folder)
    rollback = folder / "20250101000000_a_rollback.sql"
    rollback.write_text(rollback.read_text() + "select 1;\n")
    assert _generate(folder) == Outcome.KEPT_HAND_EDITED
    assert _generate(folder, force=True) == Outcome.WRITTEN
    assert "select 1" not in rollback.read_text()


def test_a_changed_source_is_written_again(tmp_path: Path) -> None:
    folder = _project(tmp_path)
    _generate(folder)
    (folder / "20250101000000_a.sql").write_text("create table public.a (id int);\n\n")
    assert _generate(folder) == Outcome.WRITTEN
