"""`split_file` reads the generated header line by line from the top and leaves the body as
written (bar CRLF line ends): the header stops at the first line that is not one of its fields."""

from __future__ import annotations

import pytest

from migration_rollback.project.artifacts import split_file

HEADER = "-- ROLLBACK: m\n-- Generated: 2025-01-01T00:00:00Z\n-- Source-SHA256: ab12 \n"


@pytest.mark.parametrize(
    ("text", "lines", "body"),
    [
        (HEADER + "\ndrop table t;\n", 3, "\ndrop table t;\n"),
        (HEADER.rstrip("\n"), 3, ""),  # the last field without its newline
        (HEADER, 3, ""),
        (HEADER.replace("\n", "\r\n") + "drop table t;\r\n", 3, "drop table t;\n"),
        (HEADER + "-- Other: x\n-- Source: f.sql\n", 3, "-- Other: x\n-- Source: f.sql\n"),
        ("-- ROLLBACK:\ndrop table t;", 1, "drop table t;"),
    ],
)
def test_the_header_lines_and_the_body_after_them(text: str, lines: int, body: str) -> None:
    found = split_file(text)
    assert found.header is not None
    assert (found.header_lines, found.body) == (lines, body)
    assert found.header.migration == ("m" if "ROLLBACK: m" in text else "")


@pytest.mark.parametrize(
    "text", ["", "drop table t;\n", "-- Source: f.sql\r\ndrop table t;\r\n", " -- ROLLBACK: m\n"]
)
def test_without_a_rollback_field_the_whole_text_is_body(text: str) -> None:
    found = split_file(text)
    assert (found.header, found.header_lines, found.body) == (None, 0, text)


def test_field_values_are_stripped() -> None:
    header = split_file(HEADER).header
    assert header is not None
    assert (header.generated, header.source_sha256) == ("2025-01-01T00:00:00Z", "ab12")
