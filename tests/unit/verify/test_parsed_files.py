"""A verification run reads and parses each migration file once (verify/parsed_files.py): the
scan for shared effects fills what the workers then replay."""

from __future__ import annotations

from pathlib import Path

import pytest

from migration_rollback.errors import InputLimitError, SourceLocation, SqlSyntaxError
from migration_rollback.verify.parsed_files import ParsedFiles
from migration_rollback.verify.shared_effects import first_shared_effect
from migration_rollback.verify.verdict import MigrationPair


def _file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_file_is_read_once_per_run(tmp_path: Path) -> None:
    path = _file(tmp_path, "001_a.sql", "\ufeffcreate table t (id int);\r\n")
    files = ParsedFiles()
    first = files.text(path)
    path.write_text("create table changed (id int);\n")  # after the scan judged it
    assert first == "create table t (id int);\n"  # normalized as the replay reads it
    assert files.text(path) is first
    assert ParsedFiles().text(path) == "create table changed (id int);\n"


def test_a_given_text_is_used_unread(tmp_path: Path) -> None:
    missing = tmp_path / "002_b_rollback.sql"
    assert ParsedFiles().text(missing, "drop table t;\r\n") == "drop table t;\n"


def test_a_text_is_parsed_once(tmp_path: Path) -> None:
    files = ParsedFiles()
    script = files.script("001_a.sql", "create table t (id int);\n")
    assert [st.kind for st in script.statements] == ["CreateStmt"]
    assert files.script("001_a.sql", "create table t (id int);\n") is script
    other = files.script("001_a.sql", "create table u (id int);\n")
    assert other is not script
    assert other.statements[0].node.relation.relname == "u"


def test_a_syntax_error_is_raised_anew_each_time() -> None:
    files = ParsedFiles()
    errors = []
    for _ in range(2):
        with pytest.raises(SqlSyntaxError) as caught:
            files.script("003_bad.sql", "create tabel t ();\n")
        errors.append(caught.value)
    first, second = errors
    assert first is not second
    assert (first.location, first.message) == (second.location, second.message)
    assert first.location.file == "003_bad.sql"
    assert first.location.line == 1


def test_an_input_limit_error_keeps_its_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    files = ParsedFiles()
    limit = InputLimitError(SourceLocation("004_big.sql", 1, 1), "past the limit")

    def refuse(text: str, source: str) -> object:
        raise limit

    monkeypatch.setattr("migration_rollback.verify.parsed_files.parse_script", refuse)
    for _ in range(2):
        with pytest.raises(InputLimitError) as caught:
            files.script("004_big.sql", "select 1;\n")
        assert caught.value is not limit
        assert caught.value.message == "past the limit"


def test_the_scan_leaves_every_parse_for_the_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import migration_rollback.verify.parsed_files as parsed_files

    parsed: list[str] = []
    parse = parsed_files.parse_script

    def counted(text: str, source: str) -> object:
        parsed.append(source)
        return parse(text, source)

    monkeypatch.setattr(parsed_files, "parse_script", counted)
    forward = _file(tmp_path, "001_a.sql", "create table t (id int);\n")
    back = _file(tmp_path, "001_a_rollback.sql", "drop table t;\n")
    files = ParsedFiles()
    assert first_shared_effect([MigrationPair("001_a", forward, back)], files) is None
    assert parsed == [str(forward), str(back)]  # the rollback read twice by the scan, parsed once
    for path in (forward, back):
        files.script(str(path), files.text(path))
    assert parsed == [str(forward), str(back)]  # the workers' asks: no parse
