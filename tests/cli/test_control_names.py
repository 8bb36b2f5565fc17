"""`generate` and `validate` print file names with control and format characters escaped.

A file name can hold a newline (a line of its own: a forged "valid"), a carriage return (the
line overwritten), ESC (a terminal control sequence), a BiDi override U+202E (the rest shown
reversed) or a zero-width space. `emergency` escaped some of them; now one function
(`migration_rollback.shown`) escapes every unprintable character wherever the command line
prints a name: the status lines, the findings, the warnings for skipped files.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from migration_rollback.cli import app
from migration_rollback.shown import shown, shown_lines

NAMES = {
    "newline": ("20250101000001_a\nVALID 20250101000009_forged", "\\n"),
    "carriage-return": ("20250101000002_b\rVALID", "\\r"),
    "escape": ("20250101000003_c\x1b[2J", "\\x1b"),
    "bidi": ("20250101000004_d\u202eLQS.", "\\u202e"),
    "zero-width": ("20250101000005_e\u200bf", "\\u200b"),
    "c1": ("20250101000006_g\x9bh", "\\x9b"),
}
RAW = ("\x1b", "\r", "\u202e", "\u200b", "\x9b")


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    return result.output


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    migrations = tmp_path / "supabase" / "migrations"
    migrations.mkdir(parents=True)
    for number, (name, _) in enumerate(NAMES.values()):
        (migrations / f"{name}.sql").write_text(f"create table public.t{number} (id int);\n")
        (migrations / f"{name}.txt").write_text("not a migration")  # skipped: a warning
    (migrations / "20250101000010_plain.sql").write_text("create table public.p (id int);\n")
    monkeypatch.chdir(tmp_path)
    return migrations


def _no_raw(output: str) -> None:
    for char in RAW:
        assert char not in output, repr(output)
    lines = output.splitlines()
    assert not any(line.lstrip().startswith("VALID") for line in lines), output


@pytest.mark.parametrize("command", [["generate"], ["validate"], ["validate", "--format", "json"]])
def test_names_are_printed_escaped(folder: Path, command: list[str]) -> None:
    output = run(*command)

    _no_raw(output)
    if command[-1] != "json":  # JSON escapes by its own rules
        for name, escaped in NAMES.values():
            assert escaped in output, (name, output)


def test_emergency_escapes_with_the_same_function(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "plan.md"
    run("emergency", "--output", str(out))
    text = out.read_text() if out.exists() else ""

    _no_raw(text)


def test_shown_escapes_every_unprintable_character() -> None:
    assert shown("a\nb\x1b\u202e\u2028\x00\t c") == "a\\nb\\x1b\\u202e\\u2028\\x00\\t c"
    assert shown("plain name, é ü 中") == "plain name, é ü 中"
    assert shown_lines("one\ntwo\x1b") == "one\ntwo\\x1b"
