"""An HTTP endpoint as logs, Events and status show it (redact_url): what an on-call engineer
needs stays, whatever may be a token (user information, query and `;param` values, token-like
path segments, the fragment) is masked whole."""

from __future__ import annotations

import pytest

from migration_rollback.redact_url import http_url_shown, plain_word


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "https://u:Tok3n@maint.example/on?token=Tok3n&x=1",
            "https://***@maint.example/on?token=***&x=***",
        ),
        ("http://maint:8080/mode", "http://maint:8080/mode"),
        # A query name that is no word may be the token itself (it was shown as `Tok3n=***`).
        ("http://[::1]:80/a?Tok3n", "http://[::1]:80/a?***=***"),
        (
            "https://hooks.slack.com/services/T000/B000/XXXXSECRETTOKEN",
            "https://hooks.slack.com/services/***/***/***",
        ),
        ("https://api.example.com/maint;token=SECRET", "https://api.example.com/maint;token=***"),
        ("https://api.example.com/maint;SECRET2x", "https://api.example.com/maint;***"),
        ("https://h/a/b#access_token=abc123", "https://h/a/b#***"),
        (
            "https://api.example.com/api/v1/maintenance/on",
            "https://api.example.com/api/v1/maintenance/on",
        ),
        ("http://h:9000/healthz", "http://h:9000/healthz"),
        ("https://h/status.json", "https://h/status.json"),
        ("https://h/hooks/2024/Deploy-done", "https://h/hooks/2024/Deploy-done"),
        ("https://h/bot123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/x", "https://h/***/x"),
        ("https://h/x/550e8400-e29b-41d4-a716-446655440000", "https://h/x/***"),
        ("https://h/x/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", "https://h/x/***"),
        ("https://h/x/abcdefghijklmnopqrstuvwxyz", "https://h/x/***"),
        ("https://h/x/123456", "https://h/x/***"),
        ("https://h/x/a%20b", "https://h/x/***"),
        ("http://[bad/x", "(a URL that cannot be parsed)"),
    ],
)
def test_an_http_endpoint_is_shown_without_what_may_be_a_token(url: str, shown: str) -> None:
    assert http_url_shown(url) == shown


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("healthz", True),
        ("api-v2", True),
        ("health_check", True),
        ("Maintenance", True),
        ("v1", True),
        ("2024", True),
        ("", False),
        ("T000", False),
        ("XXXXSECRETTOKEN", False),
        ("abc123", False),
        ("aBcDeF", False),
        ("Zm9vYmFy==", False),
        ("seventeenletterss", False),
    ],
)
def test_a_plain_word_is_letters_or_a_short_number(text: str, word: bool) -> None:
    assert plain_word(text) is word
