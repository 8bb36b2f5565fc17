"""A file named like a rollback (`<migration>_rollback.sql`) is read with its forward migration
when that is in the folder; without it, Supabase applies it as a migration of its own: it is
still not read as one (`execute` of a migration whose file was removed reads its rollback), but
each command warns of it (it was skipped silently)."""

from __future__ import annotations

from pathlib import Path

from migration_rollback.project.migrations import scan


def _write(folder: Path, name: str) -> None:
    (folder / name).write_text("select 1;\n")


def test_a_rollback_beside_its_forward_is_not_a_migration(tmp_path: Path) -> None:
    _write(tmp_path, "20240101000000_a.sql")
    _write(tmp_path, "20240101000000_a_rollback.sql")

    found = scan(tmp_path).migrations

    assert [(m.name, m.problem) for m in found] == [("20240101000000_a", None)]


def test_a_rollback_named_file_without_its_forward_is_warned_of(tmp_path: Path) -> None:
    _write(tmp_path, "20240101000000_a.sql")
    _write(tmp_path, "20240102000000_enable_rollback.sql")

    found = scan(tmp_path)

    assert [m.name for m in found.migrations] == ["20240101000000_a"]
    [warning] = found.ignored
    assert warning.startswith(f"{tmp_path}/20240102000000_enable_rollback.sql: named like a")
    assert "20240102000000_enable.sql is not here" in warning
    assert "Supabase applies it as a migration" in warning
