"""What the redactor may change in a document the operator reads back: the values, never the
field names. A password that is also one of the result's field names ("committed",
"migrations", "backup") renamed that field to "***", and the operator then read a committed
rollback as not committed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from migration_rollback.conninfo import parse_database_url
from migration_rollback.jobresult import JobResult
from migration_rollback.redact import Redactor
from migration_rollback.runner.exitcodes import ExitCode
from migration_rollback.runner.result import Outcome, RunResult

START = datetime(2026, 11, 24, 3, 15, tzinfo=UTC)


def committed_run() -> RunResult:
    return RunResult(
        tool_version="0.1.0",
        target="20251113000001_timeline",
        dry_run=False,
        database="postgresql://u:***@h/db",
        started_at=START,
        migrations=["20251113000001"],
        outcome=Outcome.SUCCEEDED,
        exit_code=ExitCode.OK,
        committed=True,
        finished_at=START + timedelta(seconds=2),
    )


@pytest.mark.parametrize("password", ["committed", "migrations", "duration_ms", "exit_code"])
def test_a_password_equal_to_a_field_name_leaves_the_document_readable(password: str) -> None:
    doc = committed_run().to_dict()
    before = JobResult.from_dict(doc)

    scrubbed = Redactor.of([password]).scrub_obj(doc)

    assert list(scrubbed) == list(doc)
    assert JobResult.from_dict(scrubbed).committed is before.committed is True
    assert JobResult.from_dict(scrubbed).migrations == ("20251113000001",)


def test_values_are_still_scrubbed_at_every_depth() -> None:
    doc = {"error": {"message": "auth failed for Zq7xK9pw"}, "notes": ["Zq7xK9pw"], "n": 1}
    scrubbed = Redactor.of(["Zq7xK9pw"]).scrub_obj(doc)
    assert scrubbed == {"error": {"message": "auth failed for ***"}, "notes": ["***"], "n": 1}


def test_a_secret_with_bytes_that_are_not_utf8_is_scrubbed_in_each_spelling() -> None:
    # From the environment (PGPASSWORD, a Secret's value): Python keeps the byte 0xFF as the
    # lone surrogate U+DCFF, which the URL quoting of the redactor could not encode (exit 1).
    secret = "pw\udcffZq7x"
    redactor = Redactor.of([secret])
    for shown in (secret, "pw\\xffZq7x", "pw%FFZq7x"):
        assert redactor.scrub(f"said {shown} here") == "said *** here"


@pytest.mark.parametrize(
    ("url", "password"),
    [
        ("postgresql://app:shop@db.internal:5432/shop_prod", "shop"),
        ("postgresql://app:internal@db.internal:5432/shop", "internal"),
        ("host=db.internal user=app password=5432 port=5432 dbname=shop", "5432"),
    ],
    ids=["database-name", "host-name", "port"],
)
def test_the_safe_form_of_the_url_is_shown_whole_when_the_password_is_a_piece_of_it(
    url: str, password: str
) -> None:
    # It showed as postgresql://app:***@db.internal:5432/***_prod: the mask itself told the
    # password. The safe form is built from the parsed parts, never from the password.
    target = parse_database_url(url)
    line = f"connected to {target.display}; driver said: bad password {password}!"
    assert target.redactor().scrub(line) == (
        f"connected to {target.display}; driver said: bad password ***!"
    )
    assert "***" not in target.display.replace(":***@", "")
