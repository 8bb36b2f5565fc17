"""Statement locations (file:line:column) on texts with many statements, CRLF and shared lines.

Locations come from one table of line starts per file; these pin that they stay exact.
"""

from __future__ import annotations

import pytest

from migration_rollback.sql import parse_script
from migration_rollback.sql.parse import LineIndex, line_and_column

STATEMENTS = 300


def numbered_script(newline: str) -> str:
    """Statement i is on line 3*i + 3: a header, then a comment, the statement and a blank line."""
    parts = [
        f"-- statement {i}{newline}create table t{i} (id int);{newline}" for i in range(STATEMENTS)
    ]
    return "-- header" + newline + newline.join(parts)


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_first_middle_and_last_statement_lines(newline: str) -> None:
    script = parse_script(numbered_script(newline), "big.sql")
    assert len(script.statements) == STATEMENTS
    for i in (0, STATEMENTS // 2, STATEMENTS - 1):
        location = script.statements[i].location
        assert (location.file, location.line, location.column) == ("big.sql", 3 * i + 3, 1)
        assert script.statements[i].text == f"create table t{i} (id int)"


def test_statements_sharing_one_line_get_their_columns() -> None:
    script = parse_script("select 1; select 2;  select 3;\nselect 4;", "one.sql")
    located = [(s.location.line, s.location.column) for s in script.statements]
    assert located == [(1, 1), (1, 11), (1, 22), (2, 1)]


def test_statement_after_a_multiline_dollar_quoted_body() -> None:
    text = "create function f() returns int language sql\nas $$\nselect 1;\n$$;\nselect 2;\n"
    script = parse_script(text, "f.sql")
    assert [s.location.line for s in script.statements] == [1, 5]


def test_meta_command_lines_are_located_after_many_dollar_quotes() -> None:
    body = "".join(f"create function f{i}() returns int language sql as $b$ select {i} $b$;\n"
                   for i in range(50))  # fmt: skip
    text = body + "\\connect app\nselect $x$\n\\not a command\n$x$;\n"
    script = parse_script(text, "m.sql")
    assert len(script.warnings) == 1
    assert script.warnings[0].startswith("m.sql:51: ")  # the \not line is inside $x$
    assert script.statements[-1].location.line == 52


@pytest.mark.parametrize(
    ("offset", "expected"),
    [(0, (1, 1)), (2, (1, 3)), (3, (2, 1)), (4, (3, 1)), (7, (3, 4)), (99, (3, 4))],
)
def test_line_index_matches_counting_newlines(offset: int, expected: tuple[int, int]) -> None:
    text = "ab\n\nxyz"
    assert LineIndex(text).locate(offset) == expected
    assert line_and_column(text, offset) == expected
