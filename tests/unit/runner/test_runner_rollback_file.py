"""Reading a rollback file: header, MANUAL markers, checksums, parse errors."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from migration_rollback.errors import SqlSyntaxError
from migration_rollback.project.migrations import SourceText
from migration_rollback.runner.errors import PreconditionError
from migration_rollback.runner.options import MigrationId
from migration_rollback.runner.rollback_file import (
    RollbackSource,
    check_manual,
    check_source_checksum,
    parse_rollback,
    read_header,
)

M = MigrationId.parse("20251113000001_timeline")
FORWARD = b"CREATE TABLE t (id int);\n"
TEXT = f"""-- ROLLBACK: 20251113000001_timeline
-- Generated: 2025-12-04T12:37:00Z
-- Source: 20251113000001_timeline.sql
-- Source-SHA256: {hashlib.sha256(FORWARD).hexdigest()}

DROP TABLE IF EXISTS t;
-- MANUAL: review data inserted into t
"""


def test_header_and_markers() -> None:
    source = parse_rollback(M, "r.sql", TEXT.encode())
    assert source.header["ROLLBACK"] == "20251113000001_timeline"
    assert source.header["Source"] == "20251113000001_timeline.sql"
    assert [(m.line, m.text) for m in source.manual] == [(7, "review data inserted into t")]
    assert source.sha256 == hashlib.sha256(TEXT.encode()).hexdigest()
    assert [s.kind for s in source.script.statements] == ["DropStmt"]


def test_header_stops_at_the_first_sql_line() -> None:
    assert read_header("-- ROLLBACK: a\nSELECT 1;\n-- Source: b\n") == {"ROLLBACK": "a"}


def test_expect_sha256() -> None:
    digest = hashlib.sha256(TEXT.encode()).hexdigest()
    assert parse_rollback(M, "r.sql", TEXT.encode(), expect_sha256=digest.upper()).sha256 == digest
    with pytest.raises(PreconditionError, match="the file changed since it was reviewed"):
        parse_rollback(M, "r.sql", TEXT.encode(), expect_sha256="0" * 64)


def test_header_for_another_migration_is_refused() -> None:
    with pytest.raises(PreconditionError, match="rolls back '1_other'"):
        parse_rollback(
            M, "r.sql", TEXT.replace("20251113000001_timeline\n", "1_other\n", 1).encode()
        )


def test_not_utf8_empty_and_syntax_errors() -> None:
    with pytest.raises(PreconditionError, match=r"r\.sql:2: not UTF-8"):
        parse_rollback(M, "r.sql", b"SELECT 1;\n\xff\xfe DROP")
    with pytest.raises(PreconditionError, match="no SQL statements"):
        parse_rollback(M, "r.sql", b"-- nothing\n")
    with pytest.raises(SqlSyntaxError, match=r"r.sql:2:"):
        parse_rollback(M, "r.sql", b"SELECT 1;\nDROP TABEL x;\n")


def test_manual_markers_need_allow_manual() -> None:
    source = parse_rollback(M, "r.sql", TEXT.encode())
    with pytest.raises(PreconditionError, match=r"r.sql:7: review data inserted into t"):
        check_manual([source], allow_manual=False)
    check_manual([source], allow_manual=True)


def _with_forward(source: RollbackSource, data: bytes | None) -> RollbackSource:
    forward = None if data is None else SourceText(data.decode(), hashlib.sha256(data).hexdigest())
    return replace(source, forward=forward)


def test_source_checksum() -> None:
    source = parse_rollback(M, "r.sql", TEXT.encode())
    check_source_checksum(_with_forward(source, FORWARD))
    check_source_checksum(_with_forward(source, None))  # the forward file is not always shipped
    with pytest.raises(PreconditionError, match="regenerate or review"):
        check_source_checksum(_with_forward(source, FORWARD + b"-- edited\n"))


@pytest.mark.parametrize(
    "data",
    [
        b"DROP TABLE IF EXISTS t2;\n\x00\nCREATE TABLE proof(id int);\n",
        b"SELECT 1;\nDROP TABLE IF EXISTS t2\x00; SELECT 1/0;\n",
    ],
)
def test_a_nul_byte_is_refused_with_its_line(data: bytes) -> None:
    """libpq sends a query as a C string: what follows a NUL would silently never run."""
    with pytest.raises(PreconditionError, match=r"^r\.sql:2: NUL byte: not a SQL text file$"):
        parse_rollback(M, "r.sql", data)
