"""Connection strings parsed the way libpq parses them, and everything derived from the parts.

A database URL is the one secret this tool handles. Text-level redaction misses what libpq
accepts (a raw `#` or `?` in a password) and what it misreads (an unencoded `@` or `/` moves the
rest of the password into the host, port or database name, which libpq then quotes in its
errors). So every connection string goes through libpq's own parser first; the safe display
form, the database identity (the Lease key) and the list of secrets to scrub come from the
parsed parts, and a string whose parts are ambiguous is refused before any connection is made,
with a message that holds no part of it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from urllib.parse import quote

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from migration_rollback.conninfo_syntax import URL_PREFIXES as _URL_PREFIXES
from migration_rollback.conninfo_syntax import trimmed
from migration_rollback.conninfo_values import value_problem
from migration_rollback.errors import MigrationRollbackError
from migration_rollback.redact import SECRET_KEYWORDS, Redactor

_DEFAULT_PORT = "5432"


class InvalidDatabaseUrlError(MigrationRollbackError):
    """A connection string libpq cannot parse, or whose parts are ambiguous. The message names
    where the string came from and what is wrong, never any part of the string."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


_SHOWN_KEYWORDS = ("host", "hostaddr", "port", "dbname", "user")


@dataclass(frozen=True)
class DatabaseTarget:
    """A parsed connection string: what may be shown, what identifies the database, and the
    secrets every output must be scrubbed of."""

    dsn: str = field(repr=False)
    params: Mapping[str, str] = field(repr=False)
    display: str
    identity: str
    secrets: frozenset[str] = field(repr=False)
    # The password as typed in a URL (partly percent-encoded, say), where it differs.
    typed_secrets: frozenset[str] = field(default=frozenset(), repr=False)
    # What was ignored in the text as given (surrounding whitespace), said once, never the text.
    notes: tuple[str, ...] = ()
    notes_where: str = ""  # where the string came from, as the notes name it

    def redactor(self) -> Redactor:
        # The whole string, should it ever be echoed, shows as its safe form; the names it
        # holds stay whole where libpq's messages echo them, as the safe form shows them: a
        # password "shop" masked inside "shop_prod" there (`database "***_prod"`) next to the
        # safe form's "shop_prod" told what the password is.
        return Redactor.of(
            self.secrets | self.typed_secrets,
            masked={self.dsn: self.display},
            kept=[self.display, *self._shown_names()],
        )

    def _shown_names(self) -> list[str]:
        """The values of the connection the safe form shows (hosts, ports, database, user)."""
        return [
            part for key in _SHOWN_KEYWORDS for part in self.params.get(key, "").split(",") if part
        ]

    def notes_with(self, env: Mapping[str, str]) -> tuple[str, ...]:
        """The notes, and the name note for a password libpq takes from PGPASSWORD (used
        only when the string has none)."""
        password = env.get("PGPASSWORD", "")
        if "password" in self.params or not password:
            return self.notes
        where = self.notes_where or "the database URL"
        return self.notes + _name_note({**self.params, "password": password}, where)

    def with_database(self, dbname: str) -> str:
        """The same server and credentials, another database (a libpq keyword string)."""
        return make_conninfo(self.dsn, dbname=dbname)


def parse_database_url(text: str, *, where: str = "the database URL") -> DatabaseTarget:
    """Parse a URL or keyword=value string as libpq does; refuse what libpq would misread."""
    dsn = trimmed(text)  # by libpq's rules: `password=abc\ ` keeps its space
    if not dsn:
        raise InvalidDatabaseUrlError(where, "it is empty")
    if not _utf8(dsn):
        # Bytes Python keeps as lone surrogates (an environment variable, a Secret's value):
        # libpq would never see them, the encoder would fail first.
        raise InvalidDatabaseUrlError(
            where, "it holds bytes that are not UTF-8 text (in a URL, percent-encode them)"
        )
    try:
        parsed = conninfo_to_dict(dsn)
    except psycopg.Error as exc:
        raise InvalidDatabaseUrlError(where, _parse_problem(str(exc))) from None
    except UnicodeDecodeError:
        raise InvalidDatabaseUrlError(
            where, "a %-escape decodes to bytes that are not UTF-8 (write '%' itself as %25)"
        ) from None
    params = {key: str(value) for key, value in parsed.items() if value is not None}
    if dsn.startswith(_URL_PREFIXES):
        _check_url_parts(params, where)
    problem = value_problem(params)
    if problem is not None:
        raise InvalidDatabaseUrlError(where, problem)
    secrets = frozenset(v for k, v in params.items() if k in SECRET_KEYWORDS and v)
    typed = _typed_url_password(dsn)
    return DatabaseTarget(
        dsn=dsn,
        params=MappingProxyType(params),
        display=_display(params),
        identity=_identity(params),
        secrets=secrets,
        typed_secrets=frozenset({typed} - secrets if typed else ()),
        notes=_whitespace_note(text, dsn, where) + _name_note(params, where),
        notes_where=where,
    )


def _whitespace_note(text: str, dsn: str, where: str) -> tuple[str, ...]:
    """Surrounding whitespace (the trailing newline of `echo url > file`, a Secret made with
    --from-file) is never part of a URL: it is dropped, here only, and said so; `dsn` is then
    the one string every connection uses, so what is shown is what is connected to."""
    if text == dsn:
        return ()
    return (f"{where}: surrounding whitespace (a trailing newline?) was ignored",)


def _name_note(params: Mapping[str, str], where: str) -> tuple[str, ...]:
    """A password equal to the user, database or host name is shown wherever that name is (the
    safe display keeps the names whole: they are what tells one target from another). Said once,
    naming neither the value nor which name it equals (that would narrow the guess)."""
    password = params.get("password", "").casefold()
    names = [params.get(k, "") for k in ("user", "dbname", "host", "hostaddr")]
    shown = {n.casefold() for value in names for n in value.split(",")}
    if not password or password not in shown:
        return ()
    return (
        f"{where}: the password is the same as the user, database or host name, which every "
        "output shows: anyone who reads them can guess it; use a password that is no name",
    )


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _typed_url_password(dsn: str) -> str | None:
    """The password as it stands in a URL, by libpq's rule: the credentials end at the first
    '@' that comes before any '/', the user name at the first ':' in them."""
    if not dsn.startswith(_URL_PREFIXES):
        return None
    rest = dsn.split("://", 1)[1]
    at, slash = rest.find("@"), rest.find("/")
    if at < 0 or (0 <= slash < at):
        return None
    _user, colon, password = rest[:at].partition(":")
    return password if colon and password else None


def unparsed_secrets(text: str) -> frozenset[str]:
    """What may be a password in a string that did not parse: the whole string, and in a URL
    the credentials by libpq's rule (the first '@') and by a reader's (the last '@' before
    the host), whatever they hold."""
    text = trimmed(text)
    found = {text}
    typed = _typed_url_password(text)
    if typed:
        found.add(typed)
    if text.startswith(_URL_PREFIXES):
        rest = text.split("://", 1)[1]
        credentials = rest.rsplit("@", 1)[0] if "@" in rest else ""
        found.add(credentials.partition(":")[2])
    return frozenset(f for f in found if f)


def database_identity(text: str, *, where: str = "the database URL") -> str:
    return parse_database_url(text, where=where).identity


def _check_url_parts(params: Mapping[str, str], where: str) -> None:
    """libpq takes the first `@` as the end of the credentials and the first `/` as the end of
    the host: a password holding either spills into the host, port or database name, which
    libpq repeats in its errors. Hosts and database names never hold `@`, so one that does
    means an unencoded character in the credentials."""
    for key in ("host", "hostaddr", "dbname"):
        if "@" in params.get(key, ""):
            raise InvalidDatabaseUrlError(
                where,
                f"its {_PART_NAMES[key]} would contain '@': a user name or password holding "
                "'@', '/' or ':' must be percent-encoded in a URL ('@' as %40, '/' as %2F, "
                "':' as %3A), or use the keyword form (host=... password='...')",
            )


_PART_NAMES = {"host": "host", "hostaddr": "host address", "dbname": "database name"}


def _identity(params: Mapping[str, str]) -> str:
    """host:port/dbname, hashed: what two rollbacks must not share at once. No credentials."""
    host = (params.get("host") or params.get("hostaddr") or "localhost").lower()
    port = params.get("port") or _DEFAULT_PORT
    dbname = params.get("dbname") or params.get("user") or "postgres"
    return hashlib.sha256(f"{host}:{port}/{dbname}".encode()).hexdigest()[:16]


def _display(params: Mapping[str, str]) -> str:
    """A URL rebuilt from the parsed parts: user, host, port, database; the password as ***."""
    user = quote(params.get("user", ""), safe="")
    credentials = f"{user}:***@" if "password" in params else (f"{user}@" if user else "")
    host = params.get("host") or params.get("hostaddr") or ""
    socket = host.startswith("/")
    where = "" if socket else _hosts_with_ports(host, params.get("port", ""))
    path = "/" + quote(params.get("dbname", ""), safe="")
    query = f"?host={quote(host, safe='/')}" if socket else ""
    return f"postgresql://{credentials}{where}{path}{query}"


def _hosts_with_ports(hosts: str, ports: str) -> str:
    names = hosts.split(",")
    numbers = ports.split(",") if ports else []
    if len(numbers) == 1:
        numbers *= len(names)
    parts = []
    for index, name in enumerate(names):
        shown = f"[{name}]" if ":" in name else name
        port = numbers[index] if index < len(numbers) else ""
        parts.append(f"{shown}:{port}" if port else shown)
    return ",".join(parts)


# libpq's parse errors quote the offending text, which may be a piece of the password (even an
# "unknown option" may be one: `password=a b=c`). Each known message becomes a fixed sentence.
_PARSE_ERRORS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.DOTALL), meaning)
    for pattern, meaning in (
        (
            r'missing "=" after ".*" in connection info string',
            "a word without '=' (is a value with spaces unquoted? quote it: password='a b')",
        ),
        (r"unterminated quoted string in connection info string", "an unterminated quote"),
        (r'invalid connection option ".*"', "an unknown option name"),
        (r'invalid URI query parameter: ".*"', "an unknown query parameter"),
        (
            r'(missing|extra) key/value separator "=" in URI query parameter: ".*"',
            "a query parameter that is not key=value",
        ),
        (
            r'invalid percent-encoded token: ".*"',
            "an invalid %-escape (a '%' not followed by two hex digits; write '%' itself as %25)",
        ),
        (r'forbidden value %00 in percent-encoded value: ".*"', "a %00 escape"),
        (
            r"end of string reached when looking for matching \"\]\".*",
            "an unclosed '[' in the host",
        ),
        (r"IPv6 host address may not be empty in URI.*", "an empty [] host"),
        (
            r'unexpected spaces found in ".*", use percent-encoded spaces \(%20\) instead',
            "a space in the URL (write it as %20)",
        ),
        (
            r'unexpected character ".*" at position \d+ in URI.*',
            "an unexpected character after the host",
        ),
    )
)


def _parse_problem(message: str) -> str:
    text = message.strip()
    for pattern, meaning in _PARSE_ERRORS:
        if pattern.fullmatch(text):
            return f"libpq cannot parse it: {meaning}"
    return "libpq cannot parse it"
