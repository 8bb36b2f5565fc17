"""`read_source` decodes a migration the same way whichever path it takes: a UTF-8 byte-order
mark is dropped, other UTF-8 is read as is, and anything else is read as Windows-1252 with a
warning at the first bad byte's line; the whole file is read, up to the size limit."""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from migration_rollback import input_limits
from migration_rollback.errors import SourceFileError
from migration_rollback.project.migrations import read_source


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"select 1;\n", "select 1;\n"),
        (codecs.BOM_UTF8 + b"select 1;\n", "select 1;\n"),
        (codecs.BOM_UTF8 + codecs.BOM_UTF8 + b"x", "\ufeffx"),  # only the first mark is one
        ("comment on table t is 'café 表';\n".encode(), "comment on table t is 'café 表';\n"),
        (b"", ""),
    ],
)
def test_utf8_with_or_without_a_mark(tmp_path: Path, data: bytes, text: str) -> None:
    path = tmp_path / "m.sql"
    path.write_bytes(data)
    source = read_source(path)
    assert (source.text, source.warning) == (text, None)


@pytest.mark.parametrize("mark", [b"", codecs.BOM_UTF8])
def test_not_utf8_is_windows_1252_with_the_bad_bytes_line(tmp_path: Path, mark: bytes) -> None:
    path = tmp_path / "m.sql"
    path.write_bytes(mark + b"select 1;\nselect 'caf\xe9';\n")
    source = read_source(path)
    assert source.text.endswith("select 'café';\n")
    assert source.warning is not None
    assert source.warning.startswith("m.sql:2: not UTF-8 (byte 0xE9); read as Windows-1252")


def test_a_large_file_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "m.sql"
    body = "select 1;\n" * 200_000  # past any one read's buffer
    path.write_text(body)
    assert read_source(path).text == body


def test_a_link_inside_the_folder_is_read_through(tmp_path: Path) -> None:
    (tmp_path / "real.sql").write_text("select 1;\n")
    (tmp_path / "m.sql").symlink_to(tmp_path / "real.sql")
    assert read_source(tmp_path / "m.sql").text == "select 1;\n"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p, out: p.symlink_to(out), "outside the migrations folder: refused"),
        (lambda p, out: p.symlink_to(p.parent / "gone.sql"), "broken symbolic link"),
        (lambda p, out: p.mkdir(), "is a directory, not a SQL file"),
        (lambda p, out: None, "cannot read it: No such file or directory"),
    ],
)
def test_what_is_no_plain_file_says_what_it_is(
    tmp_path: Path, make: Callable[[Path, Path], None], message: str
) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    outside = tmp_path / "outside.sql"
    outside.write_text("select 1;\n")
    path = folder / "m.sql"
    make(path, outside)
    with pytest.raises(SourceFileError) as raised:
        read_source(path)
    assert message in raised.value.message
    assert raised.value.location.file == "m.sql"


@pytest.fixture
def one_mb_limit() -> Iterator[None]:
    input_limits.configure(input_limits.InputLimits(file_mb=1))
    yield
    input_limits.configure(None)


def test_a_file_past_the_size_limit_is_refused_unread(tmp_path: Path, one_mb_limit: None) -> None:
    path = tmp_path / "20250101000000_big.sql"
    path.write_bytes(b"-- " + b"x" * (3 * 1024 * 1024) + b"\n")
    with pytest.raises(SourceFileError) as caught:
        read_source(path)
    assert caught.value.code == "TOO_LARGE"
    assert str(caught.value).startswith("20250101000000_big.sql: 3.0 MB, larger than the limit")
    assert "--max-file-mb" in str(caught.value)
    assert input_limits.FILE_MB_ENV in str(caught.value)


def test_a_file_at_the_size_limit_is_read(tmp_path: Path, one_mb_limit: None) -> None:
    path = tmp_path / "20250101000000_big.sql"
    path.write_bytes(b"-" * (1024 * 1024))
    assert len(read_source(path).text) == 1024 * 1024
