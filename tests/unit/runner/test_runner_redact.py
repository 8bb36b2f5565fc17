"""Passwords are removed from URLs, DSNs and any text that may quote them."""

from __future__ import annotations

import json

import pytest

from migration_rollback.runner.redact import Redactor, passwords_in, redact_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:pw@h:5432/db", "postgresql://u:***@h:5432/db"),
        ("postgres://u:p%40ss@h/db?sslmode=require", "postgres://u:***@h/db?sslmode=require"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("postgresql://h/db?user=u&password=pw", "postgresql://h/db?user=u&password=***"),
        ("host=h user=u password=pw dbname=d", "host=h user=u password=*** dbname=d"),
        ("host=h password='p w\\'x' dbname=d", "host=h password=*** dbname=d"),
        ("postgresql://u:pw@h1:1,h2:2/db", "postgresql://u:***@h1:1,h2:2/db"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_passwords_in_finds_every_spelling() -> None:
    assert passwords_in("postgresql://u:p%40ss@h/db") == {"p@ss"}
    assert "a&b" in passwords_in("postgresql://h/db?password=a%26b")
    assert passwords_in("host=h password='it\\'s'") == {"it's"}
    assert passwords_in("postgresql://u@h/db") == set()


def test_scrub_removes_the_password_wherever_it_appears() -> None:
    secret = 'p@ss/w"rd'
    redactor = Redactor.for_dsn("postgresql://u:p%40ss%2Fw%22rd@h/db")
    text = f"quoted {secret}, encoded p%40ss%2Fw%22rd, json {json.dumps(secret)}"
    scrubbed = redactor.scrub(text)
    assert secret not in scrubbed
    assert "p%40ss%2Fw%22rd" not in scrubbed
    assert json.dumps(secret)[1:-1] not in scrubbed


def test_scrub_catches_password_shaped_text_of_unknown_urls() -> None:
    assert Redactor().scrub('missing "=" after "postgresql://a:b@c/d"') == (
        'missing "=" after "postgresql://a:***@c/d"'
    )


def test_scrub_obj_walks_nested_data_and_pgpassword() -> None:
    redactor = Redactor.for_dsn("postgresql://u@h/db", {"PGPASSWORD": "envsecret"})
    data = {"a": ["x envsecret", {"b": "envsecret"}], "n": 3, "t": ("envsecret",)}
    assert redactor.scrub_obj(data) == {"a": ["x ***", {"b": "***"}], "n": 3, "t": ["***"]}
