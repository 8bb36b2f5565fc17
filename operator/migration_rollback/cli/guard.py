"""The secrets the CLI process was given, and the errors that must never show them.

A command's own outputs are scrubbed where they are written, but an error can quote an argument
before any command has parsed a URL: click's usage errors ("Got unexpected extra argument
(postgresql://app:pw@db/shop)", a URL pasted where the migration belongs), a command's error
naming the value it was given as a folder or a file, an internal error's message. Those texts
are scrubbed where they are made, before rich lays them out: a password wrapped across two
lines of a panel can no longer be recognised in the printed stream.

Scrubbing finds a password whole; a command that cuts a piece from an argument (the last
component of a "path", the first characters of a "duration") shows what it no longer finds.
So a connection string anywhere but as a URL option's value is refused before any command runs
(`pasted_argument_problem`), with a message that says where it stands and quotes none of it.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from typing import Any

from migration_rollback.conninfo_syntax import trimmed
from migration_rollback.redact import POSTGRES_SCHEME, Redactor, looks_like_conninfo
from migration_rollback.url_env import DATABASE_URL_ENV, URL_ENVS

URL_FLAGS = ("--database-url", "--shadow-url")
# Anywhere in an argument, in any case: ' postgresql://...', '--database-url postgresql://...',
# 'POSTGRESQL://...' and SQLAlchemy's 'postgresql+psycopg2://...' all hold a password a reader
# would take for one.
_SCHEME = re.compile(POSTGRES_SCHEME, re.IGNORECASE)


def pasted_conninfo(text: str) -> str | None:
    """The connection string held in a piece of text, with the scheme libpq reads (so libpq
    reads the parts: lower case, no driver), or None."""
    scheme = _SCHEME.search(text)
    if scheme is not None:
        return trimmed("postgresql://" + text[scheme.end() :])
    return trimmed(text) if looks_like_conninfo(text) else None


# Options read from the environment when not on the command line: their values are echoed in
# errors as an argument's are.
VALUE_ENVS = ("MIGRATION_ROLLBACK_DIR", "MIGRATION_ROLLBACK_PG_MAJOR")


def pasted_env_problem(env: Mapping[str, str]) -> str | None:
    """Why the run is refused when an option's environment variable holds a connection
    string, naming the variable and never quoting it."""
    for name in VALUE_ENVS:
        if looks_like_conninfo(env.get(name, "")):
            return (
                f"the environment variable {name} looks like a connection string (not shown); "
                f"give the database URL only with --database-url or {DATABASE_URL_ENV}"
            )
    return None


def pasted_argument_problem(argv: list[str]) -> str | None:
    """Why the command line is refused when a connection string stands anywhere but as the
    value of a URL option, naming where it stands and never quoting it.

    Every other argument is a version, a name, a path or a duration: echoed in an error (or
    stored in the audit log), a pasted URL's password would go with it, in pieces (the last
    component of a "path") no scrubber recognises."""
    for index, arg in enumerate(argv):
        if arg.partition("=")[0] in URL_FLAGS or (index and argv[index - 1] in URL_FLAGS):
            continue
        if looks_like_conninfo(arg):
            return (
                f"{_argument_place(argv, index)} looks like a connection string (not shown); "
                "give the database URL only with --database-url or the "
                f"{DATABASE_URL_ENV} environment variable"
            )
    return None


def _argument_place(argv: list[str], index: int) -> str:
    flag, equals, _value = argv[index].partition("=")
    if flag.startswith("--") and equals:
        return f"the value of {flag}"
    before = argv[index - 1] if index else ""
    if before.startswith("--") and "=" not in before:
        return f"the argument after {before}"
    return f"argument {index + 1}"


def given_urls(argv: list[str], env: Mapping[str, str]) -> list[str]:
    """Every connection string the process was given: by environment, as a URL option's value,
    or anywhere else on the command line where one was pasted by mistake."""
    found = [env[name] for name in URL_ENVS if env.get(name)]
    for index, arg in enumerate(argv):
        flag, equals, value = arg.partition("=")
        if flag in URL_FLAGS:
            found.append(value if equals else (argv[index + 1] if index + 1 < len(argv) else ""))
        pasted = pasted_conninfo(arg)
        if pasted is not None:
            found.extend([pasted, arg])
    return [url for url in found if trimmed(url)]


def secrets_redactor(argv: list[str], env: Mapping[str, str]) -> Redactor:
    """The passwords of every given URL (parsed as libpq does; an unparsable one's possible
    credentials and the whole string) and of PGPASSWORD."""
    urls = given_urls(argv, env)
    # Password places are masked whatever the run was given: a password typed where no
    # option takes a URL is nothing the process parsed.
    if not urls:  # psycopg (under conninfo) is imported only when there is a URL to read
        return Redactor.places_only().with_env(env)
    from migration_rollback.conninfo import (
        InvalidDatabaseUrlError,
        parse_database_url,
        unparsed_secrets,
    )

    merged = Redactor.places_only()
    for url in urls:
        try:
            redactor = parse_database_url(url).redactor()
        except InvalidDatabaseUrlError:
            redactor = Redactor.of(unparsed_secrets(url))
        merged = merged.combined(redactor)
    return merged.with_env(env)


def scrub_given(text: str) -> str:
    """`text` without any secret this process was given; when the check itself fails, nothing
    of `text` is shown."""
    try:
        return secrets_redactor(sys.argv[1:], os.environ).scrub(text)
    except Exception:
        return "(message withheld: it could not be checked for secrets)"


def scrub_click_error(exc: Any) -> None:
    """Scrub what a click error will print (its message, and the file name a FileError
    repeats) in place, before it is laid out. Any: typer's click classes are private."""
    exc.message = scrub_given(exc.message)
    for attribute in ("ui_filename", "filename"):
        value = getattr(exc, attribute, None)
        if isinstance(value, str):
            setattr(exc, attribute, scrub_given(value))
