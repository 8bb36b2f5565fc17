"""`Statement.first_line` is the stripped text's first line as str.splitlines breaks it, cut to
100 characters; a statement's text drops leading comment lines and blanks, whatever breaks them."""

from __future__ import annotations

import pytest

from migration_rollback.errors import SourceLocation
from migration_rollback.sql.model import Statement
from migration_rollback.sql.parse import _strip_leading_comments

AT = SourceLocation("f.sql", 1, 1)


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("", ""),
        ("  \n ", ""),
        ("select 1", "select 1"),
        ("\n  create function f()\nreturns int", "create function f()"),
        ("a\r\nb", "a"),
        ("a\x0cb", "a"),
        ("a\u2028b", "a"),
        ("a\x85b", "a"),
        ("x" * 150, "x" * 97 + "..."),
    ],
)
def test_first_line(text: str, first: str) -> None:
    assert Statement(text, AT, 0, None).first_line == first


@pytest.mark.parametrize(
    ("chunk", "text"),
    [
        ("  select 1 ", "select 1"),
        ("\x0c select 1\x0c", "select 1"),
        ("-- c\n\nselect 1", "select 1"),
        ("-- c\x0cselect 1", "select 1"),
        ("select 'a\x0cb'", "select 'a\nb'"),  # a line break inside: lines joined by \n
    ],
)
def test_leading_comments_and_blanks_go(chunk: str, text: str) -> None:
    assert _strip_leading_comments(chunk) == text
