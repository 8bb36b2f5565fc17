"""A connection string pasted where a version, a duration or a migration belongs never shows
in an error, not even in part.

An error that quotes a piece cut from an argument (the first 40 characters, the last component
of a "path") defeats the scrubber: the piece is neither the password it knows nor in a password
place any more. Values are quoted whole or not at all, and a connection string not at all.
"""

from __future__ import annotations

import json

import pytest
from tests.leaks import leaked

from migration_rollback.cli.guard import pasted_argument_problem
from migration_rollback.redact import Redactor, clip, shown_input
from migration_rollback.runner.errors import PreconditionError
from migration_rollback.runner.options import (
    MigrationId,
    RunOptions,
    check_version,
    parse_duration,
    parse_table_name,
)

PASSWORD = "Zq7LongPassw0rdSecretThatIsLong99"
URL = f"postgresql://app:{PASSWORD}@db.internal:5432/shop"
SLASHED = "Zq7Head/TailOfThePassw0rd"
KEYWORD = f"host=db.internal user=app password='{SLASHED}' dbname=shop"
PASTED = [URL, KEYWORD, f"20250101000001_x {KEYWORD}", f"20250101000001_x {URL}"]


def message(call: object, *args: object) -> str:
    with pytest.raises((ValueError, PreconditionError)) as caught:
        call(*args)  # type: ignore[operator]
    return str(caught.value)


@pytest.mark.parametrize("pasted", PASTED)
def test_a_pasted_connection_string_is_never_quoted_in_part(pasted: str) -> None:
    # Before: the duration was cut to 40 characters (23 of the password's 33 printed), the
    # migration's "file name" was the password's tail.
    for secret in (PASSWORD, SLASHED):
        for text in (
            message(parse_duration, pasted),
            message(MigrationId.parse, pasted),
            message(check_version, "--to", pasted),
            message(parse_table_name, pasted),
        ):
            assert not leaked(secret, text), text
            assert "connection string" in text


def test_to_must_be_a_version_before_anything_connects() -> None:
    for bad in (URL, "2025-01-01", " 20250101", "v2", "", "\u0663"):
        with pytest.raises(ValueError, match="is not a version"):
            RunOptions(database_url="postgresql://db/x", to_version=bad)
    assert RunOptions(database_url="postgresql://db/x", to_version="0").to_version == "0"


def test_a_long_value_is_described_not_cut() -> None:
    # A raw password pasted as a duration: no scrubber knows it, so nothing of it may show.
    long_value = "x" * 40 + PASSWORD
    text = message(parse_duration, long_value)
    assert not leaked(PASSWORD, text)
    assert f"{len(long_value)}-character value" in text
    assert shown_input("5 parsecs") == "'5 parsecs'"  # a short plain value stays whole


def test_the_escaped_keyword_spelling_of_a_password_is_masked_whole() -> None:
    # A keyword string quotes the password with \' and \\; JSON or repr escapes those again.
    # The mask used to stop at the first escaped quote: "quoted\\' \\\\back\\\\ end" printed.
    password = "Zq9 'quoted' \\back\\ end"
    typed = password.replace("\\", "\\\\").replace("'", "\\'")
    keyword = f"host=db user=app password='{typed}' dbname=shop"
    redactor = Redactor.of([password])
    for shown in (json.dumps(keyword), repr(keyword), keyword):
        assert not leaked(password, redactor.scrub(shown), baseline=keyword.replace(typed, "")), (
            redactor.scrub(shown)
        )


@pytest.mark.parametrize(
    ("argv", "place"),
    [
        (["execute", "--to", URL], "the argument after --to"),
        (["execute", f"--lock-timeout={URL}"], "the value of --lock-timeout"),
        (["execute", KEYWORD, "--dry-run"], "argument 2"),
        (["apply", "--no-capture", f"1 {KEYWORD}"], "the argument after --no-capture"),
        (["captures", "prune", "--version", URL.upper()], "the argument after --version"),
    ],
)
def test_the_cli_refuses_a_connection_string_outside_the_url_options(
    argv: list[str], place: str
) -> None:
    problem = pasted_argument_problem(argv)
    assert problem is not None
    assert problem.startswith(place)
    assert not leaked(PASSWORD, problem)
    assert not leaked(SLASHED, problem)


@pytest.mark.parametrize(
    "argv",
    [
        ["execute", "--database-url", URL, "20250101000001_x"],
        ["execute", f"--database-url={KEYWORD}", "--to", "0"],
        ["validate", "--verify", "--shadow-url", URL],
        ["execute", "20250101000001_x", "--lock-timeout", "5s"],
    ],
)
def test_the_url_options_still_take_connection_strings(argv: list[str]) -> None:
    assert pasted_argument_problem(argv) is None


@pytest.mark.parametrize("password", [PASSWORD, "Zq9 'quoted' \\back\\ end", "äöü€😀Secret"])
def test_a_secret_cut_in_two_is_still_masked(password: str) -> None:
    # SQL quoted in a message is shortened where it is made (a statement's first line, a
    # summary), and scrubbed only where it is written: the piece against the cut is masked.
    text = f"ALTER ROLE app PASSWORD '{password}'; -- and more"
    redactor = Redactor.of([password])
    for limit in range(len(text) + 1):
        for shown in (clip(text, limit), json.dumps(clip(text, limit))):
            assert not leaked(password, redactor.scrub(shown)), (limit, redactor.scrub(shown))
        tail = "..." + text[len(text) - limit :]  # the end kept, the cut marked before it
        assert not leaked(password, redactor.scrub(tail)), (limit, redactor.scrub(tail))


def test_only_a_piece_against_a_cut_is_masked() -> None:
    # A common head or tail of a password elsewhere is text of its own: versions, statuses.
    redactor = Redactor.of(["Winter2025"])
    for text in ("20251113000001", "Wint", "done 2025", "Winter is coming"):
        assert redactor.scrub(text) == text
    assert redactor.scrub(clip("x Winter2025", 9)) == "x ***..."


def test_a_cloud_token_length_password_cut_in_two_is_masked() -> None:
    # 2000 characters: the head pattern once nested a group per character (RecursionError).
    token = "".join(chr(ord("a") + i % 26) + str(i % 9) for i in range(1000))
    redactor = Redactor.of([token])
    for limit in (30, 1000, 2010):
        shown = clip(f"postgresql://u:{token}@h/db", limit) + " ..." + token[limit:]
        assert not leaked(token, redactor.scrub(shown)), limit


@pytest.mark.parametrize(
    "pasted",
    [
        f"postgresql+psycopg2://app:{PASSWORD}@db/x",
        f"POSTGRES+asyncpg://app:{PASSWORD}@db/x",
        f"jdbc:mysql://app:{PASSWORD}@db/x",
        f"postgresql://app:{SLASHED}@db/x",  # a raw '/' in a pasted password
    ],
)
@pytest.mark.parametrize("flag", ["--to", "--lock-timeout", "--history-table"])
def test_any_url_with_credentials_is_refused_where_no_url_belongs(pasted: str, flag: str) -> None:
    # Only postgres(ql):// counted: SQLAlchemy's driver URLs were echoed with their password.
    problem = pasted_argument_problem(["execute", flag, pasted])
    assert problem is not None
    assert problem.startswith(f"the argument after {flag}")
    assert not leaked(PASSWORD, problem)
    assert not leaked(SLASHED, problem)


@pytest.mark.parametrize(
    ("url", "password"),
    [
        (f"postgresql+psycopg2://app:{PASSWORD}@db/x", PASSWORD),
        (f"postgresql://app:{SLASHED}@db/x", SLASHED),
        ("postgresql://app:a/b@c/d@db.internal:5432/x", "a/b@c/d"),
    ],
)
def test_a_url_password_place_is_masked_whole_even_holding_a_slash(url: str, password: str) -> None:
    scrubbed = Redactor.places_only().scrub(f"connecting to {url} failed")
    assert scrubbed.startswith("connecting to postgres")
    assert ":***@" in scrubbed
    assert not leaked(password, scrubbed)


def test_the_cli_masks_password_places_when_it_was_given_no_secret() -> None:
    from migration_rollback.cli.guard import secrets_redactor

    redactor = secrets_redactor(["execute", "--to", "0"], {})
    assert redactor.scrub("see postgresql://u:Zq7xPw@h/d") == "see postgresql://u:***@h/d"


@pytest.mark.parametrize(
    "argv",
    [
        ["execute", "--dir", "./migrations/set_password=true"],
        ["execute", "x", "--rollback-file", "/srv/sql/password=rotate.sql"],
        ["execute", "x", "--result-file", "/tmp/pgpassword=x.json"],
        ["execute", "x", "--result-file", "/tmp/my_sslpassword = y.json"],
    ],
)
def test_a_secret_keyword_inside_a_word_is_not_a_connection_string(argv: list[str]) -> None:
    assert pasted_argument_problem(argv) is None


def test_a_long_migration_path_is_quoted_whole() -> None:
    path = "supabase/migrations/archive/2025/q4/" + "long_folder_name/" * 4 + "not_a_migration.sql"
    assert f"migration {path!r} does not start" in message(MigrationId.parse, path)
