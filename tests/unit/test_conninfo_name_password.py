"""A password equal to a name the safe display keeps whole is warned of once (finding A6).

The display keeps the user, database and host names (they tell targets apart), so such a
password is readable in every output: the note says so, naming neither the value nor which name.
"""

from __future__ import annotations

import pytest

from migration_rollback.conninfo import parse_database_url

NOTE = "the password is the same as the user, database or host name"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres:postgres@127.0.0.1:5432/postgres",  # Supabase's local default
        "postgresql://app:appdb@h/appdb",
        "postgresql://app:DbHost@dbhost/x",
        "postgresql://app:h2@h1,h2/x",
        "host=h user=u password=U dbname=d",  # case folded: the display shows `u`
        "postgresql://u:127.0.0.1@/db?hostaddr=127.0.0.1",
    ],
)
def test_a_password_equal_to_a_shown_name_is_noted_without_it(url: str) -> None:
    target = parse_database_url(url, where="--database-url")
    [note] = [n for n in target.notes if NOTE in n]
    assert note.startswith("--database-url: ")
    password = target.params["password"]
    assert password not in note.replace(NOTE, "").replace("--database-url", "")
    for name in ("user name is", "database name is", "host name is"):
        assert name not in note  # which name it equals would narrow the guess


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://app:s3cret@h/appdb",
        "postgresql://app@h/app",  # no password
        "postgresql://app:appd@h/appdb",  # a part of a name is masked, not shown
    ],
)
def test_other_passwords_are_not_noted(url: str) -> None:
    assert not [n for n in parse_database_url(url).notes if NOTE in n]


def test_a_pgpassword_equal_to_a_shown_name_is_noted_too() -> None:
    target = parse_database_url("postgresql://app@h/appdb", where="--database-url")
    [note] = [n for n in target.notes_with({"PGPASSWORD": "AppDb"}) if NOTE in n]
    assert note.startswith("--database-url: ")
    assert not [n for n in target.notes_with({"PGPASSWORD": "other"}) if NOTE in n]
    # The string's own password is the one libpq uses: PGPASSWORD is then not read.
    given = parse_database_url("postgresql://app:s3cret@h/appdb")
    assert not [n for n in given.notes_with({"PGPASSWORD": "appdb"}) if NOTE in n]
