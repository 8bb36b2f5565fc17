"""Connection strings are parsed as libpq parses them; nothing derived from one shows a secret."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.leaks import leaked, neutral

from migration_rollback.conninfo import (
    InvalidDatabaseUrlError,
    database_identity,
    parse_database_url,
)
from migration_rollback.redact import MASK, Redactor


@pytest.mark.parametrize(
    ("url", "password", "display"),
    [
        ("postgresql://app:Real#Pass@host/db", "Real#Pass", "postgresql://app:***@host/db"),
        ("postgresql://app:pa?ss@host/db", "pa?ss", "postgresql://app:***@host/db"),
        (
            "postgres://u:p%40ss%2Fx@h:5433/d?sslmode=require",
            "p@ss/x",
            "postgresql://u:***@h:5433/d",
        ),
        ("postgresql://h/db?user=u&password=a%26b", "a&b", "postgresql://u:***@h/db"),
        (
            "host=h user=u password='it\\'s a secret' dbname=d",
            "it's a secret",
            "postgresql://u:***@h/d",
        ),
        ("postgresql://u:pw@h1:1,h2:2/db", "pw", "postgresql://u:***@h1:1,h2:2/db"),
        ("postgresql://u:pw@[::1]:5432/db", "pw", "postgresql://u:***@[::1]:5432/db"),
        ("postgresql:///db?host=/run/pg", None, "postgresql:///db?host=/run/pg"),
        ("  postgresql://u:trailing-newline@h/db\n", "trailing-newline", "postgresql://u:***@h/db"),
    ],
)
def test_parsed_like_libpq_and_shown_without_the_password(
    url: str, password: str | None, display: str
) -> None:
    target = parse_database_url(url)
    assert target.display == display
    assert target.secrets == (frozenset({password}) if password else frozenset())
    if password and len(password) >= 4:
        assert not leaked(password, target.display + target.identity)


@pytest.mark.parametrize(
    ("url", "secret_part"),
    [
        # An unencoded '@' moves the rest of the password into the host libpq would resolve.
        ("postgresql://user:Frag@Leak@host/db", "Leak"),
        ("postgres://u:Frag@Leak@host:5432/db", "Leak"),
        # An unencoded '/' ends the host early: password pieces land in port and dbname.
        ("postgresql://app:pass/zqxj@host/db", "zqxj"),
        ("postgresql://app:1234/zqxj@host/db", "zqxj"),
        ("postgresql://u:ab@cd:efgh@h/db", "efgh"),
        ("postgresql://us@er:pwpwpw@h/db", "pwpw"),
        # libpq quotes these in its own parse errors.
        ("postgresql://u:pass%zzqxj@h/db", "zzqxj"),
        ("postgresql://u:pass%00zqxj@h/db", "zqxj"),
        ("host=h password=secret zqxjv dbname=x", "zqxjv"),
        ("host=h password='Zq7xK9", "Zq7xK9"),
        ("postgresql://u:Zq7xK9pw@[::1/db", "Zq7xK9pw"),
        ("postgresql://u:Zq7xK9pw@h/db?Zq7xK9pw=1", "Zq7xK9pw"),
        ("postgresql://u:pw@h/db?zqleak", "zqleak"),
        ("zqleak=1", "zqleak"),
        ("", ""),
    ],
)
def test_ambiguous_or_unparsable_strings_are_refused_without_echo(
    url: str, secret_part: str
) -> None:
    with pytest.raises(InvalidDatabaseUrlError) as caught:
        parse_database_url(url, where="Secret shop-db key url")
    message = str(caught.value)
    assert message.startswith("Secret shop-db key url: ")
    if secret_part:
        assert not leaked(secret_part, message), message


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("postgresql://u:pw@h/db?sslmode=requre", "its sslmode is not one libpq knows"),
        ("host=h password=pw sslmode=Zq7xK9", "its sslmode is not one libpq knows"),
        ("postgresql://h/db?sslmode=", "its sslmode is not one libpq knows"),
        ("postgresql://h/db?target_session_attrs=master", "its target_session_attrs is not"),
        ("postgresql://h/db?gssencmode=yes", "its gssencmode is not one libpq knows"),
        ("postgresql://h/db?channel_binding=on", "its channel_binding is not"),
        ("postgresql://h/db?ssl_min_protocol_version=TLS1.2", "is not a TLS version"),
        ("postgresql://h/db?connect_timeout=ten", "its connect_timeout is not a whole number"),
        ("host=h keepalives_idle=Zq7xK9", "its keepalives_idle is not a whole number"),
        # Unicode digits and spaces, and numbers past a C int: libpq 18 refuses them on connect
        ("postgresql://h/db?connect_timeout=%D9%A3", "its connect_timeout is not a whole"),
        ("postgresql://h/db?keepalives=%C2%A01", "its keepalives is not a whole number"),
        ("postgresql://h/db?connect_timeout=2147483648", "its connect_timeout is not a whole"),
        ("postgresql://h/db?tcp_user_timeout=-2147483649", "its tcp_user_timeout is not a"),
        ("postgresql://h:%D9%A3/db", "its port is not a number"),
        ("host=h port=0", "its port is not from 1 to 65535"),
        ("host=h port=5432,65536", "its port is not from 1 to 65535"),
        ("postgresql://h/db?require_auth=bogus", "its require_auth is not a list of"),
        ("postgresql://h/db?require_auth=SCRAM-SHA-256", "its require_auth is not a list of"),
        ("postgresql://h/db?require_auth=md5,", "its require_auth is not a list of"),
        ("postgresql://h/db?require_auth=!!md5", "its require_auth is not a list of"),
        ("postgresql://h/db?require_auth=md5,!password", "its require_auth mixes"),
        ("postgresql://h/db?require_auth=md5,md5", "its require_auth mixes"),
        ("postgresql://h/db?hostaddr=999.1.1.1", "its hostaddr is not an IP address"),
        ("host=db hostaddr=db.internal", "its hostaddr is not an IP address"),
        ("host=a,b hostaddr=10.0.0.1,Zq7xK9", "its hostaddr is not an IP address"),
    ],
)
def test_an_option_value_libpq_would_refuse_only_on_connect_is_refused_now(
    url: str, problem: str
) -> None:
    # Checked by libpq only when connecting: for the operator, after the app was scaled down.
    with pytest.raises(InvalidDatabaseUrlError) as caught:
        parse_database_url(url, where="Secret shop-db key url")
    assert str(caught.value).startswith("Secret shop-db key url: its ")
    assert problem in str(caught.value)
    assert "Zq7x" not in str(caught.value)  # the value itself is never quoted


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://h/db?sslmode=verify-full&target_session_attrs=read-write",
        "host=h sslmode=disable connect_timeout=10 keepalives=1",
        "postgresql://h/db?ssl_min_protocol_version=tlsv1.2&sslnegotiation=direct",
        "postgresql://h/db?connect_timeout=%2010%20&keepalives_idle=-2147483648",
        "postgresql://h/db?connect_timeout=%0B5%0A&tcp_user_timeout=2147483647",
        "host=h port=65535 require_auth=scram-sha-256,gss",
        "host=h require_auth=!password,!md5",
        "host=h require_auth=none,oauth",
        "host=h,h2 hostaddr=10.0.0.1,::1",
        "host=h hostaddr=fe80::1%eth0",
        "host=h,h2 hostaddr=,10.0.0.2 port=5432,5433",
    ],
)
def test_every_value_libpq_knows_passes(url: str) -> None:
    assert parse_database_url(url).display.startswith("postgresql://")


@pytest.mark.parametrize(
    "url",
    ["postgresql://u:pw\udcffZq7x@h/db", "host=h user=u password=pw\udcffZq7x"],
    ids=["url", "keywords"],
)
def test_bytes_that_are_not_utf8_are_refused_by_name(url: str) -> None:
    # As an environment variable (the Job's, from a Secret) gives them: the encoder failed
    # before libpq and the run ended as "internal error", without a result.
    with pytest.raises(InvalidDatabaseUrlError) as caught:
        parse_database_url(url, where="Secret shop-db key url")
    assert "holds bytes that are not UTF-8 text" in str(caught.value)
    assert "Zq7x" not in str(caught.value)


def test_identity_names_the_database_not_the_credentials() -> None:
    a = database_identity("postgresql://alice:one@DB.example:5432/shop")
    b = database_identity("host=db.example user=bob password=two dbname=shop")
    c = database_identity("postgresql://alice:one@db.example:5432/other")
    assert a == b != c
    assert len(a) == 16


def test_with_database_keeps_credentials_and_options() -> None:
    target = parse_database_url("postgresql://u:Real#Pass@h:5/db?sslmode=require")
    other = parse_database_url(target.with_database("scratch"))
    assert dict(other.params) == {
        "user": "u",
        "password": "Real#Pass",
        "host": "h",
        "port": "5",
        "dbname": "scratch",
        "sslmode": "require",
    }


def test_redactor_removes_every_spelling() -> None:
    secret = 'p@ss/w"rd é'
    redactor = parse_database_url(f"host=h user=u password='{secret}'").redactor()
    spellings = [secret, quote(secret, safe=""), json.dumps(secret)[1:-1], repr(secret)[1:-1]]
    text = " | ".join(spellings)
    scrubbed = redactor.scrub(text)
    assert scrubbed == " | ".join([MASK] * len(spellings))


def test_redactor_replaces_the_whole_string_with_its_safe_form() -> None:
    url = "postgresql://u:abc@h/db"  # a password too short to search for in free text
    redactor = parse_database_url(url).redactor()
    assert (
        redactor.scrub(f'missing "=" after "{url}"')
        == 'missing "=" after "postgresql://u:***@h/db"'
    )


def test_scrub_obj_walks_nested_data_and_the_environment() -> None:
    redactor = Redactor.none().with_env({"PGPASSWORD": "envsecret"})
    data = {"a": ["x envsecret", {"b": "envsecret"}], "n": 3, "t": ("envsecret",)}
    assert redactor.scrub_obj(data) == {"a": ["x ***", {"b": "***"}], "n": 3, "t": ["***"]}


# Passwords from the whole printable and non-ASCII range (no NUL: libpq strings end there).
PASSWORDS = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00"),
    min_size=8,
    max_size=24,
)


@settings(max_examples=300, deadline=None)
@given(password=PASSWORDS)
def test_any_password_in_either_form_parses_or_is_refused_without_leaking(password: str) -> None:
    baseline = " ".join(outputs(neutral(password)))
    for text in outputs(password):
        if text.startswith("the database URL: "):
            # A refusal is one of a fixed set of sentences: nothing of the input in it.
            assert text in REFUSALS, text
        else:
            assert not leaked(password, text, baseline), text
    assert parse_database_url(forms(password)[1]).secrets == {password}
    assert parse_database_url(forms(password)[2]).secrets == {password}


def refusal(url: str) -> str:
    with pytest.raises(InvalidDatabaseUrlError) as caught:
        parse_database_url(url)
    return str(caught.value)


# Every kind of refusal, made from neutral inputs.
REFUSALS = {
    refusal(url)
    for url in (
        "postgresql://u:a@b@h/d",
        "postgresql://u:a/b@h/d",
        "postgresql://u@h/a@b",
        "postgresql://u:a@h:x/d",
        "postgresql://u:a b@h/d",
        "postgresql://u:%zz@h/d",
        "postgresql://u:%00@h/d",
        "postgresql://u:%80@h/d",
        "postgresql://u:a@[::1/d",
        "postgresql://u:a@[]/d",
        "postgresql://u:a@[::1]x/d",  # a password holding ',[' ends the host early
        "postgresql://u:a@h/d?x",
        "postgresql://u:a@h/d?x=1=2",
        "postgresql://u:a@h/d?bogus=1",
        "host=h password='a",
        "host=h bogus=1",
        "host=h password=a b",
        "host=h password=a port=x",
        "",
    )
}


def forms(password: str) -> tuple[str, str, str]:
    """The raw URL, the percent-encoded URL and the keyword form with this password."""
    escaped = password.replace("\\", "\\\\").replace("'", "\\'")
    return (
        f"postgresql://app:{password}@db.example:5432/shop",
        f"postgresql://app:{quote(password, safe='')}@db.example:5432/shop",
        f"host=db.example user=app dbname=shop password='{escaped}'",
    )


def outputs(password: str) -> list[str]:
    """Everything derived from each form: the refusal, or display, identity and a scrubbed
    message quoting the string and the password."""
    texts = []
    for url in forms(password):
        try:
            target = parse_database_url(url)
        except InvalidDatabaseUrlError as exc:
            texts.append(str(exc))
            continue
        scrubbed = target.redactor().scrub(f"error near {url}: {password}")
        texts.append(f"{target.display} {target.identity} {target!r} {scrubbed}")
    return texts
