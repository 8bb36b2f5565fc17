"""Whitespace, escapes and quotes in a connection string are read by libpq's rules everywhere.

libpq (psycopg's conninfo_to_dict, on the text exactly as given) is the oracle: what we drop
around a string must be what libpq ignores, and a password place in free text must cover the
whole value libpq would read, so no piece of the password shows.
"""

from __future__ import annotations

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from psycopg.conninfo import conninfo_to_dict

from migration_rollback.cli.guard import pasted_conninfo, secrets_redactor
from migration_rollback.conninfo import parse_database_url
from migration_rollback.conninfo_syntax import LIBPQ_SPACE, trimmed
from migration_rollback.redact import MASK, mask_places
from migration_rollback.url_env import DATABASE_URL_ENV

NBSP = "\u00a0"

# (text, the password libpq reads from it)
ESCAPED_AND_UNICODE = [
    ("host=h password=abc\\ ", "abc "),
    ("host=h password=abc\\ \n", "abc "),
    ("host=h password=abc\\\t", "abc\t"),
    ("host=h password=abc\\\\ ", "abc\\"),  # an escaped backslash, then a plain space
    ("host=h password=abc\\\\\\  ", "abc\\ "),
    (f"host=h password=abc{NBSP}", f"abc{NBSP}"),  # not whitespace to libpq
    (f"host=h password=abc{NBSP}\n", f"abc{NBSP}"),
    ("  \thost=h password=' a b '  ", " a b "),
    (f"postgresql://u:pw{NBSP}@h/d{NBSP}", f"pw{NBSP}"),
    ("\npostgresql://u:pw@h/d \n", "pw"),
]


def libpq_reads(text: str) -> dict[str, str]:
    """The oracle: libpq on the text as given (a URL, which libpq refuses with whitespace
    around it, without that whitespace: the tool drops it, and says so)."""
    given = text.strip(LIBPQ_SPACE) if text.lstrip(LIBPQ_SPACE).startswith("postgres") else text
    return {k: str(v) for k, v in conninfo_to_dict(given).items() if v}


@pytest.mark.parametrize(("text", "password"), ESCAPED_AND_UNICODE)
def test_the_password_is_what_libpq_reads_from_the_text_as_given(text: str, password: str) -> None:
    assert libpq_reads(text)["password"] == password  # the oracle agrees with the row
    target = parse_database_url(text)
    assert target.params["password"] == password
    assert target.secrets == {password}
    assert dict(target.params) == libpq_reads(text)


@pytest.mark.parametrize(("text", "password"), ESCAPED_AND_UNICODE)
def test_a_pasted_string_is_trimmed_the_same_way(text: str, password: str) -> None:
    pasted = pasted_conninfo(text)
    assert pasted is not None
    assert parse_database_url(pasted).params["password"] == password


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  host=h  ", "host=h"),
        ("password=a\\ ", "password=a\\ "),
        ("password=a\\  \n", "password=a\\ "),
        ("password=a\\\\ ", "password=a\\\\"),
        (f"password=a{NBSP} ", f"password=a{NBSP}"),
        ("postgresql://h/d\\ ", "postgresql://h/d\\"),  # no escapes in a URL
        (" \n", ""),
    ],
)
def test_trimmed_drops_only_what_libpq_ignores(text: str, expected: str) -> None:
    assert trimmed(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        'connect failed: password=ab"cd-secret host=h',
        "connect failed: password=ab'cd-secret host=h",
        f"connect failed: password=ab{NBSP}cd-secret host=h",
        "connect failed: password='ab\ncd-secret' host=h",
        "connect failed: password=ab\\ cd-secret host=h",
        f"connect failed: postgresql://u:ab{NBSP}cd-secret@h/d",
    ],
)
def test_a_password_place_is_masked_over_the_whole_value_libpq_reads(text: str) -> None:
    masked = mask_places(text)
    assert "cd-secret" not in masked, masked
    assert MASK in masked
    assert "host=h" in masked or "@h/d" in masked  # what follows the value stays


def test_an_escaped_trailing_space_is_scrubbed_whole_from_output() -> None:
    text = "host=h password=s3cr3t-pw\\ "
    redactor = secrets_redactor([], {DATABASE_URL_ENV: text})
    shown = redactor.scrub("error: password authentication failed for 's3cr3t-pw '")
    assert "s3cr3t" not in shown, shown


KEYWORD_PASSWORDS = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=16,
)


def _bare(password: str) -> str:
    return "".join("\\" + c if c in " \t\n\v\f\r\\'" else c for c in password)


@settings(max_examples=300, deadline=None)
@given(password=KEYWORD_PASSWORDS, tail=st.sampled_from(["", " ", "\n", "  \t"]))
def test_any_escaped_password_parses_as_libpq_reads_it(password: str, tail: str) -> None:
    text = f"host=h password={_bare(password)}{tail}"
    expected = conninfo_to_dict(text)["password"]
    assert parse_database_url(text).params["password"] == expected
    if len(password) >= 4:
        masked = mask_places("failed: " + text)
        shown = "failed: host=h password="  # the message's own words may hold it ('fail')
        assert masked.startswith(shown + MASK)
        assert _bare(password) not in masked[len(shown) :]


@pytest.mark.parametrize(
    ("value", "password"),
    [
        ('ab",xyz', 'ab",xyz'),  # a quote before a separator does not end a bare value
        ("ab'c)def", "ab'c)def"),
        (f"{NBSP}secret", f"{NBSP}secret"),  # a leading no-break space is the password's
        ('a")}b', 'a")}b'),
        ("a\\\"b;'c", "a\"b;'c"),  # an escaped quote
    ],
)
def test_no_piece_of_a_bare_value_shows_whatever_quote_it_holds(value: str, password: str) -> None:
    text = f"host=h password={value} dbname=d"
    assert conninfo_to_dict(text)["password"] == password  # libpq reads it whole
    assert mask_places("failed: " + text) == "failed: host=h password=*** dbname=d"


# Pieces libpq's lexer treats apart: quotes, escapes, its whitespace and what is not.
_PIECES = ["a", "b", " ", "\\", "'", '"', "\t", "\n", "\v", NBSP, "=", ",", ")", "}", ";", ":"]


@settings(max_examples=3000, deadline=None)
@given(value=st.lists(st.sampled_from(_PIECES), min_size=1, max_size=9).map("".join))
def test_mask_places_leaves_no_character_of_what_libpq_reads_as_the_password(value: str) -> None:
    text = f"host=h password={value} dbname=d"
    try:
        read = conninfo_to_dict(text)
    except psycopg.ProgrammingError:  # libpq refused the string: no password was used
        return
    if read.get("dbname") != "d" or not read.get("password"):
        return
    masked = mask_places("failed: " + text)
    shown = masked.split("password=", 1)[1].rsplit(" dbname=d", 1)[0]
    assert MASK in shown, masked
    # Only libpq's own quoting (the quotes of a quoted value, its escapes) and whitespace stay.
    assert not shown.replace(MASK, "", 1).strip(LIBPQ_SPACE).strip("'\\"), masked
