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


# --- a password that is a common word, a number, a name of the schema -------------------------
# It was masked wherever it stood inside other text: with PGPASSWORD=2025 the summary read
# "dry run of ***1113000001_timeline", with "public" every "***.users": names mangled, and the
# password told by its absence. Now a secret is masked where it stands whole (between spaces,
# quotes, brackets, '=', ',', ';', or ending a sentence), and in the places a password stands
# whatever it is: a URL's password field, `password=` (and PGPASSWORD=...).

COMMON = ["public", "2025", "users", "1113000001", "timeline", "internal"]

INTACT = [
    "dry run of 20251113000001_timeline_social: 3 statements",
    "archived table public.users -> migration_rollback_archive.users_20251113000001",
    "started 2025-11-13T03:00:00+00:00, took 12:30; PostgreSQL 15.2025 on x86_64",
    "history row '20251113000001' of supabase_migrations.schema_migrations deleted",
    "connected to postgresql://app:***@db.internal:5432/public_prod",
    '{"migrations": ["20251113000001"], "target": "20251113000001_timeline"}',
]


@pytest.mark.parametrize("password", COMMON)
@pytest.mark.parametrize("text", INTACT)
def test_names_versions_and_times_holding_the_password_stay_whole(password: str, text: str) -> None:
    assert Redactor.of([password]).scrub(text) == text


# The password in every place it stands as one. `{}` is the password.
AS_A_SECRET = [
    ("postgresql://app:{}@db:5432/shop", "postgresql://app:***@db:5432/shop"),
    (
        "postgres://app:{}@[::1]/shop?sslmode=require",
        "postgres://app:***@[::1]/shop?sslmode=require",
    ),
    ("host=db password={} user=app", "host=db password=*** user=app"),
    ("host=db password = '{}' user=app", "host=db password = *** user=app"),
    ("env: PGPASSWORD={} psql", "env: PGPASSWORD=*** psql"),
    ('could not parse "host=db sslpassword={}"', 'could not parse "host=db sslpassword=***"'),
]


@pytest.mark.parametrize(("template", "expected"), AS_A_SECRET)
@pytest.mark.parametrize(
    "password", [*COMMON, "pw", "7", "!!!!", "::", "p@ss word", "Sup3r-s3cret/p@ss:word"]
)
def test_a_password_where_a_password_stands_is_masked_whatever_it_is(
    password: str, template: str, expected: str
) -> None:
    # Even one too short to search for in free text ("pw", "7").
    raw = password if " " not in password or "'" in template else password.replace(" ", "%20")
    assert Redactor.of([password]).scrub(template.format(raw)) == expected


@pytest.mark.parametrize(
    ("password", "text", "expected"),
    [
        ("public", "bad password public", "bad password ***"),
        ("2025", "bad password 2025!", "bad password ***!"),
        ("2025", "the password was '2025'.", "the password was '***'."),
        ("users", 'auth failed: "users"', 'auth failed: "***"'),
        ("hunter22", "password hunter22. Retry", "password ***. Retry"),
        ("Sup3r-s3cret/p@ss:word", "(Sup3r-s3cret/p@ss:word)", "(***)"),
        ("!!!!", "it was !!!! then", "it was *** then"),
    ],
)
def test_a_password_standing_whole_in_free_text_is_masked(
    password: str, text: str, expected: str
) -> None:
    assert Redactor.of([password]).scrub(text) == expected


@pytest.mark.parametrize(
    ("password", "text"),
    [
        ("!!!!", "done!!!!!"),  # punctuation only: a longer run is not the password
        ("----", "|--------|--------|"),
        ("::::", "select a::::b"),
        ("2025", "rows 12025, 20250"),
    ],
)
def test_a_password_inside_a_longer_run_of_its_kind_is_left(password: str, text: str) -> None:
    assert Redactor.of([password]).scrub(text) == text


def test_pgpassword_common_word_leaves_the_run_summary_readable() -> None:
    summary = (
        "migration-rollback: dry run of 20251113000001_timeline passed\n"
        "  would archive table public.users -> migration_rollback_archive.users\n"
    )
    for password in ("public", "2025", "users"):
        assert Redactor.none().with_env({"PGPASSWORD": password}).scrub(summary) == summary


def test_combined_redactors_keep_every_rule() -> None:
    # The CLI guard merges the redactors of every URL it was given, then PGPASSWORD's.
    merged = Redactor.of(["Zq7xK9pw"]).combined(Redactor.of(["ab"]))
    assert merged.scrub("Zq7xK9pw postgresql://u:ab@h/d") == "*** postgresql://u:***@h/d"
