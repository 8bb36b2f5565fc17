"""What the redactor may change in a document the operator reads back: the values, never the
field names. A password that is also one of the result's field names ("committed",
"migrations", "backup") renamed that field to "***", and the operator then read a committed
rollback as not committed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from migration_rollback.conninfo import parse_database_url
from migration_rollback.jobresult import JobResult
from migration_rollback.redact import MASK, Redactor, spellings
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


def test_a_password_equal_to_the_database_name_leaves_the_identity_whole() -> None:
    """The identity is compared whole by the run it pins (--expect-database)."""
    identity = "7312345678901234567/postgres(oid 5)@0123456789abcdef"
    doc = {"database_identity": identity, "sha256": {"a.sql": "ab" * 32}, "note": "postgres"}
    scrubbed = Redactor.of(["postgres", "abababab"]).scrub_obj(doc)
    assert scrubbed == {**doc, "note": "***"}


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


@pytest.mark.parametrize(
    ("url", "echoed"),
    [
        ("postgresql://app:shop@127.0.0.1:5432/shop_prod", 'FATAL: database "shop_prod" does not'),
        ("postgresql://app:prod@prod-db.invalid:5432/shop", "could not resolve 'prod-db.invalid'"),
        ("postgresql://app:6789@127.0.0.1:56789/shop", 'server at "127.0.0.1", port 56789 failed'),
        (
            "host=a,shop-b port=1,5432 user=shopadmin password=shop dbname=x",
            "user shopadmin, shop-b",
        ),
    ],
    ids=["database-name", "host-name", "port", "user-and-second-host"],
)
def test_a_name_libpq_echoes_alone_is_shown_as_the_safe_form_shows_it(
    url: str, echoed: str
) -> None:
    # libpq's messages name the database, host, port and user alone: a password that is a piece
    # of one was masked there ('"***_prod"') while the safe form showed it whole, and the two
    # side by side told the password. The names stay whole; the password alone is still masked.
    target = parse_database_url(url)
    password = target.params["password"]
    assert target.redactor().scrub(f"{echoed}; password {password}") == f"{echoed}; password ***"
    assert MASK not in target.display.replace(f":{MASK}@", "")


# --- a password glued to other text ------------------------------------------------------------
# Sinks glue it to its neighbours: JSON and repr escapes (\" \n \t), ports, paths, markup, ANSI
# colours, localized quotes, a scrubbed json.dumps, a traceback, a log tail. A rule that masked
# only whole words let 22 of these through; every one must be masked. (password, text)
HUNTER = "hunter2"
GLUED = [
    (HUNTER, json.dumps({"error": 'missing "=" after "hunter2" in connection info string'})),
    (HUNTER, json.dumps({"error": "FATAL: x\nhunter2 rejected"})),
    (HUNTER, repr({"msg": "line1\nhunter2"})),
    (HUNTER, repr({"msg": "tab\thunter2"})),
    (HUNTER, "(the password is hunter2.)"),
    (HUNTER, "hunter2..."),
    (HUNTER, "host hunter2:5432"),
    (HUNTER, "**hunter2**"),
    (HUNTER, "|hunter2|"),
    (HUNTER, "\x1b[31mhunter2\x1b[0m"),
    (HUNTER, "«hunter2»"),
    (HUNTER, "“hunter2”"),
    (HUNTER, "/tmp/hunter2/x"),
    (HUNTER, "user/hunter2@db"),
    (HUNTER, "#hunter2"),
    (HUNTER, "hunter2%"),
    (HUNTER, "&hunter2&"),
    ("p@ss:w/rd#1", "postgresql://u:p%40ss%3Aw%2Frd%231@h/db"),
    ("p@ss:w/rd#1", "postgresql://u:p%40ss%3aw%2frd%231@h/db"),
    ("pässwörd", "x=p\\u00e4ssw\\u00f6rd,"),
    ("pass word", "postgresql://u:pass%20word@h/db"),
    ("pass word", "postgresql://u:pass+word@h/db"),
    ("secret!", "secret!!"),
    ("!secret", "x !!secret"),
    ("abc\\def", json.dumps("pw abc\\def end")),
    ("abc'def", repr("pw abc'def end")),
    ("abc'def\"", repr("pw abc'def\" end")),
    (HUNTER, "password=hunter2"),
    (HUNTER, 'password="hunter2"'),
    ('ab"cd', 'PGPASSWORD="ab\\"cd"'),
    (HUNTER, "PASSWORD 'hunter2'"),
    (HUNTER, "-hunter2-"),
    (HUNTER, "hunter2_"),
    (HUNTER, "\\hunter2"),
    (HUNTER, "hunter2\\"),
    (HUNTER, "'hunter2\\'"),
]


def leaked(password: str, text: str) -> bool:
    # Compared without case: %3a and %3A spell the same password.
    return any(form.lower() in text.lower() for form in {password} | spellings(password))


@pytest.mark.parametrize(("password", "text"), GLUED)
def test_a_password_glued_to_other_text_is_masked(password: str, text: str) -> None:
    assert leaked(password, text)  # the case holds the password, in a spelling we know
    scrubbed = Redactor.of([password]).scrub(text)
    assert MASK in scrubbed
    assert not leaked(password, scrubbed), scrubbed


@pytest.mark.parametrize(
    ("password", "text", "expected"),
    [
        ("pässwörd", "x=p\\u00E4ssw\\u00F6rd", "x=***"),
        ("p\udcffZq7x", "p\\xFFZq7x", "***"),
        ("a/b:c@d", "a%2fb%3Ac%40d", "***"),
    ],
)
def test_escapes_match_whatever_the_case_of_their_hex_digits(
    password: str, text: str, expected: str
) -> None:
    assert Redactor.of([password]).scrub(text) == expected


# --- a short password where a password stands ---------------------------------------------------
# Under MIN_SCRUB_LENGTH characters a password is not searched for in free text; where a
# password stands, whatever stands there is masked, however short. `{}` is the password.
PLACES = [
    ("postgresql://app:{}@db:5432/shop", "postgresql://app:***@db:5432/shop"),
    (
        "postgres://app:{}@[::1]/shop?sslmode=require",
        "postgres://app:***@[::1]/shop?sslmode=require",
    ),
    ("host=db password={} user=app", "host=db password=*** user=app"),
    ("host=db password = '{}' user=app", "host=db password = '***' user=app"),
    # libpq reads a bare value to whitespace, quotes and all: what closed the JSON string or
    # the shell's quotes may be the password's, so it goes with the mask.
    ('{{"dsn": "host=db password={}"}}', '{{"dsn": "host=db password=***'),
    ('env: PGPASSWORD="{}" psql', "env: PGPASSWORD=*** psql"),
    ("PGSSLPASSWORD={}", "PGSSLPASSWORD=***"),
    ("could not parse 'host=db sslpassword={}'", "could not parse 'host=db sslpassword=***"),
    ("host=db password = {} user=app", "host=db password = *** user=app"),  # libpq's spaces
    ("b64 0x3f9a postgresql://app:{}@db", "b64 0x3f9a postgresql://app:***@db"),
    ("two: a://u:{0}@h b://v:{0}@k", "two: a://u:***@h b://v:***@k"),
]


@pytest.mark.parametrize(("template", "expected"), PLACES)
@pytest.mark.parametrize("password", ["pw", "7", "a:b", "Zq7xK9pw"])
def test_a_password_where_a_password_stands_is_masked_however_short(
    password: str, template: str, expected: str
) -> None:
    assert Redactor.of([password]).scrub(template.format(password)) == expected.format()


def test_a_short_password_from_the_environment_is_masked_where_it_stands() -> None:
    redactor = Redactor.none().with_env({"PGPASSWORD": "pw"})
    assert redactor.scrub("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"


def test_a_short_password_in_free_text_is_left_as_before() -> None:
    # Masking every "pw" would mangle the output while protecting little (MIN_SCRUB_LENGTH).
    assert Redactor.of(["pw"]).scrub("pw pwd upgrade") == "pw pwd upgrade"


def test_a_redactor_given_no_secret_changes_nothing() -> None:
    text = "postgresql://u:x@h/db password=y PGPASSWORD=z"
    assert Redactor.none().scrub(text) == text
    assert Redactor.of([""]).scrub(text) == text


def test_combined_redactors_keep_every_rule() -> None:
    # The CLI guard merges the redactors of every URL it was given, then PGPASSWORD's.
    merged = Redactor.none().combined(Redactor.of(["Zq7xK9pw"])).combined(Redactor.of(["ab"]))
    assert merged.scrub("Zq7xK9pw postgresql://u:ab@h/d") == "*** postgresql://u:***@h/d"


def test_known_limit_a_common_word_password_is_masked_inside_names_too() -> None:
    # Documented (README, runbook): masking only whole words let glued passwords through.
    scrubbed = Redactor.of(["public"]).scrub("archived public.users")
    assert scrubbed == "archived ***.users"


def test_a_long_run_of_scheme_letters_is_read_once() -> None:
    # A base64 literal in a failed statement's text: every letter was tried as the start of a
    # URL scheme, each try scanning the run (a 60 kB line took seconds); now a scheme starts a
    # word. What is asserted is the result: the run is left, the URL after it is masked.
    run = "QUJD" * 50_000
    text = f"{run} postgresql://app:pw@db"
    assert Redactor.of(["pw"]).scrub(text) == f"{run} postgresql://app:***@db"
